"""Metric API calls for the idle sweep of 1,000 profiles in one region, side by side with the
one-call-per-profile approach (GetMetricStatistics per profile). Counted with botocore's own events.

    .venv/bin/pytest tests/integration/test_idle_metric_calls.py -s     # prints the figures
    .venv/bin/python -m tests.integration.test_idle_metric_calls         # the same, as a script
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.cloudwatch import (
    DAY_SECONDS,
    USAGE_DIMENSION,
    USAGE_METRIC,
    USAGE_NAMESPACE,
    USAGE_STATISTIC,
)
from bedrock_governance.idle.config import IdleConfig
from bedrock_governance.idle.job import IdleProfileJob
from bedrock_governance.idle.policy import USAGE_HISTORY_DAYS
from embedded_aws import embedded_aws
from embedded_aws.calls import count_api_calls
from tests.embedded_aws.strict_cloudwatch import strict_cloudwatch

PROFILES = 1000
REGION = "us-east-1"
NOW = datetime(2026, 11, 26, 6, 30, tzinfo=UTC)
HAIKU = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"


@dataclass(frozen=True)
class Measurement:
    profiles: int
    reader_calls: int  # GetMetricData calls of one whole idle sweep
    reader_other_metric_calls: int
    per_profile_calls: int  # GetMetricStatistics, one per profile
    sweep_calls: dict[str, int]  # every call of the sweep, by operation

    def table(self) -> str:
        return "\n".join(
            [
                f"CloudWatch API calls for {self.profiles:,} application profiles in one region:",
                f"  idle sweep (GetMetricData, 500 queries a call): {self.reader_calls:>5,}",
                f"  one GetMetricStatistics call per profile:       {self.per_profile_calls:>5,}",
                f"All calls of the sweep: {self.sweep_calls}",
            ]
        )


def measure(profiles: int = PROFILES) -> Measurement:
    with embedded_aws(), strict_cloudwatch():
        topic = boto3.client("sns", region_name=REGION).create_topic(Name="alerts")["TopicArn"]
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="records")
        # Profiles are created with one client (fast), all young: the sweep still reads the usage
        # of every one of them, and their age changes no call count. Datapoints do not change the
        # count either (one response holds 500 profiles x 180 days), and moto's GetMetricData scans
        # every datapoint once per day bucket, so none are seeded.
        bedrock = boto3.client("bedrock", region_name=REGION)
        profile_ids = [
            bedrock.create_inference_profile(
                inferenceProfileName=f"profile-{index:04d}",
                modelSource={"copyFrom": HAIKU},
                tags=[{"key": "Owner", "value": "ana@example.com"}],
            )["inferenceProfileArn"].rsplit("/", 1)[1]
            for index in range(profiles)
        ]
        config = IdleConfig.from_env(
            {"ALERT_TOPIC_ARN": topic, "GOVERNANCE_BUCKET": "records", "GOVERNED_REGIONS": REGION, "AWS_REGION": REGION}
        )
        with count_api_calls() as sweep:
            result = IdleProfileJob.from_config(config, ClientFactory()).run(NOW)
        assert result.facts.checked == profiles

        with count_api_calls() as naive:
            client = boto3.client("cloudwatch", region_name=REGION)
            for profile_id in profile_ids:
                client.get_metric_statistics(
                    Namespace=USAGE_NAMESPACE,
                    MetricName=USAGE_METRIC,
                    Dimensions=[{"Name": USAGE_DIMENSION, "Value": profile_id}],
                    StartTime=NOW - timedelta(days=USAGE_HISTORY_DAYS),
                    EndTime=NOW,
                    Period=DAY_SECONDS,
                    Statistics=[USAGE_STATISTIC],
                )
    return Measurement(
        profiles=profiles,
        reader_calls=sweep.count("cloudwatch", "GetMetricData", REGION),
        reader_other_metric_calls=sweep.count("cloudwatch") - sweep.count("cloudwatch", "GetMetricData"),
        per_profile_calls=naive.count("cloudwatch", "GetMetricStatistics", REGION),
        sweep_calls=sweep.by_operation(),
    )


def test_the_idle_sweep_reads_usage_in_ceil_n_over_500_calls() -> None:
    figures = measure()
    print(figures.table())
    assert figures.reader_calls == math.ceil(PROFILES / 500)
    assert figures.reader_other_metric_calls == 0
    assert figures.per_profile_calls == PROFILES


if __name__ == "__main__":
    import os

    from tests.conftest import FAKE_ENV

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, FAKE_ENV[name])
    print(measure().table())
