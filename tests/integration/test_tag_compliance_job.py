"""The tag-compliance job against the embedded AWS: bulk reads, failures, size limits, re-alerting."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.core.notify import SNS_MAX_MESSAGE_BYTES
from bedrock_governance.tags.config import TagComplianceConfig
from bedrock_governance.tags.job import STATE_KEY, TagComplianceJob
from embedded_aws import embedded_aws
from embedded_aws.calls import count_api_calls
from embedded_aws.faults import Fault, inject_faults
from embedded_aws.inbox import sent_messages
from embedded_aws.seed import ALLOWED_TAG_VALUES, Compliance, EstateSpec, seed_estate

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
REGIONS = ("us-east-1", "eu-central-1", "ap-southeast-2")


@pytest.fixture
def aws() -> Iterator[tuple[str, str]]:
    with embedded_aws():
        topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="alerts")["TopicArn"]
        bucket = "governance-state"
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
        yield topic, bucket


def config(topic: str, bucket: str | None, regions: tuple[str, ...] = REGIONS) -> TagComplianceConfig:
    env = {
        "ALERT_TOPIC_ARN": topic,
        "GOVERNED_REGIONS": ",".join(regions),
        "ALLOWED_TAG_VALUES": json.dumps(ALLOWED_TAG_VALUES),
        "AWS_REGION": "us-east-1",
    }
    if bucket:
        env["STATE_BUCKET"] = bucket
    return TagComplianceConfig.from_env(env)


def run(topic: str, bucket: str | None, now: datetime = NOW, regions: tuple[str, ...] = REGIONS):  # type: ignore[no-untyped-def]
    return TagComplianceJob.from_config(config(topic, bucket, regions), ClientFactory()).run(now)


def test_finds_every_seeded_violation_and_nothing_else(aws: tuple[str, str]) -> None:
    topic, bucket = aws
    estate = seed_estate(EstateSpec(profiles=60, now=NOW, usage=False, costs=False))
    result = run(topic, bucket)
    expected = {p.arn for p in estate.profiles if p.compliance is not Compliance.COMPLIANT}
    assert {f.profile.arn for f in result.findings} == expected
    assert result.facts.checked == 60
    (message,) = sent_messages(topic)
    assert message.document is not None
    assert {f["arn"] for f in message.document["findings"]} == expected
    for profile in estate.where(compliance=Compliance.KEY_NEAR_MISS):
        assert "tag key 'project' should be 'Project'" in message.text
        assert profile.arn in message.text


def test_one_sweep_of_1000_profiles_reads_tags_in_bulk(aws: tuple[str, str]) -> None:
    topic, bucket = aws
    estate = seed_estate(EstateSpec(profiles=1000, regions=("us-east-1",), now=NOW, usage=False, costs=False))
    with count_api_calls() as calls:
        result = run(topic, bucket, regions=("us-east-1",))
    assert result.facts.checked == 1000
    assert calls.count("bedrock", "ListInferenceProfiles") <= math.ceil(1000 / 1000)
    assert calls.count("resourcegroupstaggingapi", "GetResources") <= math.ceil(1000 / 100)
    # Only the never-tagged profiles, which the Tagging API does not list, are read one by one.
    never_tagged = [p for p in estate.profiles if not p.tags]
    assert never_tagged
    assert calls.count("bedrock", "ListTagsForResource") == len(never_tagged)
    assert calls.count("sns", "Publish") == 1
    print("API calls for one sweep of 1,000 profiles in one region:", calls.by_operation())


def test_a_failing_region_is_reported_and_the_others_complete(aws: tuple[str, str]) -> None:
    topic, bucket = aws
    estate = seed_estate(EstateSpec(profiles=30, now=NOW, usage=False, costs=False))
    denied = Fault("bedrock", "ListInferenceProfiles", "AccessDeniedException", 403, "not authorized", "eu-central-1")
    with inject_faults(denied):
        result = run(topic, bucket)
    assert [f.region for f in result.failures] == ["eu-central-1"]
    assert result.per_region == {"us-east-1": 10, "ap-southeast-2": 10}
    expected = {
        p.arn for p in estate.profiles if p.region != "eu-central-1" and p.compliance is not Compliance.COMPLIANT
    }
    assert {f.profile.arn for f in result.findings} == expected
    (message,) = sent_messages(topic)
    assert "REGIONS NOT CHECKED" in message.text
    assert "eu-central-1: AccessDeniedException: not authorized" in message.text


def test_throttling_bursts_are_retried_without_losing_findings(aws: tuple[str, str]) -> None:
    topic, _ = aws
    seed_estate(EstateSpec(profiles=30, now=NOW, usage=False, costs=False))
    baseline = {f.profile.arn for f in run(topic, None).findings}
    burst = Fault("resourcegroupstaggingapi", "GetResources", "ThrottlingException", 400, times=4)
    with inject_faults(burst):
        result = run(topic, None)
    assert burst.fired == 4
    assert result.failures == ()
    assert {f.profile.arn for f in result.findings} == baseline


def test_unchanged_violations_do_not_alert_again_but_new_ones_do(aws: tuple[str, str]) -> None:
    topic, bucket = aws
    estate = seed_estate(EstateSpec(profiles=30, now=NOW, usage=False, costs=False))
    run(topic, bucket)
    second = run(topic, bucket, NOW + timedelta(days=1))
    assert second.message_id is None
    assert len(sent_messages(topic)) == 1

    compliant = estate.where(compliance=Compliance.COMPLIANT)[0]
    bedrock = boto3.client("bedrock", region_name=compliant.region)
    bedrock.untag_resource(resourceARN=compliant.arn, tagKeys=["Owner"])
    fixed = estate.where(compliance=Compliance.VALUE_NEAR_MISS)[0]
    bedrock_fixed = boto3.client("bedrock", region_name=fixed.region)
    bedrock_fixed.tag_resource(resourceARN=fixed.arn, tags=[{"key": "Environment", "value": fixed.environment}])
    third = run(topic, bucket, NOW + timedelta(days=2))
    assert [f.profile.arn for f in third.decision.new] == [compliant.arn]
    latest = sent_messages(topic)[-1]
    assert latest.document is not None
    assert [f["arn"] for f in latest.document["findings"]] == [compliant.arn]
    assert "1 new or changed" in (latest.subject or "")
    assert third.decision.resolved == (fixed.arn,)
    assert f"RESOLVED (1)\n  {fixed.name}  {fixed.arn}" in latest.text

    state = json.loads(
        boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=STATE_KEY)["Body"].read()
    )
    assert compliant.arn in state["fingerprints"]


def test_thousands_of_violations_fit_sns_and_the_full_list_goes_to_s3(aws: tuple[str, str]) -> None:
    topic, bucket = aws
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    source = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"
    long_value = "x" * 256
    for index in range(900):
        bedrock.create_inference_profile(
            inferenceProfileName=f"untidy-{index:05d}",
            modelSource={"copyFrom": source},
            tags=[{"key": "Project", "value": long_value}, {"key": "project", "value": long_value}],
        )
    result = run(topic, bucket, regions=("us-east-1",))
    assert len(result.findings) == 900
    (message,) = sent_messages(topic)
    assert result.notification is not None
    assert len(result.notification.sns_message().encode()) < SNS_MAX_MESSAGE_BYTES
    assert message.document is not None
    assert message.document["truncated"] is True
    shown = len(message.document["findings"])
    assert 0 < shown < 900
    assert message.document["omitted"] == 900 - shown
    assert f"and {900 - shown:,} more" in message.text
    report_uri = message.document["fullReport"]
    assert report_uri.startswith(f"s3://{bucket}/reports/tag-compliance/")
    key = report_uri.removeprefix(f"s3://{bucket}/")
    report = json.loads(boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert len(report["findings"]) == 900
