"""Cost Explorer paging that does not end: a repeated page token, or an answer without end.

Each Cost Explorer page is billed (USD 0.01), so a loop that follows a repeated token is an
unbounded bill and a run that never reports. The hooks below stop answering after
``RUNAWAY_CALLS`` calls, so code without the guard fails these tests instead of hanging them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.costexplorer import MAX_PAGES, CostExplorer
from bedrock_governance.budgets.config import BudgetConfig
from bedrock_governance.budgets.job import BudgetJob
from bedrock_governance.core.errors import PagingError
from bedrock_governance.cost.config import CostReportConfig
from bedrock_governance.cost.job import CostReportJob
from bedrock_governance.cost.policy import FlagKind, ReportStatus
from embedded_aws import embedded_aws
from embedded_aws.calls import count_api_calls
from embedded_aws.costexplorer import CostRow, seed_ledger, set_cost_allocation_tags
from embedded_aws.hooks import add_client_hook, remove_client_hook
from embedded_aws.inbox import sent_messages

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin
RUNAWAY_CALLS = 25
LOOP_TOKEN = "the-same-token-again"
TOKEN_KEYS = {
    "GetCostAndUsage": "NextPageToken",
    "GetDimensionValues": "NextPageToken",
    "ListCostAllocationTags": "NextToken",
}


class Runaway(Exception):
    """Raised by the hook when a loop keeps asking: the code under test did not stop."""


@contextmanager
def looping_token(operation: str) -> Iterator[list[dict[str, Any]]]:
    """Every ``operation`` answer of the embedded Cost Explorer carries the same page token, and a
    request with that token gets the first page again (as a broken service would)."""
    token_key = TOKEN_KEYS[operation]
    requests: list[dict[str, Any]] = []

    def hook(client: Any) -> None:
        if client.meta.service_model.service_name != "ce":
            return
        service_id = client.meta.service_model.service_id.hyphenize()

        def forget_token(params: dict[str, Any], **_: Any) -> None:
            requests.append(dict(params))
            if len(requests) > RUNAWAY_CALLS:
                raise Runaway(f"{operation} asked {len(requests)} times")
            params.pop(token_key, None)

        def repeat_token(parsed: dict[str, Any], **_: Any) -> None:
            parsed[token_key] = LOOP_TOKEN

        client.meta.events.register(f"before-parameter-build.{service_id}.{operation}", forget_token)
        client.meta.events.register(f"after-call.{service_id}.{operation}", repeat_token)

    add_client_hook(hook)
    try:
        yield requests
    finally:
        remove_client_hook(hook)


@pytest.fixture
def aws() -> Iterator[str]:
    with embedded_aws():
        topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="alerts")["TopicArn"]
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="governance-state")
        set_cost_allocation_tags({"Project": "Active"})
        seed_ledger([CostRow(date(2026, 11, 18), "Amazon Bedrock", Decimal("4.20"), tags={"Project": "chat"})])
        yield str(topic)


def cost_report(topic: str) -> CostReportJob:
    config = CostReportConfig.from_env(
        {"REPORT_TOPIC_ARN": topic, "ALERT_TOPIC_ARN": topic, "SCHEDULE_TIMEZONE": "Europe/Berlin"}
    )
    return CostReportJob.from_config(config, ClientFactory())


# --------------------------------------------------------------------------- the adapter


@pytest.mark.parametrize("operation", ["GetCostAndUsage", "GetDimensionValues", "ListCostAllocationTags"])
def test_a_repeated_page_token_stops_after_the_second_page_with_an_error_naming_the_operation(
    aws: str, operation: str
) -> None:
    with looping_token(operation) as requests:  # hooks the clients created inside the block
        ce = CostExplorer(boto3.client("ce", region_name="us-east-1"))
    calls: dict[str, Callable[[], object]] = {
        "GetCostAndUsage": lambda: ce.cost_and_usage(
            {
                "TimePeriod": {"Start": "2026-11-16", "End": "2026-11-23"},
                "Granularity": "DAILY",
                "Metrics": ["UnblendedCost"],
            }
        ),
        "GetDimensionValues": lambda: ce.bedrock_service_names(date(2026, 11, 16), date(2026, 11, 23)),
        "ListCostAllocationTags": lambda: ce.cost_allocation_tag_status(["Project"]),
    }
    with pytest.raises(PagingError) as raised:
        calls[operation]()
    assert len(requests) == 2  # the first page, and the one that repeated its token
    error = raised.value
    assert (error.service, error.operation, error.code) == ("ce", operation, "RepeatedPageToken")
    assert f"ce:{operation} failed with RepeatedPageToken" in str(error)


class EndlessCostExplorer:
    """A client whose every page has a new token: an answer that never ends."""

    def __init__(self) -> None:
        self.calls = 0

    def get_cost_and_usage(self, **params: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls > MAX_PAGES + RUNAWAY_CALLS:
            raise Runaway("no page cap")
        return {"ResultsByTime": [], "NextPageToken": f"token-{self.calls}"}


def test_an_answer_that_never_ends_is_cut_at_the_page_cap() -> None:
    client = EndlessCostExplorer()
    with pytest.raises(PagingError) as raised:
        CostExplorer(client).cost_and_usage({"Granularity": "DAILY"})  # type: ignore[arg-type]
    assert client.calls == MAX_PAGES
    assert raised.value.code == "TooManyPages"
    assert f"{MAX_PAGES} pages" in str(raised.value)


def test_a_token_cycle_the_botocore_paginator_misses_is_stopped() -> None:
    # botocore's own check only compares a token with the one just before: A, B, A, B... passes it.
    client = boto3.client("ce", region_name="us-east-1")
    page = {"CostAllocationTags": [{"TagKey": "Project", "Type": "UserDefined", "Status": "Active"}]}
    with Stubber(client) as stubber:
        for token in ("A", "B", "A"):  # a fourth request would find no answer queued, and fail
            stubber.add_response("list_cost_allocation_tags", {**page, "NextToken": token})
        with pytest.raises(PagingError) as raised:
            CostExplorer(client).cost_allocation_tag_status(["Project"])
        assert raised.value.code == "RepeatedPageToken"
        stubber.assert_no_pending_responses()  # all three pages were read, and no more asked for


def test_pages_that_end_are_all_read() -> None:
    client = boto3.client("ce", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_response(
            "get_dimension_values",
            {"DimensionValues": [{"Value": "Amazon Bedrock"}], "ReturnSize": 1, "TotalSize": 2, "NextPageToken": "p2"},
        )
        stubber.add_response(
            "get_dimension_values",
            {"DimensionValues": [{"Value": "Claude (Amazon Bedrock Edition)"}], "ReturnSize": 1, "TotalSize": 2},
        )
        names = CostExplorer(client).bedrock_service_names(date(2026, 1, 1), date(2026, 2, 1))
        stubber.assert_no_pending_responses()
    assert names == ("Amazon Bedrock", "Claude (Amazon Bedrock Edition)")


# --------------------------------------------------------------------------- the jobs


@pytest.mark.parametrize("operation", ["GetCostAndUsage", "GetDimensionValues"])
def test_the_cost_report_goes_out_and_names_the_paging_failure(aws: str, operation: str) -> None:
    with looping_token(operation), count_api_calls() as calls:
        result = cost_report(aws).run(NOW)
    assert calls.count("ce", operation) == 2
    assert result.report.status is ReportStatus.NO_FIGURES
    (flag,) = [f for f in result.report.flags if f.kind is FlagKind.SOURCE_FAILED]
    assert f"Cost Explorer {operation}: RepeatedPageToken" in flag.message
    (message,) = sent_messages(aws)
    assert f"{operation}: RepeatedPageToken" in message.text


def test_the_cost_report_names_a_paging_failure_of_the_tag_statuses(aws: str) -> None:
    with looping_token("ListCostAllocationTags"), count_api_calls() as calls:
        result = cost_report(aws).run(NOW)
    assert calls.count("ce", "ListCostAllocationTags") == 2
    assert result.report.status is ReportStatus.COMPLETE  # the figures came through
    assert any("ListCostAllocationTags: RepeatedPageToken" in problem.describe() for problem in result.report.problems)


@pytest.mark.parametrize("operation", ["GetDimensionValues", "ListCostAllocationTags"])
def test_the_budget_run_reports_a_paging_failure_and_finishes(aws: str, operation: str) -> None:
    config = BudgetConfig.from_env(
        {
            "ALERT_TOPIC_ARN": aws,
            "STATE_BUCKET": "governance-state",
            "GOVERNED_REGIONS": "us-east-1",
            "AWS_REGION": "us-east-1",
        }
    )
    with looping_token(operation), count_api_calls() as calls:
        result = BudgetJob.from_config(config, ClientFactory()).run(NOW)
    assert calls.count("ce", operation) == 2
    summary = json.dumps(result.summary())
    assert "RepeatedPageToken" in summary
    (message,) = sent_messages(aws)
    assert "RepeatedPageToken" in message.text
