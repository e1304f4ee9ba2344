"""The organization steps against bad events and lost answers: refused in one line, never a silent
"nothing to do", never a write; the root-id custom resource always answers CloudFormation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.core.errors import GovernanceError
from bedrock_governance.core.events import RunTimeOutOfBounds
from bedrock_governance.org import custom_resource
from bedrock_governance.org.config import DEFAULT_MEMBER_ROLE_NAME, GovernanceScope, OrganizationConfig
from bedrock_governance.org.job import InvalidStepEvent, SweepLookup, TargetUnavailable, gathered
from bedrock_governance.org.policy import OrganizationJob, Target, TargetSweep
from bedrock_governance.org.steps import WorkerConfig, worker_step
from embedded_aws import embedded_aws

NOW = datetime.now(UTC).replace(microsecond=0)
BUCKET = "org-steps-runs"


@pytest.fixture
def clients() -> Iterator[ClientFactory]:
    with embedded_aws():
        boto3.client("organizations", region_name="us-east-1").create_organization(FeatureSet="ALL")
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield ClientFactory(boto3.session.Session(region_name="us-east-1"))


def config() -> WorkerConfig:
    return WorkerConfig(
        organization=OrganizationConfig(scope=GovernanceScope.ORGANIZATION),
        regions=("us-east-1",),
        bucket=BUCKET,
    )


def run_objects() -> list[str]:
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=BUCKET)
    return [item["Key"] for item in listed.get("Contents", [])]


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"step": "targets", "job": "cost-report", "scheduledTime": NOW.isoformat()}, "event field 'job' must be"),
        ({"step": "explode", "job": "tag-compliance", "scheduledTime": NOW.isoformat()}, "'step' must be targets"),
        (
            {"step": "sweep", "job": "idle-profiles", "scheduledTime": NOW.isoformat(), "target": "111111111111"},
            "'target' must be an object",
        ),
        (
            {
                "step": "sweep",
                "job": "idle-profiles",
                "scheduledTime": NOW.isoformat(),
                "target": {"account": "111111111111", "region": "ap-east-1"},
            },
            "is not governed",
        ),
        (
            {
                "step": "sweep",
                "job": "tag-compliance",
                "scheduledTime": NOW.isoformat(),
                "target": {"account": "*", "region": "us-east-1"},
            },
            "must be a 12-digit account id",
        ),
    ],
)
def test_a_malformed_step_event_is_refused_and_writes_nothing(
    clients: ClientFactory, event: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidStepEvent, match=problem):
        worker_step(event, config(), clients)
    assert run_objects() == []


def test_a_forged_run_time_is_refused_before_anything_is_listed(clients: ClientFactory) -> None:
    future = {"step": "targets", "job": "tag-compliance", "scheduledTime": (NOW + timedelta(days=30)).isoformat()}
    with pytest.raises(RunTimeOutOfBounds):
        worker_step(future, config(), clients)
    assert run_objects() == []


def test_an_aggregation_event_in_account_scope_is_refused(clients: ClientFactory) -> None:
    event = {"step": "aggregate", "job": "idle-profiles", "scheduledTime": NOW.isoformat(), "results": []}
    with pytest.raises(InvalidStepEvent, match="only in organization scope"):
        gathered(event, BUCKET, OrganizationJob.IDLE_PROFILES, clients, OrganizationConfig())


def test_an_aggregation_without_its_plan_fails_loudly(clients: ClientFactory) -> None:
    event = {"step": "aggregate", "job": "tag-compliance", "scheduledTime": NOW.isoformat(), "results": []}
    with pytest.raises(GovernanceError, match=r"plan .* is missing"):
        gathered(event, BUCKET, OrganizationJob.TAG_COMPLIANCE, clients, config().organization)


def test_a_target_without_an_answer_is_reported_never_taken_as_empty() -> None:
    answered = TargetSweep(Target("111111111111", "us-east-1"))
    lookup = SweepLookup([answered])
    assert lookup.inventory("111111111111/us-east-1") == []
    with pytest.raises(TargetUnavailable, match="returned no answer"):
        lookup.inventory("222222222222/us-east-1")


def test_the_targets_step_writes_the_plan_and_the_maps_items(clients: ClientFactory) -> None:
    organizations = boto3.client("organizations", region_name="us-east-1")
    member = organizations.create_account(AccountName="m", Email="m@example.com")["CreateAccountStatus"]["AccountId"]
    answer = worker_step(
        {"step": "targets", "job": "tag-compliance", "scheduledTime": NOW.isoformat()}, config(), clients
    )
    assert answer["maxConcurrency"] == config().organization.max_concurrent_accounts
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=BUCKET, Key=answer["targetsKey"])["Body"]
    items = json.loads(body.read())
    assert {"account": member, "region": "us-east-1"} in items
    # The same schedule time names the same files: a retried execution finds what the first one wrote.
    again = worker_step(
        {"step": "targets", "job": "tag-compliance", "scheduledTime": NOW.isoformat()}, config(), clients
    )
    assert again["targetsKey"] == answer["targetsKey"]


def test_the_sweep_step_answers_with_the_missing_role_instead_of_failing(clients: ClientFactory) -> None:
    organizations = boto3.client("organizations", region_name="us-east-1")
    member = organizations.create_account(AccountName="m", Email="m@example.com")["CreateAccountStatus"]["AccountId"]
    event = {
        "step": "sweep",
        "job": "idle-profiles",
        "scheduledTime": NOW.isoformat(),
        "target": {"account": member, "region": "us-east-1"},
    }
    answer = worker_step(event, config(), clients)
    assert answer["failure"]["errorCode"] == "AccessDenied"
    assert f"role {DEFAULT_MEMBER_ROLE_NAME} not found in {member}" in answer["failure"]["message"]


def test_the_root_custom_resource_answers_success_failure_and_delete(clients: ClientFactory) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    def send(url: str, body: bytes) -> None:
        sent.append((url, json.loads(body)))

    event = {"RequestType": "Create", "ResponseURL": "https://example.invalid/x", "RequestId": "r", "StackId": "s"}
    answer = custom_resource.handle(event, clients, send)
    root = boto3.client("organizations", region_name="us-east-1").list_roots()["Roots"][0]["Id"]
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"] == {"RootId": root}
    assert sent[-1][1] == answer
    deleted = custom_resource.handle({**event, "RequestType": "Delete", "PhysicalResourceId": "p"}, clients, send)
    assert (deleted["Status"], deleted["PhysicalResourceId"]) == ("SUCCESS", "p")


def test_the_root_custom_resource_reports_a_failure_to_cloudformation() -> None:
    with embedded_aws():  # no organization: ListRoots fails
        sent: list[dict[str, Any]] = []
        event = {"RequestType": "Create", "ResponseURL": "https://example.invalid/x", "RequestId": "r"}
        answer = custom_resource.handle(
            event,
            ClientFactory(boto3.session.Session(region_name="us-east-1")),
            lambda _u, b: sent.append(json.loads(b)),
        )
    assert answer["Status"] == "FAILED"
    assert answer["Reason"]
    assert sent == [answer]


def test_the_custom_resource_answers_only_at_a_pre_signed_address() -> None:
    with pytest.raises(GovernanceError, match="not a pre-signed URL"):
        custom_resource._put("file:///etc/passwd", b"{}")


def test_an_answer_cannot_speak_for_another_account() -> None:
    from bedrock_governance.core.models import InferenceProfile  # noqa: PLC0415

    def profile(account: str) -> InferenceProfile:
        arn = f"arn:aws:bedrock:us-east-1:{account}:application-inference-profile/abc{account[:3]}"
        return InferenceProfile(f"abc{account[:3]}", "p", arn, "us-east-1", (), "ACTIVE", NOW)

    forged = TargetSweep(Target("111111111111", "us-east-1"), (profile("111111111111"), profile("999999999999")))
    lookup = SweepLookup([forged])
    assert [p.arn for p in lookup.inventory("111111111111/us-east-1")] == [profile("111111111111").arn]
