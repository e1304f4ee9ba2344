"""GetMetricData expressions in the embedded CloudWatch: computed, or refused out loud.

moto answers any metric math, ``SEARCH`` or Metrics Insights expression with an empty ``Complete``
series, which code could read as "no traffic". The indexed CloudWatch (in-process, and behind the
local server) computes the one expression it can, a reference to another query's id, and refuses
the rest with a ``ValidationError`` that says the embedded AWS does not evaluate it.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from embedded_aws.indexed_cloudwatch import indexed_cloudwatch
from embedded_aws.server import EmbeddedServer, start_server

REGION = "us-east-1"
BASE = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
WINDOW = {"StartTime": BASE, "EndTime": BASE + timedelta(hours=3)}
PROFILE = "busybusybusy"


def metric(query_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Bedrock",
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "ModelId", "Value": PROFILE}],
            },
            "Period": 3600,
            "Stat": "Sum",
        },
        **extra,
    }


def put(cw: Any) -> None:
    cw.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "ModelId", "Value": PROFILE}],
                "Timestamp": BASE + timedelta(hours=hour, minutes=10),
                "Value": value,
            }
            for hour, value in ((0, 3.0), (2, 5.0))
        ],
    )


@pytest.fixture(scope="module")
def running() -> Iterator[EmbeddedServer]:
    with start_server() as server:
        yield server


@pytest.fixture(params=["in-process", "server"])
def cw(request: pytest.FixtureRequest, aws: None) -> Iterator[Any]:
    """A CloudWatch client of the indexed CloudWatch: in-process, or the local server's."""
    if request.param == "in-process":
        with indexed_cloudwatch():
            client = boto3.client("cloudwatch", region_name=REGION)
            put(client)
            yield client
        return
    server: EmbeddedServer = request.getfixturevalue("running")
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.request("POST", "/moto-api/reset")
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    client = boto3.client("cloudwatch", region_name=REGION, endpoint_url=server.endpoint_url)
    put(client)
    yield client


def refusal(cw: Any, *queries: dict[str, Any]) -> str:
    with pytest.raises(ClientError) as error:
        cw.get_metric_data(MetricDataQueries=list(queries), **WINDOW)
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(error.value.response["Error"]["Message"])


@pytest.mark.parametrize(
    ("expression", "kind"),
    [
        ("m1 * 2", "metric math"),
        ("SUM(METRICS())", "metric math"),
        ("FILL(m1, 0)", "metric math"),
        ("m9", "metric math"),  # no query has that id
        ("SEARCH('{AWS/Bedrock,ModelId} MetricName=\"Invocations\"', 'Sum', 3600)", "SEARCH expressions"),
        ('SELECT SUM(Invocations) FROM SCHEMA("AWS/Bedrock", ModelId)', "Metrics Insights queries"),
    ],
)
def test_expressions_it_cannot_compute_are_refused(cw: Any, expression: str, kind: str) -> None:
    message = refusal(cw, metric("m1"), {"Id": "e1", "Expression": expression, "Period": 3600})
    assert f"The embedded AWS does not evaluate {kind}" in message
    assert "Id e1" in message
    assert expression in message


def test_a_query_needs_exactly_one_of_metric_stat_and_expression(cw: Any) -> None:
    # moto answers this one itself, before the backend, with the message AWS gives.
    assert "MetricStat is required" in refusal(cw, metric("m1"), {"Id": "e1"})
    assert "Exactly one of" in refusal(cw, metric("m1", Expression="m1"))


def test_an_expression_naming_a_query_is_that_series_under_its_own_id(cw: Any) -> None:
    results = cw.get_metric_data(
        MetricDataQueries=[
            {"Id": "e1", "Expression": "m1", "Label": "calls"},
            {"Id": "e2", "Expression": " m1 ", "ReturnData": False},
            metric("m1", ReturnData=False),
        ],
        ScanBy="TimestampAscending",
        **WINDOW,
    )["MetricDataResults"]
    # In the order asked, ReturnData honoured for expressions too; m1 feeds e1 without being returned.
    assert [(r["Id"], r["Label"], r["StatusCode"]) for r in results] == [("e1", "calls", "Complete")]
    assert results[0]["Values"] == [3.0, 5.0]
    assert results[0]["Timestamps"] == [BASE, BASE + timedelta(hours=2)]


def test_metric_stat_queries_are_answered_as_before(cw: Any) -> None:
    results = cw.get_metric_data(MetricDataQueries=[metric("m1")], ScanBy="TimestampAscending", **WINDOW)[
        "MetricDataResults"
    ]
    assert [(r["Id"], r["Values"]) for r in results] == [("m1", [3.0, 5.0])]
