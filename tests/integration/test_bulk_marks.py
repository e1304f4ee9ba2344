"""Idle marks go through the Tagging API in bulk: 20 profiles a call, failures per profile."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
import pytest

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.core.models import IDLE_SINCE_TAG
from bedrock_governance.idle.config import IdleConfig
from bedrock_governance.idle.job import IdleProfileJob, IdleRunResult
from bedrock_governance.idle.policy import IdleAction, OutcomeStatus
from embedded_aws import embedded_aws
from embedded_aws.bedrock import set_profile_created_at
from embedded_aws.calls import count_api_calls

if TYPE_CHECKING:
    from mypy_boto3_bedrock.type_defs import CreateInferenceProfileRequestTypeDef

ACCOUNT = "123456789012"
REGION = "us-east-1"
NOW = datetime(2026, 11, 26, 6, 30, tzinfo=UTC)
HAIKU = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"


@pytest.fixture
def topic() -> Iterator[str]:
    with embedded_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="records")
        yield boto3.client("sns", region_name=REGION).create_topic(Name="alerts")["TopicArn"]


def quiet_profiles(count: int, prefix: str = "quiet", **tags: str) -> list[str]:
    bedrock = boto3.client("bedrock", region_name=REGION)
    arns = []
    for index in range(count):
        request: CreateInferenceProfileRequestTypeDef = {
            "inferenceProfileName": f"{prefix}-{index:03d}",
            "modelSource": {"copyFrom": HAIKU},
        }
        if tags:
            request["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        arn = bedrock.create_inference_profile(**request)["inferenceProfileArn"]
        set_profile_created_at(ACCOUNT, REGION, arn, NOW - timedelta(days=300))
        arns.append(arn)
    return arns


def run(topic: str) -> IdleRunResult:
    env = {"ALERT_TOPIC_ARN": topic, "GOVERNANCE_BUCKET": "records", "AWS_REGION": REGION}
    # The breaker would hold an estate that is idle as a whole: this test is about the writes.
    env["MAX_NEWLY_IDLE_PERCENT"] = "100"
    return IdleProfileJob.from_config(IdleConfig.from_env(env), ClientFactory()).run(NOW)


def tags_of(arn: str) -> dict[str, str]:
    response = boto3.client("bedrock", region_name=REGION).list_tags_for_resource(resourceARN=arn)
    return {t["key"]: t["value"] for t in response["tags"]}


@pytest.mark.parametrize("count", [1, 20, 21, 95])
def test_n_marks_take_at_most_ceil_n_over_20_write_calls(topic: str, count: int) -> None:
    arns = quiet_profiles(count, Project="Chatbot")
    with count_api_calls() as calls:
        result = run(topic)
    assert len(result.facts.of(IdleAction.MARK, OutcomeStatus.DONE)) == count
    assert all(tags_of(arn)[IDLE_SINCE_TAG] == NOW.date().isoformat() for arn in arns)
    assert calls.count("resourcegroupstaggingapi", "TagResources") == math.ceil(count / 20)
    assert calls.count("bedrock", "TagResource") == 0
    # Returning traffic removes the marks the same way.
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    for arn in arns:
        cloudwatch.put_metric_data(
            Namespace="AWS/Bedrock",
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "ModelId", "Value": arn.rsplit("/", 1)[1]}],
                    "Timestamp": NOW - timedelta(hours=2),
                    "Value": 1,
                }
            ],
        )
    with count_api_calls() as calls:
        result = run(topic)
    assert len(result.facts.of(IdleAction.UNMARK, OutcomeStatus.DONE)) == count
    assert calls.count("resourcegroupstaggingapi", "UntagResources") == math.ceil(count / 20)
    assert all(IDLE_SINCE_TAG not in tags_of(arn) for arn in arns)


def test_a_profile_the_bulk_write_rejects_is_reported_and_the_others_are_marked(topic: str) -> None:
    arns = quiet_profiles(3, Project="Chatbot")
    (full,) = quiet_profiles(1, "full", **{f"k{i:02d}": "v" for i in range(50)})
    boto3.client("bedrock", region_name=REGION).delete_inference_profile(inferenceProfileIdentifier=arns[0])
    result = run(topic)
    status = {o.decision.profile.arn: o for o in result.outcomes if o.action is IdleAction.MARK}
    assert status[full].status is OutcomeStatus.FAILED
    assert "writing the idle mark failed" in status[full].detail
    assert all(status[arn].status is OutcomeStatus.DONE for arn in arns[1:])
