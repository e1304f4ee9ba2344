"""The usage reader's requests and its handling of GetMetricData answers (stubbed: no AWS at all)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from hypothesis import given
from hypothesis import strategies as st

from bedrock_governance.aws.cloudwatch import (
    MAX_HISTORY_DAYS,
    QUERIES_PER_CALL,
    InvocationReader,
    usage_metric,
    usage_window_end,
)
from bedrock_governance.core.errors import AccessDenied
from bedrock_governance.idle.policy import USAGE_HISTORY_DAYS

NOW = datetime(2026, 6, 15, 6, 42, 17, tzinfo=UTC)
# The window reaches the run time: rounded up to the next hour.
END = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)


def stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("cloudwatch", region_name="us-east-1")
    return client, Stubber(client)


def answer(results: list[dict[str, Any]], next_token: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
    if next_token:
        response["NextToken"] = next_token
    return response


def test_the_metric_is_bedrock_invocations_by_profile_id() -> None:
    assert usage_metric("93ksxhaxmgyd") == {
        "Namespace": "AWS/Bedrock",
        "MetricName": "Invocations",
        "Dimensions": [{"Name": "ModelId", "Value": "93ksxhaxmgyd"}],
    }


def test_the_window_reaches_now_and_ends_on_the_hour() -> None:
    assert usage_window_end(NOW) == END
    assert usage_window_end(END) == END
    with pytest.raises(ValueError, match="timezone"):
        usage_window_end(NOW.replace(tzinfo=None))


def test_the_history_fits_one_response_per_500_profiles() -> None:
    # 500 queries x one datapoint a day may not exceed the 100,800 datapoints of one response.
    assert QUERIES_PER_CALL * MAX_HISTORY_DAYS <= 100_800
    assert USAGE_HISTORY_DAYS <= MAX_HISTORY_DAYS


def test_one_request_asks_for_daily_sums_of_every_profile_with_valid_query_ids() -> None:
    client, stub = stubbed()
    ids = ["aaaaaaaaaaaa", "0bbbbbbbbbbb", "Cccccccccccc"]
    captured: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.cloudwatch.GetMetricData", lambda params, **_: captured.append(params)
    )
    # AWS answers every query, with empty lists when the metric has no datapoints.
    empty = [{"Id": f"p{i}", "StatusCode": "Complete", "Timestamps": [], "Values": []} for i in range(len(ids))]
    stub.add_response("get_metric_data", answer(empty), {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY})
    with stub:
        usage = InvocationReader(client).daily_invocations(ids, now=NOW, days=180)
    (request,) = captured
    assert request["EndTime"] == END
    assert request["StartTime"] == END - timedelta(days=180)
    queries = request["MetricDataQueries"]
    assert [q["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for q in queries] == ids
    for query in queries:
        assert re.fullmatch(r"[a-z][a-zA-Z0-9_]*", query["Id"])
        assert query["MetricStat"]["Period"] == 86_400
        assert query["MetricStat"]["Stat"] == "Sum"
        assert "Expression" not in query
    assert len({q["Id"] for q in queries}) == len(ids)
    # No datapoints at all means zero, and complete.
    assert all(history.daily == {} and history.complete for history in usage.values())
    assert set(usage) == set(ids)


@given(count=st.integers(min_value=0, max_value=1_600))
def test_n_profiles_cost_ceil_n_over_500_requests(count: int) -> None:
    client, stub = stubbed()
    sizes: list[int] = []
    client.meta.events.register(
        "provide-client-params.cloudwatch.GetMetricData",
        lambda params, **_: sizes.append(len(params["MetricDataQueries"])),
    )
    for _ in range(math.ceil(count / QUERIES_PER_CALL)):
        stub.add_response("get_metric_data", answer([]))
    with stub:
        usage = InvocationReader(client).daily_invocations([f"p{i:011d}" for i in range(count)], now=NOW, days=30)
    stub.assert_no_pending_responses()
    assert len(sizes) == math.ceil(count / QUERIES_PER_CALL)
    assert all(size <= QUERIES_PER_CALL for size in sizes)
    assert sum(sizes) == count == len(usage)


def test_pages_are_followed_and_merged_per_query() -> None:
    client, stub = stubbed()
    day = timedelta(days=1)
    first = answer(
        [
            {"Id": "p0", "Timestamps": [END - day], "Values": [4.0], "StatusCode": "PartialData"},
            {"Id": "p1", "Timestamps": [], "Values": [], "StatusCode": "Complete"},
        ],
        next_token="page-2",
    )
    second = answer([{"Id": "p0", "Timestamps": [END - 40 * day], "Values": [2.0], "StatusCode": "Complete"}])
    stub.add_response("get_metric_data", first)
    stub.add_response(
        "get_metric_data", second, {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "NextToken": "page-2"}
    )
    with stub:
        usage = InvocationReader(client).daily_invocations(["busy00000000", "idle00000000"], now=NOW, days=60)
    busy = usage["busy00000000"]
    assert busy.complete
    assert dict(busy.daily) == {END - day: 4.0, END - 40 * day: 2.0}
    assert busy.last_used == END - day
    assert busy.invocations_since(END - 30 * day) == 4.0
    assert usage["idle00000000"].daily == {}


def test_an_incomplete_answer_is_not_taken_for_zero() -> None:
    client, stub = stubbed()
    stub.add_response(
        "get_metric_data",
        answer([{"Id": "p0", "StatusCode": "InternalError", "Messages": [{"Code": "InternalError", "Value": "boom"}]}]),
    )
    with stub:
        usage = InvocationReader(client).daily_invocations(["aaaaaaaaaaaa"], now=NOW, days=30)
    assert not usage["aaaaaaaaaaaa"].complete
    assert "InternalError" in usage["aaaaaaaaaaaa"].problem


def test_an_access_denial_raises_the_projects_error() -> None:
    client, stub = stubbed()
    stub.add_client_error("get_metric_data", "AccessDenied", "no", http_status_code=403)
    with stub, pytest.raises(AccessDenied):
        InvocationReader(client).daily_invocations(["aaaaaaaaaaaa"], now=NOW, days=30)


def test_history_longer_than_one_response_allows_is_refused() -> None:
    client, _ = stubbed()
    with pytest.raises(ValueError, match="days"):
        InvocationReader(client).daily_invocations(["aaaaaaaaaaaa"], now=NOW, days=MAX_HISTORY_DAYS + 1)
