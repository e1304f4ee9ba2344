"""Helpers shared by the fault and hardening tests (this module holds no tests).

Every scenario runs the real template, built by ``sam build``, deployed to the embedded AWS, and
invokes the handlers with the events their schedules send.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3
import botocore.endpoint
import botocore.retries.bucket
import pytest
import yaml

from embedded_aws.faults import Fault
from embedded_aws.hooks import add_client_hook, remove_client_hook
from embedded_aws.inbox import SentMessage, sent_messages

if TYPE_CHECKING:
    from stack_harness import DeployedStack

ROOT: Final = Path(__file__).resolve().parents[2]
TEMPLATE: Final = ROOT / "template.yaml"
ACCOUNT: Final = "123456789012"
REGION: Final = "us-east-1"
OTHER_REGION: Final = "eu-central-1"
REGIONS: Final = (REGION, OTHER_REGION)
FUNCTIONS: Final = ("TagComplianceFunction", "IdleProfileFunction", "CostReportFunction", "BudgetFunction")

# How each service says "slow down" (botocore names). All are retryable codes of botocore's policy.
THROTTLE_CODES: Final = {
    "bedrock": ("ThrottlingException", 429),
    "resourcegroupstaggingapi": ("ThrottledException", 400),
    "cloudwatch": ("Throttling", 400),
    "sns": ("Throttling", 400),
    "s3": ("SlowDown", 503),
    "ce": ("LimitExceededException", 400),
    "budgets": ("ThrottlingException", 400),
}
# The services each function calls (sts is called by none: the account comes from the topic ARN).
SERVICES_BY_FUNCTION: Final = {
    "TagComplianceFunction": ("bedrock", "resourcegroupstaggingapi", "sns", "s3"),
    "IdleProfileFunction": ("bedrock", "resourcegroupstaggingapi", "cloudwatch", "sns", "s3"),
    "CostReportFunction": ("ce", "budgets", "sns"),
    "BudgetFunction": ("bedrock", "resourcegroupstaggingapi", "ce", "budgets", "sns", "s3"),
}


def deploy(stack_name: str = "bedrock-governance", region: str = REGION, **parameters: str) -> DeployedStack:
    """The stack, deployed into the embedded AWS that is active (a test's own ``embedded_aws()``)."""
    from stack_harness import default_build_dir, deploy_stack  # noqa: PLC0415 - deployment tests only

    return deploy_stack(
        TEMPLATE,
        stack_name=stack_name,
        parameters=parameters,
        region=region,
        build_dir=default_build_dir(TEMPLATE),
    )


def run(stack: DeployedStack, function: str, when: datetime, **extra: Any) -> dict[str, Any]:
    """Invoke ``function`` with the event its schedule sends, at ``when``."""
    event = stack.scheduled_event(function) | extra
    summary: dict[str, Any] = stack.invoke(function, event, now=when)
    return summary


def alerts(stack: DeployedStack) -> list[SentMessage]:
    return sent_messages(stack.outputs["AlertTopicArn"])


def throttling_burst(service: str, times: int, region: str | None = None) -> Fault:
    code, status = THROTTLE_CODES[service]
    return Fault(service, "*", code, status, f"Rate exceeded ({service})", region=region, times=times)


@dataclass
class Backoff:
    """The retry delays botocore asked for (not slept: the tests would take minutes)."""

    delays: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.delays.append(seconds)


@contextmanager
def recorded_backoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[Backoff]:
    """botocore sleeps between retries in botocore.endpoint; record the delays instead."""
    backoff = Backoff()

    class _Time:
        sleep = staticmethod(backoff.sleep)

    def rate_limited(bucket: Any, amount: float) -> float:
        # Adaptive mode's client-side rate limiter would also wait on a real clock: recorded too.
        wait = float(original_sleep_amount(bucket, amount))
        if wait > 0:
            backoff.sleep(wait)
        return 0.0

    # A private method of botocore's rate limiter, absent from botocore-stubs.
    original_sleep_amount = botocore.retries.bucket.TokenBucket._sleep_amount  # type: ignore[attr-defined]
    monkeypatch.setattr(botocore.endpoint, "time", _Time)
    monkeypatch.setattr(botocore.retries.bucket.TokenBucket, "_sleep_amount", rate_limited)
    yield backoff


@contextmanager
def before_call(
    service: str, operation: str, action: Callable[[Mapping[str, Any]], None], times: int = 1
) -> Iterator[list[Mapping[str, Any]]]:
    """Run ``action(params)`` just before the first ``times`` calls of ``operation`` by any client
    created inside the block: a race between the function's read and its next call."""
    seen: list[Mapping[str, Any]] = []
    lock = threading.Lock()

    def hook(client: Any) -> None:
        if client.meta.service_model.service_name != service:
            return

        def handler(params: Mapping[str, Any], **_: Any) -> None:
            with lock:
                if len(seen) >= times:
                    return
                seen.append(params)
            action(params)

        # Fired with the call's own parameters, before anything is sent.
        service_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-parameter-build.{service_id}.{operation}", handler)

    add_client_hook(hook)
    try:
        yield seen
    finally:
        remove_client_hook(hook)


def bedrock(region: str = REGION) -> Any:
    return boto3.client("bedrock", region_name=region)


def haiku(region: str = REGION) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"


def create_profile(name: str, tags: Mapping[str, str] | None = None, *, region: str = REGION, **extra: Any) -> str:
    request: dict[str, Any] = {"inferenceProfileName": name, "modelSource": {"copyFrom": haiku(region)}} | extra
    if tags:
        request["tags"] = [{"key": key, "value": value} for key, value in tags.items()]
    return str(bedrock(region).create_inference_profile(**request)["inferenceProfileArn"])


def tags_of(arn: str) -> dict[str, str]:
    response = bedrock(arn.split(":")[3]).list_tags_for_resource(resourceARN=arn)
    return {tag["key"]: tag["value"] for tag in response["tags"]}


def exists(arn: str) -> bool:
    client = bedrock(arn.split(":")[3])
    try:
        client.get_inference_profile(inferenceProfileIdentifier=arn)
    except client.exceptions.ResourceNotFoundException:
        return False
    return True


def days_before(when: datetime, days: int) -> str:
    return (when - timedelta(days=days)).date().isoformat()


def log_records(output: str) -> list[dict[str, Any]]:
    """The structured log lines (Powertools writes one JSON object a line) in captured output."""
    records = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def scheduled_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form functions (!Ref, !Sub, ...) read as {"Ref": ...}."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in {"Ref", "Condition"} else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_TemplateLoader.add_multi_constructor("!", _short_form)


def load_template() -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass
    return document
