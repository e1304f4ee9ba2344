"""The cost report survives any failure of a source it can do without.

AWS Budgets and the cost allocation tag statuses add to the report; its figures come from Cost
Explorer alone. A Budgets or ListCostAllocationTags read that is throttled past the retries, fails
with a 5xx or cannot be reached degrades the report, which says so; only Cost Explorer's own figures
failing fails the run (so the scheduled invocation is retried).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import boto3
import pytest

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.core.errors import ServiceUnavailable
from bedrock_governance.cost.config import CostReportConfig
from bedrock_governance.cost.job import CostReportJob, CostReportResult
from bedrock_governance.cost.policy import FlagKind, ReportStatus
from embedded_aws import embedded_aws
from embedded_aws.costexplorer import CostRow, seed_ledger, set_cost_allocation_tags
from embedded_aws.faults import Fault, inject_faults
from embedded_aws.inbox import sent_messages
from tests.integration.support import recorded_backoff

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday: the report covers 16 to 22 Nov
WEEK = date(2026, 11, 16)
REGION = "us-east-1"

# How an optional source fails when it is not a denial: throttled for good, 5xx, or a bare 503.
TRANSIENT = {
    "throttled": ("ThrottlingException", 400),
    "internal error": ("InternalErrorException", 500),
    "unavailable": ("ServiceUnavailable", 503),
}
OPTIONAL = {
    "budgets": ("budgets", "DescribeBudgets"),
    "tag statuses": ("ce", "ListCostAllocationTags"),
}


@pytest.fixture
def topics(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    with recorded_backoff(monkeypatch), embedded_aws():
        sns = boto3.client("sns", region_name=REGION)
        reports = sns.create_topic(Name="reports")["TopicArn"]
        alerts = sns.create_topic(Name="alerts")["TopicArn"]
        seed_ledger(
            CostRow(
                day=WEEK + timedelta(days=offset),
                service="Amazon Bedrock",
                unblended_cost=Decimal("10.25"),
                tags={"Project": "chatbot"},
            )
            for offset in range(7)
        )
        set_cost_allocation_tags({"Project": "Active"})
        yield reports, alerts


def run(reports: str, alerts: str) -> CostReportResult:
    config = CostReportConfig.from_env(
        {"REPORT_TOPIC_ARN": reports, "ALERT_TOPIC_ARN": alerts, "REQUIRED_TAG_KEYS": "Project", "AWS_REGION": REGION}
    )
    return CostReportJob.from_config(config, ClientFactory()).run(NOW)


@pytest.mark.parametrize("failure", TRANSIENT)
@pytest.mark.parametrize("source", OPTIONAL)
def test_an_optional_source_failing_degrades_the_report_and_says_so(
    topics: tuple[str, str], source: str, failure: str
) -> None:
    reports, alerts = topics
    service, operation = OPTIONAL[source]
    code, status = TRANSIENT[failure]
    fault = Fault(service, operation, code, status, f"{failure} ({operation})")
    with inject_faults(fault):
        result = run(reports, alerts)

    assert fault.fired > 1, "retried before giving up"
    assert result.report.status is ReportStatus.COMPLETE
    assert result.report.total.this_week == Decimal("71.75")
    (problem,) = result.report.problems
    assert (problem.service, problem.operation, problem.code) == (service, operation, code)
    assert not problem.access_denied
    assert result.report.flagged(FlagKind.SOURCE_FAILED)
    (report,) = sent_messages(reports)
    assert f"{operation}: {code}" in report.text
    assert report.document is not None
    assert [(p["operation"], p["errorCode"]) for p in report.document["problems"]] == [(operation, code)]
    assert result.summary()["problems"] == [problem.describe()]
    # Not a permission to grant: the operators get no access alert.
    assert sent_messages(alerts) == []


def test_both_optional_sources_failing_still_sends_the_figures(topics: tuple[str, str]) -> None:
    reports, alerts = topics
    with inject_faults(
        Fault("budgets", "DescribeBudgets", "ThrottlingException", 400, "Rate exceeded"),
        Fault("ce", "ListCostAllocationTags", "InternalServerException", 500, "internal error"),
    ):
        result = run(reports, alerts)
    assert result.report.total.this_week == Decimal("71.75")
    assert {p.operation for p in result.report.problems} == {"DescribeBudgets", "ListCostAllocationTags"}
    (report,) = sent_messages(reports)
    assert "$71.75" in report.text


def test_cost_explorer_itself_failing_still_fails_the_run(topics: tuple[str, str]) -> None:
    reports, alerts = topics
    fault = Fault("ce", "GetCostAndUsage", "InternalServerException", 500, "internal error")
    with inject_faults(fault), pytest.raises(ServiceUnavailable):
        run(reports, alerts)
    assert sent_messages(reports) == []
