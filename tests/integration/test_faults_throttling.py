"""Throttling bursts on every service each function calls: retried with backoff, nothing lost.

Each function runs twice on the same seeded estate, each time in an embedded AWS of its own: once
without faults, once with a burst of five throttling answers from every service it calls (bedrock,
tagging, cloudwatch, sns, s3, ce, budgets). The two runs must find exactly the same things.

Five throttles in a row need six attempts: botocore's defaults (legacy mode: 5 attempts, standard:
3) would give up, so this also checks that every client comes from the one ``ClientFactory`` with
``RETRY_CONFIG`` (adaptive mode, 8 attempts). The backoff delays are recorded, not slept.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from bedrock_governance.aws.clients import RETRY_CONFIG
from bedrock_governance.core.models import IDLE_SINCE_TAG
from embedded_aws import embedded_aws
from embedded_aws.faults import inject_faults
from embedded_aws.inbox import sent_messages
from embedded_aws.seed import ALLOWED_TAG_VALUES, EstateSpec, Usage, seed_estate
from tests.integration.support import (
    REGIONS,
    SERVICES_BY_FUNCTION,
    deploy,
    recorded_backoff,
    run,
    throttling_burst,
)

if TYPE_CHECKING:
    from stack_harness import DeployedStack

pytestmark = pytest.mark.deployment

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # a Monday
BURST = 5
PARAMETERS = {
    "GovernedRegions": ",".join(REGIONS),
    "AllowedTagValues": json.dumps(ALLOWED_TAG_VALUES),
    "CleanupDryRun": "false",
    "MaxDeletionsPerRun": "1000",
}


def by_name(document: Any, names: dict[str, str]) -> Any:
    """The document with profile ARNs and ids (and other generated names) replaced by fixed names:
    they differ between two deployments and seedings."""
    text = json.dumps(document, sort_keys=True, default=str)
    for generated, name in names.items():
        text = text.replace(generated, f"<{name}>").replace(generated.rsplit("/", 1)[-1], f"<{name}>")
    return json.loads(text)


def seed() -> dict[str, str]:
    estate = seed_estate(EstateSpec(profiles=24, regions=REGIONS, now=NOW, usage=True, costs=True))
    # Idle profiles were marked long ago, so this run deletes them: records to S3, deletes to Bedrock.
    for profile in estate.where(usage=Usage.IDLE):
        boto3.client("bedrock", region_name=profile.region).tag_resource(
            resourceARN=profile.arn,
            tags=[{"key": IDLE_SINCE_TAG, "value": (NOW - timedelta(days=40)).date().isoformat()}],
        )
    return {p.arn: p.name for p in estate.profiles}


def outcome(stack: DeployedStack, function: str, summary: dict[str, Any], arns: dict[str, str]) -> Any:
    """What a run found and said, independent of ids and message ids."""
    messages = [
        (m.subject, m.document)
        for output in ("AlertTopicArn", "ReportTopicArn")
        for m in sent_messages(stack.outputs[output])
    ]
    volatile = {"messageId", "alertMessageId", "deletionRecords"}
    kept = {key: value for key, value in summary.items() if key not in volatile}
    if function == "BudgetFunction":
        client = boto3.client("budgets", region_name="us-east-1")
        budgets = client.describe_budgets(AccountId="123456789012").get("Budgets", [])
        kept["budgets"] = sorted(
            (b["BudgetName"], b["BudgetLimit"]["Amount"], json.dumps(b.get("CostFilters"), sort_keys=True))
            for b in budgets
        )
    # The bucket's generated name differs between the two deployments too.
    names = arns | {stack.outputs["GovernanceBucketName"]: "bucket"}
    return by_name({"summary": kept, "messages": messages}, names)


def one_run(function: str, monkeypatch: pytest.MonkeyPatch, *, throttled: bool) -> tuple[Any, int, list[float]]:
    with embedded_aws(), recorded_backoff(monkeypatch) as backoff:
        stack = deploy(**PARAMETERS)
        arns = seed()
        faults = [throttling_burst(service, BURST) for service in SERVICES_BY_FUNCTION[function]] if throttled else []
        with inject_faults(*faults):
            summary = run(stack, function, NOW)
        for fault in faults:
            assert fault.fired == BURST, f"{fault.service} was not throttled {BURST} times"
        return outcome(stack, function, summary, arns), sum(f.fired for f in faults), backoff.delays


@pytest.mark.parametrize("function", list(SERVICES_BY_FUNCTION))
def test_a_throttling_burst_on_every_service_loses_nothing(function: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected, _, _ = one_run(function, monkeypatch, throttled=False)
    found, throttles, delays = one_run(function, monkeypatch, throttled=True)

    assert found == expected
    # Every throttled answer was retried after a backoff delay.
    assert throttles == BURST * len(SERVICES_BY_FUNCTION[function])
    assert len(delays) >= throttles
    assert sum(delays) > 0


def test_the_one_retry_configuration_outlasts_the_bursts_above() -> None:
    # botocore sets each Config option as an attribute at run time; botocore-stubs declares only __init__.
    retries = RETRY_CONFIG.retries  # type: ignore[attr-defined]
    assert retries is not None
    assert retries["mode"] == "adaptive"
    # botocore turns max_attempts (retries) into total_max_attempts (attempts) when a client is made.
    attempts = retries.get("total_max_attempts", retries.get("max_attempts", 0) + 1)
    assert attempts > BURST + 1
