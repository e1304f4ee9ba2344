"""IdleProfileFunction as deployed: a timeline of daily runs over real template wiring.

The stack is deployed to the embedded AWS and its handler invoked in-process with the schedule's
own event (``scheduledTime`` filled with the run time). CloudWatch is the strict variant
(:mod:`tests.embedded_aws.strict_cloudwatch`) and every profile also has decoy datapoints under
other namespaces and metric names, so a function that read the wrong metric would see traffic.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from bedrock_governance.aws.bedrock import BedrockProfiles
from bedrock_governance.core.models import IDLE_SINCE_TAG, KEEP_TAG
from bedrock_governance.idle.records import DeletionRecord
from bedrock_governance.profiles import restore_profile
from embedded_aws.bedrock import set_profile_created_at
from embedded_aws.inbox import SentMessage, sent_messages
from stack_harness import deploy_stack
from tests.embedded_aws.strict_cloudwatch import strict_cloudwatch

if TYPE_CHECKING:
    from mypy_boto3_bedrock.type_defs import CreateInferenceProfileRequestTypeDef
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef

    from stack_harness import DeployedStack

pytestmark = pytest.mark.deployment

ACCOUNT = "123456789012"
REGION = "us-east-1"
OTHER_REGION = "eu-central-1"
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
FUNCTION = "IdleProfileFunction"
HAIKU = "arn:aws:bedrock:{region}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
EU_SONNET = f"arn:aws:bedrock:{OTHER_REGION}:{ACCOUNT}:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0"

# Bedrock stamps createdAt with the real clock: the runs happen in the days after today, so the
# profile created "now" is young throughout, and the others are backdated to look old.
T1 = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=6)
T2 = T1 + timedelta(days=3)
T3 = T1 + timedelta(days=14)  # the grace period (IdleGraceDays 14) ends on this day
T4 = T3 + timedelta(days=1)


@pytest.fixture
def strict(aws: None) -> Iterator[None]:
    with strict_cloudwatch():
        yield


def create(
    name: str,
    *,
    region: str = REGION,
    copy_from: str | None = None,
    old: bool = True,
    tagged: Mapping[str, str] | None = None,
    **keyword_tags: str,
) -> str:
    """A profile; ``tagged`` holds the tags whose keys are not Python names (``KEEP_TAG``)."""
    tags = {**(tagged or {}), **keyword_tags}
    client = boto3.client("bedrock", region_name=region)
    request: CreateInferenceProfileRequestTypeDef = {
        "inferenceProfileName": name,
        "description": f"{name} traffic",
        "modelSource": {"copyFrom": copy_from or HAIKU.format(region=region)},
    }
    if tags:
        request["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    arn = str(client.create_inference_profile(**request)["inferenceProfileArn"])
    if old:
        set_profile_created_at(ACCOUNT, region, arn, T1 - timedelta(days=200))
    return arn


def use(arn: str, at: datetime, count: float = 10) -> None:
    """Traffic through a profile as Bedrock reports it, plus decoys the function must not count."""
    region, profile_id = arn.split(":")[3], arn.rsplit("/", 1)[1]
    client = boto3.client("cloudwatch", region_name=region)
    dimensions: list[DimensionTypeDef] = [{"Name": "ModelId", "Value": profile_id}]
    client.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[{"MetricName": "Invocations", "Dimensions": dimensions, "Timestamp": at, "Value": count}],
    )


def decoys(arn: str, at: datetime) -> None:
    region, profile_id = arn.split(":")[3], arn.rsplit("/", 1)[1]
    client = boto3.client("cloudwatch", region_name=region)
    dimensions: list[DimensionTypeDef] = [{"Name": "ModelId", "Value": profile_id}]
    client.put_metric_data(
        Namespace="AWS/BedrockAgents",
        MetricData=[{"MetricName": "Invocations", "Dimensions": dimensions, "Timestamp": at, "Value": 99}],
    )
    client.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {"MetricName": name, "Dimensions": dimensions, "Timestamp": at, "Value": 99}
            for name in ("InvocationClientErrors", "InputTokenCount", "InvocationCount")
        ],
    )


def tags_of(arn: str) -> dict[str, str]:
    client = boto3.client("bedrock", region_name=arn.split(":")[3])
    return {t["key"]: t["value"] for t in client.list_tags_for_resource(resourceARN=arn)["tags"]}


def exists(arn: str) -> bool:
    client = boto3.client("bedrock", region_name=arn.split(":")[3])
    try:
        client.get_inference_profile(inferenceProfileIdentifier=arn)
    except client.exceptions.ResourceNotFoundException:
        return False
    return True


def run(stack: DeployedStack, when: datetime) -> dict[str, Any]:
    summary: dict[str, Any] = stack.invoke(FUNCTION, stack.scheduled_event(FUNCTION), now=when)
    return summary


def new_messages(stack: DeployedStack, seen: int) -> list[SentMessage]:
    return sent_messages(stack.outputs["AlertTopicArn"])[seen:]


def sections(message: SentMessage) -> dict[str, set[str]]:
    assert message.document is not None
    found: dict[str, set[str]] = {}
    for item in message.document["profiles"]:
        found.setdefault(item["section"], set()).add(item["arn"])
    return found


def test_idle_profiles_over_time(deploy: Callable[..., DeployedStack], strict: None) -> None:
    regions = f"{REGION},{OTHER_REGION}"
    stack = deploy(GovernedRegions=regions)
    busy = create("busy", Owner="bo@example.com")
    idle = create("idle", Owner="ana@example.com", Project="Chatbot")
    idle_eu = create("idle-eu", region=OTHER_REGION, copy_from=EU_SONNET, Owner="eve@example.com", Project="Search")
    comeback = create("comeback", Owner="carl@example.com")
    exempt = create("exempt", tagged={KEEP_TAG: "true"}, Owner="dee@example.com")
    young = create("young", old=False, Owner="yan@example.com")
    everyone = (busy, idle, idle_eu, comeback, exempt, young)
    use(idle, T1 - timedelta(days=45), 3)  # its last use, long before the idle window
    for run_time in (T1, T2, T3):
        use(busy, run_time - timedelta(days=1))
        for arn in everyone:
            decoys(arn, run_time - timedelta(hours=30))

    # Day 1: two idle profiles are marked and their owners warned; nothing else is touched.
    first = run(stack, T1)
    assert first["dryRun"] is True
    assert first["counts"]["newlyIdle"] == 3
    (warning,) = new_messages(stack, 0)
    assert sections(warning) == {"newlyIdle": {idle, idle_eu, comeback}}
    for arn in (idle, idle_eu, comeback):
        assert tags_of(arn)[IDLE_SINCE_TAG] == T1.date().isoformat()
    for arn in (busy, exempt, young):
        assert IDLE_SINCE_TAG not in tags_of(arn)
    assert "Owner: ana@example.com   Project: Chatbot" in warning.text
    assert f"eligible for deletion on {T1.date() + timedelta(days=14)}" in warning.text
    last_use = T1 - timedelta(days=45)
    assert f"Last use: between {last_use:%Y-%m-%d}" in warning.text
    assert "Last use: none since" in warning.text  # comeback: no traffic in the 180 days read

    # Day 4: traffic returns to one of them; its mark goes and the message says so.
    use(comeback, T2 - timedelta(days=1))
    second = run(stack, T2)
    (back,) = new_messages(stack, 1)
    assert sections(back) == {"unmarked": {comeback}, "stillIdle": {idle, idle_eu}}
    assert "used again" in back.text
    assert IDLE_SINCE_TAG not in tags_of(comeback)
    assert second["counts"]["unmarked"] == 1

    # Day 15: the grace period is over, but CleanupDryRun is on: reported, nothing deleted.
    third = run(stack, T3)
    (dry,) = new_messages(stack, 2)
    assert sections(dry) == {"wouldDelete": {idle, idle_eu}}
    assert sorted(third["wouldDelete"]) == sorted([idle, idle_eu])
    assert all(exists(arn) for arn in everyone)
    assert third["deletionRecords"] == []

    # The platform team turns deletion on: a second stack, with CleanupDryRun false and
    # MaxDeletionsPerRun 1, governing the same regions (deployed in the other region, as SAM names
    # schedules after their logical id). The profile marked longest (tie: region, then name) is
    # deleted after its record is written; the cap defers the other, loudly.
    cleanup = deploy_stack(
        TEMPLATE,
        stack_name="bedrock-governance-cleanup",
        parameters={"GovernedRegions": regions, "CleanupDryRun": "false", "MaxDeletionsPerRun": "1"},
        region=OTHER_REGION,
    )
    deleting = run(cleanup, T3)
    assert deleting["dryRun"] is False
    assert deleting["deleted"] == [idle_eu]  # eu-central-1 sorts before us-east-1
    assert deleting["deletionCapReached"] is True
    (loud,) = new_messages(cleanup, 0)
    assert loud.subject is not None
    assert loud.subject.startswith("[DELETION CAP REACHED]")
    assert sections(loud) == {"deleted": {idle_eu}, "deferred": {idle}}
    assert not exists(idle_eu)
    assert all(exists(arn) for arn in (busy, idle, comeback, exempt, young))
    (record_uri,) = deleting["deletionRecords"]
    assert record_uri in loud.text
    assert record_uri.startswith(f"s3://{cleanup.outputs['GovernanceBucketName']}/deletion-records/")

    # The record re-creates the profile, under a new ARN.
    bucket, key = record_uri.removeprefix("s3://").split("/", 1)
    body = boto3.client("s3", region_name=OTHER_REGION).get_object(Bucket=bucket, Key=key)["Body"].read()
    record = DeletionRecord.from_json(json.loads(body))
    assert (record.old_arn, record.copy_from, record.status) == (idle_eu, EU_SONNET, "deleted")
    assert record.idle_since == T1.date().isoformat()
    restored = restore_profile(record, BedrockProfiles(boto3.client("bedrock", region_name=OTHER_REGION)))
    assert restored != idle_eu
    assert tags_of(restored) == {"Owner": "eve@example.com", "Project": "Search"}

    # Next day the deferred one goes; the restored profile is young and stays.
    fourth = run(cleanup, T4)
    assert fourth["deleted"] == [idle]
    assert fourth["deletionCapReached"] is False
    assert exists(restored)
    assert all(exists(arn) for arn in (busy, comeback, exempt, young))
    assert IDLE_SINCE_TAG not in tags_of(restored)


def test_the_function_gets_its_settings_from_the_stack(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(IdleDays="45", IdleGraceDays="7", CleanupDryRun="false", MaxDeletionsPerRun="3")
    env = stack.function_environment(FUNCTION)
    assert env["IDLE_DAYS"] == "45"
    assert env["IDLE_GRACE_DAYS"] == "7"
    assert env["CLEANUP_DRY_RUN"] == "false"
    assert env["MAX_DELETIONS_PER_RUN"] == "3"
    assert env["GOVERNANCE_BUCKET"] == stack.outputs["GovernanceBucketName"]
    assert env["ALERT_TOPIC_ARN"] == stack.outputs["AlertTopicArn"]
    event = stack.scheduled_event(FUNCTION)
    assert event["scheduledTime"] == "<aws.scheduler.scheduled-time>"
    assert event["job"] == "idle-profiles"


def allowed(stack: DeployedStack, logical_id: str) -> list[dict[str, Any]]:
    """Allow statements of the function's own (inline) policies; SAM adds the managed logging policy."""
    statements: list[dict[str, Any]] = [
        s
        for policy in stack.role_policy_documents(logical_id)
        if policy.kind == "inline"
        for s in policy.statements
        if s.get("Effect") == "Allow"
    ]
    return statements


