"""The idle job against the embedded AWS (strict CloudWatch): decisions, records, restoring, call counts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from bedrock_governance.aws.bedrock import BedrockProfiles
from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.core.models import IDLE_SINCE_TAG
from bedrock_governance.idle.config import IdleConfig
from bedrock_governance.idle.job import IdleProfileJob, IdleRunResult
from bedrock_governance.idle.policy import IdleAction, OutcomeStatus
from bedrock_governance.idle.records import DeletionRecord, copy_source_for
from bedrock_governance.profiles import restore_profile
from embedded_aws import catalog, embedded_aws
from embedded_aws.bedrock import set_profile_created_at, set_profile_in_use
from embedded_aws.calls import count_api_calls
from embedded_aws.inbox import sent_messages
from embedded_aws.seed import EstateSpec, Usage, seed_estate
from tests.embedded_aws.strict_cloudwatch import strict_cloudwatch

ACCOUNT = "123456789012"
NOW = datetime(2026, 11, 26, 6, 30, tzinfo=UTC)
REGIONS = ("us-east-1", "eu-central-1", "ap-southeast-2")
BUCKET = "governance-records"


@pytest.fixture
def aws() -> Iterator[str]:
    with embedded_aws(), strict_cloudwatch():
        topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="alerts")["TopicArn"]
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield topic


def run(topic: str, *, regions: tuple[str, ...] = REGIONS, now: datetime = NOW, **settings: str) -> IdleRunResult:
    env = {
        "ALERT_TOPIC_ARN": topic,
        "GOVERNANCE_BUCKET": BUCKET,
        "GOVERNED_REGIONS": ",".join(regions),
        "AWS_REGION": "us-east-1",
    } | settings
    return IdleProfileJob.from_config(IdleConfig.from_env(env), ClientFactory()).run(now)


def test_a_sweep_of_a_seeded_estate_decides_by_usage(aws: str) -> None:
    estate = seed_estate(EstateSpec(profiles=60, now=NOW, costs=False))
    with count_api_calls() as calls:
        result = run(aws)

    expected = {
        Usage.BUSY: IdleAction.LEAVE,
        Usage.QUIET: IdleAction.LEAVE,
        Usage.IDLE: IdleAction.MARK,
        Usage.EXEMPT: IdleAction.EXEMPT,
        Usage.YOUNG: IdleAction.YOUNG,
    }
    actions = {o.decision.profile.arn: o.action for o in result.outcomes}
    assert actions == {p.arn: expected[p.usage] for p in estate.profiles}
    for region in REGIONS:
        assert calls.count("cloudwatch", "GetMetricData", region) == 1
    (message,) = sent_messages(aws)
    idle = estate.where(usage=Usage.IDLE)
    assert message.document is not None
    assert {p["arn"] for p in message.document["profiles"]} == {p.arn for p in idle}
    for p in idle:
        assert p.tags.get("Owner", "(no Owner tag)") in message.text
        # The seeded idle profiles were last used 45-50 days ago: inside the 180 days read.
        item = next(i for i in message.document["profiles"] if i["arn"] == p.arn)
        assert item["lastUse"] is not None
        assert 44 <= (NOW - datetime.fromisoformat(item["lastUse"]["from"])).days <= 51


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-1"])
def test_every_kind_of_source_is_recovered_and_recreates_the_same_routing(aws: str, region: str) -> None:
    bedrock = BedrockProfiles(boto3.client("bedrock", region_name=region))
    on_demand = [m.arn for m in catalog.foundation_models(region) if catalog.ON_DEMAND in m.inference_types]
    system = [p.arn(region, ACCOUNT) for p in catalog.system_profiles(region)]
    summaries = bedrock.list_system_profiles()
    assert on_demand
    assert system
    for index, source in enumerate(on_demand + system):
        original = bedrock.create_profile(name=f"original-{index}", copy_from=source, tags={})
        models = [m["modelArn"] for m in bedrock.get_profile(original.arn)["models"]]
        recovered = copy_source_for(models, region, summaries)
        assert recovered is not None, source
        copy = bedrock.create_profile(name=f"copy-{index}", copy_from=recovered.arn, tags={})
        assert sorted(m["modelArn"] for m in bedrock.get_profile(copy.arn)["models"]) == sorted(models), source


def create_idle(region: str, name: str, copy_from: str, *, marked_days_ago: int, **tags: str) -> str:
    client = boto3.client("bedrock", region_name=region)
    mark = {IDLE_SINCE_TAG: (NOW.date() - timedelta(days=marked_days_ago)).isoformat()}
    arn = client.create_inference_profile(
        inferenceProfileName=name,
        description="Support bot traffic",
        modelSource={"copyFrom": copy_from},
        tags=[{"key": k, "value": v} for k, v in (tags | mark).items()],
    )["inferenceProfileArn"]
    set_profile_created_at(ACCOUNT, region, arn, NOW - timedelta(days=200))
    return str(arn)


def test_a_deleted_profile_is_recreated_from_its_record_with_a_new_arn(aws: str) -> None:
    region = "eu-central-1"
    source = f"arn:aws:bedrock:{region}:{ACCOUNT}:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0"
    arn = create_idle(region, "support-bot", source, marked_days_ago=20, Owner="ana@example.com", Project="Support")
    client = boto3.client("bedrock", region_name=region)
    models = sorted(m["modelArn"] for m in client.get_inference_profile(inferenceProfileIdentifier=arn)["models"])

    result = run(aws, regions=(region,), CLEANUP_DRY_RUN="false")

    (outcome,) = result.outcomes
    assert (outcome.action, outcome.status) == (IdleAction.DELETE, OutcomeStatus.DONE)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_inference_profile(inferenceProfileIdentifier=arn)
    assert outcome.record_uri is not None
    key = outcome.record_uri.split(f"s3://{BUCKET}/", 1)[1]
    document = json.loads(boto3.client("s3", region_name="us-east-1").get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert document["status"] == "deleted"
    assert document["copyFrom"] == source
    assert document["oldArn"] == arn
    record = DeletionRecord.from_json(document)

    new_arn = restore_profile(record, BedrockProfiles(client))

    assert new_arn != arn
    restored = client.get_inference_profile(inferenceProfileIdentifier=new_arn)
    assert restored["inferenceProfileName"] == "support-bot"
    assert restored["description"] == "Support bot traffic"
    assert sorted(m["modelArn"] for m in restored["models"]) == models
    tags = {t["key"]: t["value"] for t in client.list_tags_for_resource(resourceARN=new_arn)["tags"]}
    assert tags == {"Owner": "ana@example.com", "Project": "Support"}


def test_a_profile_in_use_is_reported_and_the_others_are_deleted(aws: str) -> None:
    region = "us-east-1"
    haiku = f"arn:aws:bedrock:{region}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    in_use = create_idle(region, "in-use", haiku, marked_days_ago=30)
    free = create_idle(region, "free", haiku, marked_days_ago=30)
    set_profile_in_use(ACCOUNT, region, in_use)

    result = run(aws, regions=(region,), CLEANUP_DRY_RUN="false")

    status = {o.decision.profile.arn: o.status for o in result.outcomes}
    assert status == {in_use: OutcomeStatus.IN_USE, free: OutcomeStatus.DONE}
    problem = next(p for p in result.summary()["problems"] if p["arn"] == in_use)
    assert problem["errorCode"] == "ConflictException"
    (message,) = sent_messages(aws)
    assert "still in use, not deleted" in message.text
