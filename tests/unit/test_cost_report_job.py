"""The cost-report job with fake adapters: what it asks for, and what it does when a source fails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bedrock_governance.core.errors import AccessDenied, ConfigError, DataUnavailable, Throttled
from bedrock_governance.core.models import BudgetSnapshot, budget_name_for
from bedrock_governance.core.notify import Notification
from bedrock_governance.cost.config import CostReportConfig
from bedrock_governance.cost.job import CostReportJob
from bedrock_governance.cost.policy import FlagKind, ReportStatus
from tests.unit.cost_report_factories import BEDROCK, HAIKU, LAST, NOW, PREVIOUS, Cost, budget, ce_results, day_of

REPORTS = "arn:aws:sns:us-east-1:123456789012:reports"
ALERTS = "arn:aws:sns:us-east-1:123456789012:alerts"
D = Decimal


@dataclass
class FakeCostExplorer:
    costs: list[Cost] = field(default_factory=list)
    names: tuple[str, ...] = (BEDROCK, HAIKU)
    statuses: dict[str, str] = field(default_factory=lambda: {"Project": "Active"})
    fail: dict[str, Exception] = field(default_factory=dict)
    requests: list[tuple[str, Any]] = field(default_factory=list)

    def _maybe_fail(self, operation: str) -> None:
        if operation in self.fail:
            raise self.fail[operation]

    def bedrock_service_names(self, start: date, end: date) -> tuple[str, ...]:
        self.requests.append(("GetDimensionValues", (start, end)))
        self._maybe_fail("GetDimensionValues")
        return self.names

    def cost_and_usage(self, request: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.requests.append(("GetCostAndUsage", request))
        self._maybe_fail("GetCostAndUsage")
        return ce_results(self.costs)

    def cost_allocation_tag_status(self, keys: Sequence[str]) -> dict[str, str]:
        self.requests.append(("ListCostAllocationTags", list(keys)))
        self._maybe_fail("ListCostAllocationTags")
        return {key: status for key, status in self.statuses.items() if key in keys}


@dataclass
class FakeBudgets:
    budgets: list[BudgetSnapshot] = field(default_factory=list)
    error: Exception | None = None

    def describe_budgets(self) -> list[BudgetSnapshot]:
        if self.error:
            raise self.error
        return self.budgets


@dataclass
class FakePublisher:
    sent: list[tuple[str, Notification]] = field(default_factory=list)

    def publish(self, topic_arn: str, notification: Notification) -> str:
        self.sent.append((topic_arn, notification))
        return f"message-{len(self.sent)}"

    def to(self, topic: str) -> list[Notification]:
        return [note for arn, note in self.sent if arn == topic]


@dataclass
class FakeStore:
    bucket: str = "reports-bucket"
    objects: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    error: Exception | None = None

    def put_bytes(self, key: str, body: bytes, content_type: str) -> str:
        if self.error:
            raise self.error
        self.objects[key] = (body, content_type)
        return f"s3://{self.bucket}/{key}"


def config(**env: str) -> CostReportConfig:
    values = {
        "REPORT_TOPIC_ARN": REPORTS,
        "ALERT_TOPIC_ARN": ALERTS,
        "SCHEDULE_TIMEZONE": "Europe/Berlin",
        "REQUIRED_TAG_KEYS": "Project,CostCenter",
    }
    return CostReportConfig.from_env(values | env)


def job(
    ce: FakeCostExplorer,
    budgets: FakeBudgets | None = None,
    store: FakeStore | None = None,
    publisher: FakePublisher | None = None,
    **env: str,
) -> CostReportJob:
    return CostReportJob(
        config(**env),
        cost_explorer=ce,
        budgets=budgets or FakeBudgets(),
        publisher=publisher,
        store=store,
    )


def estate() -> list[Cost]:
    return [
        Cost(day_of(LAST, 0), "chatbot", BEDROCK, D("40.10")),
        Cost(day_of(LAST, 3), "chatbot", HAIKU, D("2.05")),
        Cost(day_of(PREVIOUS, 0), "chatbot", BEDROCK, D("30")),
        Cost(day_of(LAST, 1), None, BEDROCK, D("5")),
    ]


def denied(service: str, operation: str) -> AccessDenied:
    return AccessDenied(service, operation, "AccessDeniedException", "User is not authorized to perform this")


def test_three_cost_explorer_requests_make_a_report_whatever_the_number_of_projects() -> None:
    ce = FakeCostExplorer(costs=estate())
    publisher = FakePublisher()
    result = job(ce, publisher=publisher).run(NOW)
    assert [operation for operation, _ in ce.requests] == [
        "GetDimensionValues",
        "GetCostAndUsage",
        "ListCostAllocationTags",
    ]
    request = ce.requests[1][1]
    assert request["Filter"]["Dimensions"]["Values"] == [BEDROCK, HAIKU]
    assert request["GroupBy"][0] == {"Type": "TAG", "Key": "Project"}
    assert ce.requests[2][1] == ["Project", "CostCenter"]
    (report_note,) = publisher.to(REPORTS)
    assert publisher.to(ALERTS) == []
    assert report_note.subject.startswith("Bedrock spend 16-22 Nov 2026: $47.15")
    assert result.summary()["total"] == "47.15"
    assert result.summary()["messageId"] == "message-1"


def test_the_grouping_key_is_a_setting() -> None:
    ce = FakeCostExplorer(costs=estate(), statuses={"Team": "Active"})
    job(ce, COST_REPORT_TAG_KEY="Team").run(NOW)
    assert ce.requests[1][1]["GroupBy"][0] == {"Type": "TAG", "Key": "Team"}
    assert ce.requests[2][1] == ["Team", "Project", "CostCenter"]


def test_no_bedrock_service_in_the_window_skips_the_paid_query_and_says_so() -> None:
    ce = FakeCostExplorer(names=())
    publisher = FakePublisher()
    result = job(ce, publisher=publisher).run(NOW)
    assert "GetCostAndUsage" not in [operation for operation, _ in ce.requests]
    assert result.report.status is ReportStatus.NO_SPEND
    (note,) = publisher.to(REPORTS)
    assert "No Bedrock spend recorded for 16-22 Nov 2026" in note.text


def test_data_unavailable_still_publishes_a_report_that_says_so() -> None:
    unavailable = DataUnavailable("ce", "GetCostAndUsage", "DataUnavailableException", "Data is not available.")
    ce = FakeCostExplorer(fail={"GetCostAndUsage": unavailable})
    publisher = FakePublisher()
    result = job(ce, publisher=publisher).run(NOW)
    assert result.report.status is ReportStatus.DATA_UNAVAILABLE
    (note,) = publisher.to(REPORTS)
    assert "no data yet" in note.subject
    assert "Cost Explorer has no data" in note.text
    assert publisher.to(ALERTS) == []  # not an access problem: nothing for the operators to fix


@pytest.mark.parametrize("operation", ["GetDimensionValues", "GetCostAndUsage"])
def test_access_denied_to_cost_explorer_alerts_the_operators(operation: str) -> None:
    ce = FakeCostExplorer(costs=estate(), fail={operation: denied("ce", operation)})
    publisher = FakePublisher()
    result = job(ce, publisher=publisher).run(NOW)
    (alert,) = publisher.to(ALERTS)
    assert f"ce:{operation}" in alert.text
    assert "access denied to Cost Explorer" in alert.subject
    assert result.report.status is ReportStatus.NO_FIGURES
    (note,) = publisher.to(REPORTS)
    assert "report incomplete" in note.subject
    assert result.summary()["alertMessageId"] == "message-1"


def test_access_denied_to_budgets_keeps_the_figures_and_alerts() -> None:
    ce = FakeCostExplorer(costs=estate())
    publisher = FakePublisher()
    result = job(ce, FakeBudgets(error=denied("budgets", "DescribeBudgets")), publisher=publisher).run(NOW)
    assert result.report.status is ReportStatus.COMPLETE
    assert result.report.total.this_week == D("47.15")
    (alert,) = publisher.to(ALERTS)
    assert "budgets:ViewBudget" in alert.text
    assert result.report.flagged(FlagKind.ACCESS_DENIED)


def test_listing_cost_allocation_tags_denied_is_reported_not_fatal() -> None:
    ce = FakeCostExplorer(costs=estate(), fail={"ListCostAllocationTags": denied("ce", "ListCostAllocationTags")})
    publisher = FakePublisher()
    result = job(ce, publisher=publisher).run(NOW)
    assert result.report.status is ReportStatus.COMPLETE
    (alert,) = publisher.to(ALERTS)
    assert "ce:ListCostAllocationTags" in alert.text
    assert "management or a standalone account" in alert.text


def test_throttling_is_raised_so_the_scheduled_run_is_retried() -> None:
    ce = FakeCostExplorer(fail={"GetCostAndUsage": Throttled("ce", "GetCostAndUsage", "ThrottlingException", "slow")})
    publisher = FakePublisher()
    with pytest.raises(Throttled):
        job(ce, publisher=publisher).run(NOW)
    assert publisher.sent == []


def test_report_bucket_gets_html_and_csv_and_the_mail_names_them() -> None:
    store = FakeStore()
    publisher = FakePublisher()
    result = job(FakeCostExplorer(costs=estate()), store=store, publisher=publisher).run(NOW)
    assert sorted(store.objects) == [
        "bedrock-cost-reports/2026/bedrock-cost-2026-11-16.csv",
        "bedrock-cost-reports/2026/bedrock-cost-2026-11-16.html",
    ]
    html, content_type = store.objects["bedrock-cost-reports/2026/bedrock-cost-2026-11-16.html"]
    assert content_type.startswith("text/html")
    assert b"<svg" in html
    (note,) = publisher.to(REPORTS)
    assert "s3://reports-bucket/bedrock-cost-reports/2026/bedrock-cost-2026-11-16.html" in note.text
    assert note.document["files"]["csv"] == "s3://reports-bucket/bedrock-cost-reports/2026/bedrock-cost-2026-11-16.csv"
    assert result.files.html_uri is not None


def test_a_denied_bucket_write_still_sends_the_report_and_alerts() -> None:
    store = FakeStore(error=AccessDenied("s3", "PutObject", "AccessDenied", "Access Denied"))
    publisher = FakePublisher()
    result = job(FakeCostExplorer(costs=estate()), store=store, publisher=publisher).run(NOW)
    (note,) = publisher.to(REPORTS)
    assert "Not written: AccessDenied: Access Denied" in note.text
    (alert,) = publisher.to(ALERTS)
    assert "s3:PutObject" in alert.text
    assert result.files.html_uri is None


def test_budgets_come_from_describe_budgets() -> None:
    budgets = FakeBudgets([budget(budget_name_for("chatbot"), "100", "88.40", "130")])
    publisher = FakePublisher()
    job(FakeCostExplorer(costs=estate()), budgets, publisher=publisher).run(NOW)
    (note,) = publisher.to(REPORTS)
    assert "BUDGETS (month to date" in note.text
    assert "$88.40" in note.text
    assert "forecast over" in note.text


def test_a_dry_run_publishes_nothing() -> None:
    result = job(FakeCostExplorer(costs=estate()), publisher=None).run(NOW)
    assert result.message_id is None
    assert result.notification is not None


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SCHEDULE_TIMEZONE", "Mars/Olympus"),
        ("COST_REPORT_TAG_KEY", "Project,Team"),
        ("COST_REPORT_TAG_KEY", ""),
        ("REPORT_BUCKET", "Not_A_Bucket"),
        ("REPORT_PREFIX", "reports"),
        ("COST_REPORT_TOP_PROJECTS", "0"),
        ("REPORT_TOPIC_ARN", "reports"),
    ],
)
def test_a_malformed_setting_fails_at_start_naming_it(setting: str, value: str) -> None:
    with pytest.raises(ConfigError, match=setting):
        config(**{setting: value})


def test_settings_have_sensible_defaults() -> None:
    settings = CostReportConfig.from_env({"REPORT_TOPIC_ARN": REPORTS, "ALERT_TOPIC_ARN": ALERTS})
    assert settings.tag_key == "Project"
    assert settings.timezone_name == "UTC"
    assert settings.report_bucket is None
    assert settings.account_id == "123456789012"
    assert settings.required_tag_keys == ("Project", "Environment", "CostCenter", "Owner")
    assert config(REQUIRED_TAG_KEYS="").required_tag_keys == ()