def actions_of(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_only_the_idle_function_may_delete_profiles_and_only_marked_ones(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(GovernedRegions="us-east-1,eu-central-1")
    for logical_id in stack.functions:
        deleting = [s for s in allowed(stack, logical_id) if "bedrock:DeleteInferenceProfile" in actions_of(s)]
        if logical_id != FUNCTION:
            assert deleting == [], f"{logical_id} may delete inference profiles"
            continue
        (statement,) = deleting
        assert actions_of(statement) == ["bedrock:DeleteInferenceProfile"]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert resources == [f"arn:aws:bedrock:*:{ACCOUNT}:application-inference-profile/*"]
        assert statement["Condition"]["Null"] == {f"aws:ResourceTag/{IDLE_SINCE_TAG}": "false"}
        assert set(statement["Condition"]["StringEquals"]["aws:RequestedRegion"]) >= {"us-east-1", "eu-central-1"}
    actions = {a for s in allowed(stack, FUNCTION) for a in actions_of(s)}
    assert "*" not in actions
    assert not [a for a in actions if a.endswith("*")]
    assert actions == {
        "bedrock:ListInferenceProfiles",
        "bedrock:GetInferenceProfile",
        "bedrock:ListTagsForResource",
        "bedrock:TagResource",
        "bedrock:UntagResource",
        "bedrock:DeleteInferenceProfile",
        "tag:GetResources",
        "tag:TagResources",  # marks, 20 profiles a call (bedrock:TagResource still applies per profile)
        "tag:UntagResources",
        "cloudwatch:GetMetricData",
        "sns:Publish",
        "s3:GetObject",  # a deletion record is read before it is written, never to downgrade it
        "s3:ListBucket",  # so that a record not yet written is a 404, not a 403
        "s3:PutObject",
    }


def test_an_on_demand_dry_run_cannot_delete(deploy: Callable[..., DeployedStack], strict: None) -> None:
    stack = deploy(CleanupDryRun="false")
    marked = create("marked", tagged={IDLE_SINCE_TAG: (T3.date() - timedelta(days=20)).isoformat()})
    on_demand = {"dryRun": True, "scheduledTime": T3.strftime("%Y-%m-%dT%H:%M:%SZ")}
    summary = stack.invoke(FUNCTION, on_demand, now=T3)
    assert summary["dryRun"] is True
    assert summary["wouldDelete"] == [marked]
    assert exists(marked)
    assert isinstance(date.fromisoformat(tags_of(marked)[IDLE_SINCE_TAG]), date)
