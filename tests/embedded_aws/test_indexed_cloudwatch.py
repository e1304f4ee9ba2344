"""The indexed CloudWatch answers exactly as moto does (namespace honoured, as AWS does), only faster.

Each case seeds generated datapoints (several namespaces, metrics, dimension sets in both orders,
units, single values, value lists and statistic sets, fractional values so that the order of
summation shows) and compares every answer of the indexed implementation with moto's own
(behind :func:`tests.embedded_aws.strict_cloudwatch.strict_cloudwatch` for GetMetricData, whose
only change is honouring the namespace).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends

from embedded_aws import indexed_cloudwatch as indexed
from embedded_aws.indexed_cloudwatch import indexed_cloudwatch
from tests.embedded_aws.strict_cloudwatch import strict_cloudwatch

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
BASE = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
NAMESPACES = ("AWS/Bedrock", "Custom/Bedrock")
METRICS = ("Invocations", "InvocationClientErrors")
MODELS = ("aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc")
UNITS = ("Count", "Seconds", None)
STATS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
PERIODS = (300, 3600, 86_400)


def dimensions(rng: random.Random) -> list[dict[str, str]]:
    model = {"Name": "ModelId", "Value": rng.choice(MODELS)}
    region = {"Name": "Region", "Value": rng.choice(("us", "eu"))}
    return rng.choice([[model], [model], [model, region], [region, model], []])


def datum(rng: random.Random) -> dict[str, Any]:
    # Many on the hour, so that window and period boundaries fall on datapoints.
    minutes = rng.choice((60 * rng.randint(0, 10 * 24), 5 * rng.randint(0, 10 * 24 * 12)))
    item: dict[str, Any] = {
        "MetricName": rng.choice(METRICS),
        "Dimensions": dimensions(rng),
        "Timestamp": BASE + timedelta(minutes=minutes, seconds=rng.choice((0, rng.randint(1, 59)))),
    }
    unit = rng.choice(UNITS)
    if unit:
        item["Unit"] = unit
    kind = rng.random()
    if kind < 0.7:
        # Large values of both signs make a sum depend on the order of its terms, as it does in moto.
        item["Value"] = rng.choice((round(rng.uniform(0, 100), 3), 1e16, -1e16, 0.5))
    elif kind < 0.85:
        item["Values"] = [round(rng.uniform(0, 10), 2) for _ in range(rng.randint(1, 3))]
        item["Counts"] = [float(rng.randint(1, 3)) for _ in item["Values"]]
    else:
        low, high = sorted((rng.uniform(0, 5), rng.uniform(5, 50)))
        item["StatisticValues"] = {"SampleCount": 3.0, "Sum": low + high + 7.5, "Minimum": low, "Maximum": high}
    return item


def seed(cw: Any, rng: random.Random, count: int) -> None:
    for namespace in NAMESPACES:
        batch = [datum(rng) for _ in range(count)]
        for start in range(0, len(batch), 500):
            cw.put_metric_data(Namespace=namespace, MetricData=batch[start : start + 500])


def window(rng: random.Random) -> tuple[datetime, datetime]:
    start = BASE + timedelta(hours=rng.randint(-12, 200))
    if rng.random() < 0.5:
        # Sub-second parts are dropped by CloudWatch (and moto); off-the-hour windows shift the buckets.
        start += timedelta(seconds=rng.randint(0, 3599), microseconds=rng.randint(0, 999))
    return start, start + timedelta(hours=rng.randint(1, 120), microseconds=rng.choice((0, rng.randint(1, 999))))


def metric_query(rng: random.Random, index: int) -> dict[str, Any]:
    stat: dict[str, Any] = {
        "Metric": {"Namespace": rng.choice(NAMESPACES), "MetricName": rng.choice(METRICS)},
        "Period": rng.choice(PERIODS),
        "Stat": rng.choice(STATS),
    }
    dims = dimensions(rng)
    if dims:
        stat["Metric"]["Dimensions"] = dims
    if rng.random() < 0.3:
        stat["Unit"] = rng.choice(("Count", "Seconds"))
    query: dict[str, Any] = {"Id": f"q{index}", "MetricStat": stat, "ReturnData": rng.random() < 0.85}
    if rng.random() < 0.2:
        query["Label"] = f"label {index}"
    return query


def answer(call: Callable[..., dict[str, Any]], **request: Any) -> Any:
    response = call(**request)
    response.pop("ResponseMetadata", None)
    return response


@pytest.fixture
def cw(aws: None) -> Any:
    return boto3.client("cloudwatch", region_name=REGION)


@pytest.mark.parametrize("case", range(6))
def test_get_metric_data_answers_as_moto_with_the_namespace_honoured(cw: Any, case: int) -> None:
    rng = random.Random(case)
    seed(cw, rng, 250)
    series_seen = 0
    for _ in range(2):
        for _ in range(5):
            start, end = window(rng)
            request = {
                "MetricDataQueries": [metric_query(rng, i) for i in range(rng.randint(1, 40))],
                "StartTime": start,
                "EndTime": end,
                "ScanBy": rng.choice(("TimestampAscending", "TimestampDescending")),
            }
            with strict_cloudwatch():
                expected = answer(cw.get_metric_data, **request)
            with indexed_cloudwatch():
                actual = answer(cw.get_metric_data, **request)
            assert actual == expected
            series_seen += sum(len(result["Values"]) > 1 for result in expected["MetricDataResults"])
        # Data put after the index was built is seen by the next request.
        seed(cw, rng, 50)
    assert series_seen, "the generated requests should find series of several datapoints"


@pytest.mark.parametrize("case", range(6))
def test_get_metric_statistics_answers_as_moto(cw: Any, case: int) -> None:
    rng = random.Random(100 + case)
    seed(cw, rng, 250)
    answered = 0
    for _ in range(25):
        start, end = window(rng)
        request: dict[str, Any] = {
            "Namespace": rng.choice(NAMESPACES),
            "MetricName": rng.choice(METRICS),
            "StartTime": start,
            "EndTime": end,
            "Period": rng.choice(PERIODS),
            "Statistics": rng.sample(STATS, rng.randint(1, len(STATS))),
        }
        dims = rng.choice([dimensions(rng), [{"Name": "ModelId", "Value": rng.choice(MODELS)}]])
        if dims:
            request["Dimensions"] = dims
        if rng.random() < 0.3:
            request["Unit"] = rng.choice(("Count", "Seconds"))
        expected = answer(cw.get_metric_statistics, **request)
        with indexed_cloudwatch():
            actual = answer(cw.get_metric_statistics, **request)
        assert actual == expected
        answered += bool(expected["Datapoints"])
    assert answered, "the generated requests should find datapoints"


def test_a_query_with_dimensions_sees_only_its_namespace(cw: Any) -> None:
    for namespace, value in (("AWS/Bedrock", 5.0), ("AWS/BedrockAgents", 1000.0)):
        cw.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "ModelId", "Value": MODELS[0]}],
                    "Timestamp": BASE + timedelta(hours=1),
                    "Value": value,
                }
            ],
        )
    query = {
        "Id": "p0",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Bedrock",
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "ModelId", "Value": MODELS[0]}],
            },
            "Period": 86_400,
            "Stat": "Sum",
        },
    }
    request = {"MetricDataQueries": [query], "StartTime": BASE, "EndTime": BASE + timedelta(days=1)}
    with indexed_cloudwatch():
        results = cw.get_metric_data(**request)["MetricDataResults"]
    assert results[0]["Values"] == [5.0]
    # moto alone mixes the namespaces; that is what the index does differently, as AWS does.
    assert cw.get_metric_data(**request)["MetricDataResults"][0]["Values"] == [1005.0]


def query_with_id(query_id: str) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": "AWS/Bedrock", "MetricName": "Invocations"},
            "Period": 60,
            "Stat": "Sum",
        },
    }


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([f"q{i}" for i in range(501)], "must not have a size greater than 500"),
        (["Q1"], "is not valid"),
        (["q1", "q1"], "are not unique"),
    ],
)
def test_the_request_limits_of_aws_are_enforced(cw: Any, ids: list[str], message: str) -> None:
    with indexed_cloudwatch(), pytest.raises(ClientError) as error:
        cw.get_metric_data(
            MetricDataQueries=[query_with_id(i) for i in ids], StartTime=BASE, EndTime=BASE + timedelta(hours=1)
        )
    assert message in str(error.value)


def test_metric_math_is_left_to_moto(cw: Any) -> None:
    request = {
        "MetricDataQueries": [query_with_id("m1"), {"Id": "e1", "Expression": "m1"}],
        "StartTime": BASE,
        "EndTime": BASE + timedelta(hours=1),
    }
    expected = answer(cw.get_metric_data, **request)
    with indexed_cloudwatch():
        assert answer(cw.get_metric_data, **request) == expected


def test_a_reset_backend_is_indexed_afresh(cw: Any) -> None:
    def put(value: float) -> None:
        cw.put_metric_data(
            Namespace="AWS/Bedrock",
            MetricData=[{"MetricName": "Invocations", "Timestamp": BASE + timedelta(minutes=5), "Value": value}],
        )

    def read() -> list[float]:
        request = {"MetricDataQueries": [query_with_id("q0")], "StartTime": BASE, "EndTime": BASE + timedelta(hours=1)}
        with indexed_cloudwatch():
            values: list[float] = cw.get_metric_data(**request)["MetricDataResults"][0]["Values"]
        return values

    put(1.0)
    put(2.0)
    assert read() == [3.0]
    cloudwatch_backends[ACCOUNT_ID][REGION].reset()
    put(7.0)
    assert read() == [7.0]


def test_moto_is_back_after_the_block(aws: None) -> None:
    with indexed_cloudwatch():
        with indexed_cloudwatch():
            assert CloudWatchBackend.get_metric_data is indexed.get_metric_data
        assert CloudWatchBackend.get_metric_data is indexed.get_metric_data
    assert CloudWatchBackend.get_metric_data is not indexed.get_metric_data
    assert CloudWatchBackend.get_metric_statistics is not indexed.get_metric_statistics
