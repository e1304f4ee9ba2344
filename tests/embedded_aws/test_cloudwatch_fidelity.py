"""Where the embedded CloudWatch is laxer than AWS, and proof the usage reader does not lean on it.

moto 5.2.5 ignores the namespace of a GetMetricData query that has dimensions and evaluates no
metric math. The first tests pin those gaps down (they fail the day moto closes them, which is
the day :mod:`tests.embedded_aws.strict_cloudwatch` can go); the rest show that the reader asks
for exactly the Bedrock metric, uses no metric math, and counts nothing from another namespace or
another metric, both against plain moto and against the strict CloudWatch.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from bedrock_governance.aws import cloudwatch
from bedrock_governance.aws.cloudwatch import InvocationReader
from tests.embedded_aws.strict_cloudwatch import strict_cloudwatch

REGION = "us-east-1"
NOW = datetime(2026, 6, 15, 6, 30, tzinfo=UTC)
END = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)  # the reader reaches now: it rounds up to the next hour
BUSY = "busybusybusy"
QUIET = "quietquietqu"


@pytest.fixture
def cw(aws: None) -> Any:
    return boto3.client("cloudwatch", region_name=REGION)


@pytest.fixture
def strict(aws: None) -> Iterator[list[list[dict[str, Any]]]]:
    with strict_cloudwatch() as asked:
        yield asked


def put(cw: Any, namespace: str, metric: str, profile_id: str, *, at: datetime, value: float) -> None:
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "ModelId", "Value": profile_id}],
                "Timestamp": at,
                "Value": value,
                "Unit": "Count",
            }
        ],
    )


def seed_decoys(cw: Any, profile_id: str, when: datetime) -> None:
    """The same ModelId dimension under another namespace and under other metric names."""
    put(cw, "AWS/BedrockAgents", "Invocations", profile_id, at=when, value=1000)
    put(cw, "Custom/Bedrock", "Invocations", profile_id, at=when, value=2000)
    put(cw, "AWS/Bedrock", "InvocationClientErrors", profile_id, at=when, value=300)
    put(cw, "AWS/Bedrock", "InputTokenCount", profile_id, at=when, value=40_000)
    put(cw, "AWS/Bedrock", "InvocationCount", profile_id, at=when, value=50)  # the seed article's wrong name


def raw_sum(cw: Any, namespace: str, profile_id: str, **query: Any) -> list[float]:
    answer = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m0",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": "Invocations",
                        "Dimensions": [{"Name": "ModelId", "Value": profile_id}],
                    },
                    "Period": 86_400,
                    "Stat": "Sum",
                },
                "ReturnData": not query,
            },
            *([{"Id": "total", **query}] if query else []),
        ],
        StartTime=END - timedelta(days=30),
        EndTime=END,
    )
    return [value for result in answer["MetricDataResults"] for value in result["Values"]]


# --- the gaps ------------------------------------------------------------------------------------


def test_moto_ignores_the_namespace_when_dimensions_are_given(cw: Any) -> None:
    put(cw, "Custom/Elsewhere", "Invocations", QUIET, at=END - timedelta(days=2), value=7)
    assert raw_sum(cw, "AWS/Bedrock", QUIET) == [7], "moto now honours the namespace: strict_cloudwatch can go"


def test_moto_does_not_evaluate_metric_math(cw: Any) -> None:
    put(cw, "AWS/Bedrock", "Invocations", BUSY, at=END - timedelta(days=2), value=7)
    assert raw_sum(cw, "AWS/Bedrock", BUSY, Expression="SUM(METRICS())") == []


def test_the_strict_cloudwatch_honours_the_namespace_and_refuses_metric_math(cw: Any, strict: list[Any]) -> None:
    put(cw, "Custom/Elsewhere", "Invocations", QUIET, at=END - timedelta(days=2), value=7)
    put(cw, "AWS/Bedrock", "Invocations", BUSY, at=END - timedelta(days=2), value=5)
    assert raw_sum(cw, "AWS/Bedrock", QUIET) == []
    assert raw_sum(cw, "Custom/Elsewhere", QUIET) == [7]
    with pytest.raises(cw.exceptions.ClientError, match="metric math"):
        raw_sum(cw, "AWS/Bedrock", BUSY, Expression="SUM(METRICS())")


# --- the reader ----------------------------------------------------------------------------------


@pytest.mark.parametrize("strictness", ["plain moto", "strict"])
def test_the_reader_counts_only_bedrock_invocations_of_the_profile(cw: Any, strictness: str) -> None:
    day = timedelta(days=1)
    put(cw, "AWS/Bedrock", "Invocations", BUSY, at=END - 3 * day + timedelta(hours=2), value=4)
    put(cw, "AWS/Bedrock", "Invocations", BUSY, at=END - 3 * day + timedelta(hours=20), value=6)
    put(cw, "AWS/Bedrock", "Invocations", BUSY, at=END - 50 * day, value=1)
    seed_decoys(cw, BUSY, END - day)
    seed_decoys(cw, QUIET, END - day)

    def read() -> dict[str, Any]:
        return InvocationReader(cw).daily_invocations([BUSY, QUIET], now=NOW, days=180)

    if strictness == "strict":
        with strict_cloudwatch():
            usage = read()
        busy, quiet = usage[BUSY], usage[QUIET]
        assert quiet.daily == {}, "another namespace or metric was counted as Bedrock invocations"
        assert dict(busy.daily) == {END - 3 * day: 10.0, END - 50 * day: 1.0}
    else:
        usage = read()
        busy, quiet = usage[BUSY], usage[QUIET]
        # Plain moto leaks the other namespaces in (1000 + 2000 on the decoy day), never other metrics.
        assert dict(quiet.daily) == {END - day: 3000.0}
        assert busy.daily[END - 3 * day] == 10.0
        assert busy.last_used == END - day  # the leak even moves the last use
        return
    assert busy.last_used == END - 3 * day
    assert busy.invocations_since(END - 30 * day) == 10.0


def test_the_reader_asks_for_exactly_the_bedrock_metric_without_math(cw: Any, strict: list[Any]) -> None:
    InvocationReader(cw).daily_invocations([BUSY, QUIET], now=NOW, days=30)
    (queries,) = strict
    for query, profile_id in zip(queries, [BUSY, QUIET], strict=True):
        assert "Expression" not in query
        stat = query["MetricStat"]
        assert stat["Metric"]["Namespace"] == "AWS/Bedrock"
        assert stat["Metric"]["MetricName"] == "Invocations"
        assert stat["Metric"]["Dimensions"] == [{"Name": "ModelId", "Value": profile_id}]
        assert stat["Stat"] == "Sum"


def test_a_reader_with_the_wrong_namespace_is_caught(
    cw: Any, strict: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # What these tests are for: a mistake that plain moto would hide.
    put(cw, "AWS/Bedrock", "Invocations", BUSY, at=END - timedelta(days=2), value=5)
    monkeypatch.setattr(cloudwatch, "USAGE_NAMESPACE", "AWS/BedrockRuntime")
    usage = InvocationReader(cw).daily_invocations([BUSY], now=NOW, days=30)
    assert usage[BUSY].daily == {}, "the strict CloudWatch must not serve AWS/Bedrock data to another namespace"


def test_day_buckets_end_at_the_next_full_hour(cw: Any, strict: list[Any]) -> None:
    put(cw, "AWS/Bedrock", "Invocations", BUSY, at=END, value=100)  # after the window: not counted
    put(cw, "AWS/Bedrock", "Invocations", BUSY, at=END - timedelta(seconds=1), value=1)  # the last bucket
    put(cw, "AWS/Bedrock", "Invocations", BUSY, at=END - timedelta(days=30), value=2)  # the first bucket
    put(cw, "AWS/Bedrock", "Invocations", BUSY, at=END - timedelta(days=30, seconds=1), value=400)  # before it
    usage = InvocationReader(cw).daily_invocations([BUSY], now=NOW, days=30)[BUSY]
    assert dict(usage.daily) == {END - timedelta(days=1): 1.0, END - timedelta(days=30): 2.0}
    assert (usage.start, usage.end) == (END - timedelta(days=30), END)


def test_the_strict_cloudwatch_enforces_the_request_limits(cw: Any, strict: list[Any]) -> None:
    def query(query_id: str) -> dict[str, Any]:
        return {"Id": query_id, "MetricStat": {"Metric": cloudwatch.usage_metric(BUSY), "Period": 60, "Stat": "Sum"}}

    window = {"StartTime": END - timedelta(days=1), "EndTime": END}
    for queries in ([query("Upper")], [query("q1"), query("q1")], [query(f"q{i}") for i in range(501)]):
        with pytest.raises(cw.exceptions.ClientError):
            cw.get_metric_data(MetricDataQueries=queries, **window)
    assert cw.get_metric_data(MetricDataQueries=[query(f"q{i}") for i in range(500)], **window)
