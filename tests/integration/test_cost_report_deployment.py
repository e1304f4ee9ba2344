"""CostReportFunction as deployed: the published report's figures agree with the ledger to the cent.

The expected figures are computed here, independently, from the very rows seeded into the embedded
Cost Explorer: only Bedrock service names count, only the active Project tag groups, days are
Cost Explorer's (UTC) days and weeks run Monday to Sunday.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from embedded_aws import costexplorer
from embedded_aws.budgets import set_calculated_spend
from embedded_aws.calls import count_api_calls
from embedded_aws.costexplorer import CostRow, seed_ledger, set_cost_allocation_tags, set_data_unavailable
from embedded_aws.faults import Fault, inject_faults
from embedded_aws.inbox import SentMessage, sent_messages

if TYPE_CHECKING:
    from stack_harness import DeployedStack

ACCOUNT = "123456789012"
# Monday 23 Nov 2026, 08:00 in Berlin (07:00 UTC): the report covers Monday 16 to Sunday 22 Nov.
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
WEEK = date(2026, 11, 16)
PREVIOUS = WEEK - timedelta(weeks=1)
WINDOW_START = WEEK - timedelta(weeks=7)  # 8 weeks, 28 Sep ...
WINDOW_END = WEEK + timedelta(weeks=1)  # ... to 22 Nov (exclusive 23 Nov)
BEDROCK = "Amazon Bedrock"
HAIKU = "Claude 3 Haiku (Amazon Bedrock Edition)"
SONNET = "Claude Sonnet 4 (Amazon Bedrock Edition)"
BUCKET = "acme-finops-reports"
SAMPLE_EVENT = json.loads((Path(__file__).resolve().parents[2] / "events" / "cost_report.json").read_text())
CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money(amount: Decimal) -> str:
    return f"${cents(amount):,.2f}"


def days(start: date, end: date) -> Iterable[date]:
    day = start
    while day < end:
        yield day
        day += timedelta(days=1)


def row(day: date, service: str, amount: str | Decimal, tags: dict[str, str] | None = None, **extra: Any) -> CostRow:
    return CostRow(day=day, service=service, unblended_cost=Decimal(amount), tags=tags or {}, **extra)


def realistic_ledger(seed: int = 7) -> list[CostRow]:
    """Several projects on first-party and Marketplace models, untagged spend, a project that starts
    and one that stops, noise that must not count, and an estimated weekend."""
    rng = random.Random(seed)
    rows: list[CostRow] = []
    plan = {  # project -> (service, typical daily spend)
        "chatbot": ((BEDROCK, 38), (HAIKU, 9)),
        "docsearch": ((BEDROCK, 21), (SONNET, 14)),
        "summarizer": ((HAIKU, 12),),
    }
    for day in days(WINDOW_START - timedelta(days=3), WINDOW_END + timedelta(days=1)):
        estimated = day >= WEEK + timedelta(days=5)  # Saturday and Sunday are not final yet
        for project, services in plan.items():
            for service, typical in services:
                amount = Decimal(rng.randint(typical * 700, typical * 1300)) / Decimal(1000) + Decimal("0.000123")
                tags = {"Project": project, "Environment": "prod", "CostCenter": "CC-1001"}
                rows.append(row(day, service, amount, tags, estimated=estimated))
        # Direct model calls without an application profile: untagged.
        rows.append(row(day, BEDROCK, Decimal(rng.randint(300, 900)) / 100, estimated=estimated))
        # A near-miss tag key ("project") is not the active key: untagged as far as billing knows.
        rows.append(row(day, HAIKU, "1.111111", {"project": "chatbot"}, estimated=estimated))
        # Not Bedrock: must never appear in a Bedrock report, tagged or not.
        rows.append(row(day, "Amazon Simple Storage Service", "250", {"Project": "chatbot"}))
        if day >= WEEK:
            rows.append(row(day, SONNET, "17.333333", {"Project": "newproject"}, estimated=estimated))
        if PREVIOUS <= day < WEEK:
            rows.append(row(day, BEDROCK, "4.444444", {"Project": "retired"}))
    return rows


def expected_spend(rows: Iterable[CostRow], start: date, end: date) -> dict[str | None, Decimal]:
    """Spend per Project value (None: untagged) computed from the ledger, not from the report."""
    totals: dict[str | None, Decimal] = {}
    for item in rows:
        if "Bedrock" not in item.service or not start <= item.day < end:
            continue
        project = item.tags.get("Project") or None
        totals[project] = totals.get(project, Decimal(0)) + item.unblended_cost
    return totals


def expected_by_service(rows: Iterable[CostRow], start: date, end: date) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for item in rows:
        if "Bedrock" in item.service and start <= item.day < end:
            totals[item.service] = totals.get(item.service, Decimal(0)) + item.unblended_cost
    return totals


def scheduled(stack: DeployedStack) -> dict[str, Any]:
    return stack.scheduled_event("CostReportFunction")


def report_message(stack: DeployedStack) -> SentMessage:
    (message,) = sent_messages(stack.outputs["ReportTopicArn"])
    return message


def create_budget(project: str, limit: str, actual: str, forecast: str) -> None:
    name = f"bedrock-project-{project}"
    boto3.client("budgets", region_name="us-east-1").create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": name,
            "BudgetLimit": {"Amount": limit, "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "CostFilters": {"TagKeyValue": [f"user:Project${project}"]},
        },
    )
    set_calculated_spend(ACCOUNT, name, Decimal(actual), Decimal(forecast))


def test_the_deployed_function_gets_its_settings_and_schedule_from_the_stack(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy(ScheduleTimezone="Europe/Berlin", CostReportTagKey="Team")
    env = stack.function_environment("CostReportFunction")
    assert env["REPORT_TOPIC_ARN"] == stack.outputs["ReportTopicArn"]
    assert env["ALERT_TOPIC_ARN"] == stack.outputs["AlertTopicArn"]
    assert env["COST_REPORT_TAG_KEY"] == "Team"
    assert env["SCHEDULE_TIMEZONE"] == "Europe/Berlin"
    assert env["REPORT_BUCKET"] == ""
    assert "CostReportLocation" not in stack.outputs
    (schedule,) = [
        r
        for r in stack.unsupported_resources
        if r.resource_type == "AWS::Scheduler::Schedule" and r.logical_id.startswith("CostReportFunction")
    ]
    assert schedule.properties["ScheduleExpression"] == "cron(0 8 ? * MON *)"
    assert schedule.properties["ScheduleExpressionTimezone"] == "Europe/Berlin"
    event = scheduled(stack)
    assert event["job"] == SAMPLE_EVENT["job"] == "cost-report"
    assert event["scheduledTime"] == "<aws.scheduler.scheduled-time>"


def test_the_published_report_matches_the_ledger_to_the_cent(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(ScheduleTimezone="Europe/Berlin", ReportBucket=BUCKET)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    ledger = realistic_ledger()
    seed_ledger(ledger)
    set_cost_allocation_tags({"Project": "Active", "Environment": "Active", "CostCenter": "Inactive"})
    create_budget("chatbot", "1500", "1234.5678", "1890.10")

    summary = stack.invoke("CostReportFunction", scheduled(stack), now=NOW)

    this_week = expected_spend(ledger, WEEK, WEEK + timedelta(weeks=1))
    before = expected_spend(ledger, PREVIOUS, WEEK)
    total, total_before = sum(this_week.values(), Decimal(0)), sum(before.values(), Decimal(0))
    message = report_message(stack)
    document = message.document
    assert document is not None
    assert summary["week"] == "16-22 Nov 2026"
    assert summary["total"] == str(cents(total))

    # Subject: the week, the total and the change, marked estimated (the weekend is not final).
    percent = (total - total_before) / total_before * 100
    change = percent.quantize(Decimal(1) if abs(percent) >= 1 else Decimal("0.1"), rounding=ROUND_HALF_UP)
    sign = "+" if change > 0 else ""
    assert message.subject == f"Bedrock spend 16-22 Nov 2026: {money(total)} ({sign}{change}% w/w, estimated)"

    # Every project, the untagged line and the total, both weeks, to the cent.
    assert document["total"]["thisWeek"] == str(cents(total))
    assert document["total"]["previousWeek"] == str(cents(total_before))
    assert document["untagged"]["thisWeek"] == str(cents(this_week[None]))
    assert document["untagged"]["previousWeek"] == str(cents(before[None]))
    projects = {p["name"]: p for p in document["projects"]}
    assert set(projects) == {"chatbot", "docsearch", "summarizer", "newproject", "retired"}
    for name, line in projects.items():
        assert line["thisWeek"] == str(cents(this_week.get(name, Decimal(0)))), name
        assert line["previousWeek"] == str(cents(before.get(name, Decimal(0)))), name
    # The 8-week trend of one project, week by week.
    chatbot_weeks = [
        str(
            cents(
                expected_spend(ledger, WINDOW_START + timedelta(weeks=i), WINDOW_START + timedelta(weeks=i + 1))[
                    "chatbot"
                ]
            )
        )
        for i in range(8)
    ]
    assert projects["chatbot"]["weekly"] == chatbot_weeks

    # Marketplace models are split out by their own service names; non-Bedrock cost is absent.
    by_service = expected_by_service(ledger, WEEK, WEEK + timedelta(weeks=1))
    services = {s["name"]: s["thisWeek"] for s in document["services"]}
    assert services == {name: str(cents(amount)) for name, amount in by_service.items()}
    assert HAIKU in message.text
    assert SONNET in message.text
    assert "Amazon Simple Storage Service" not in message.text

    # Flags: estimated data, CostCenter inactive and Owner unknown, a project appeared, one vanished.
    kinds = {(flag["kind"], flag["subject"]) for flag in document["flags"]}
    assert ("estimated", None) in kinds
    assert ("tag-not-active", "CostCenter") in kinds
    assert ("tag-unknown-to-billing", "Owner") in kinds
    assert ("appeared", "newproject") in kinds
    assert ("vanished", "retired") in kinds
    assert "21-22 Nov 2026" in message.text

    # Month to date against the project's budget, from DescribeBudgets.
    assert projects["chatbot"]["budget"]["actualSpend"] == "1234.57"
    assert projects["chatbot"]["budget"]["state"] == "forecast-over"
    assert "$1,234.57" in message.text

    # The mail: aligned, formatted, and it names where the HTML and CSV are.
    assert "Total 16-22 Nov 2026:" in message.text
    assert money(total) in message.text
    html_key = "bedrock-cost-reports/2026/bedrock-cost-2026-11-16.html"
    csv_key = "bedrock-cost-reports/2026/bedrock-cost-2026-11-16.csv"
    assert f"s3://{BUCKET}/{html_key}" in message.text
    assert document["files"]["csv"] == f"s3://{BUCKET}/{csv_key}"
    page = s3.get_object(Bucket=BUCKET, Key=html_key)["Body"].read().decode()
    assert "<svg" in page
    assert "<script" not in page
    rows = list(csv.DictReader(io.StringIO(s3.get_object(Bucket=BUCKET, Key=csv_key)["Body"].read().decode())))
    csv_week = sum((Decimal(r["amount"]) for r in rows if r["week_start"] == WEEK.isoformat()), Decimal(0))
    assert csv_week == total  # exact, not only to the cent
    assert sent_messages(stack.outputs["AlertTopicArn"]) == []


def test_data_unavailable_still_publishes_a_report_that_says_so(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy()
    set_data_unavailable()
    summary = stack.invoke("CostReportFunction", scheduled(stack), now=NOW)
    assert summary["status"] == "data-unavailable"
    message = report_message(stack)
    assert message.subject == "Bedrock spend 16-22 Nov 2026: no data yet (Cost Explorer data unavailable)"
    assert "DataUnavailableException" in message.text
    assert sent_messages(stack.outputs["AlertTopicArn"]) == []


def test_an_empty_week_still_publishes_a_report_that_says_so(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy()
    seed_ledger([row(PREVIOUS, BEDROCK, "3.50", {"Project": "chatbot"})])
    set_cost_allocation_tags({"Project": "Active"})
    summary = stack.invoke("CostReportFunction", scheduled(stack), now=NOW)
    assert summary["status"] == "no-spend"
    message = report_message(stack)
    assert message.subject == "Bedrock spend 16-22 Nov 2026: $0.00 (-100% w/w)"
    assert "No Bedrock spend recorded for 16-22 Nov 2026." in message.text


def test_access_denied_to_cost_explorer_alerts_instead_of_failing_silently(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy()
    seed_ledger(realistic_ledger())
    denial = Fault("ce", "GetCostAndUsage", "AccessDeniedException", message="not authorized to ce:GetCostAndUsage")
    with inject_faults(denial):
        summary = stack.invoke("CostReportFunction", scheduled(stack), now=NOW)
    assert summary["status"] == "no-figures"
    (alert,) = sent_messages(stack.outputs["AlertTopicArn"])
    assert alert.subject == "Bedrock cost report: access denied to Cost Explorer"
    assert "ce:GetCostAndUsage" in alert.text
    assert "report incomplete" in (report_message(stack).subject or "")


def test_access_denied_to_budgets_alerts_and_the_report_keeps_its_figures(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy()
    ledger = realistic_ledger()
    seed_ledger(ledger)
    set_cost_allocation_tags({"Project": "Active"})
    with inject_faults(Fault("budgets", "DescribeBudgets", "AccessDeniedException", message="not authorized")):
        summary = stack.invoke("CostReportFunction", scheduled(stack), now=NOW)
    total = sum(expected_spend(ledger, WEEK, WEEK + timedelta(weeks=1)).values(), Decimal(0))
    assert summary["total"] == str(cents(total))
    (alert,) = sent_messages(stack.outputs["AlertTopicArn"])
    assert "budgets:ViewBudget" in alert.text


def _estate(projects: int) -> list[CostRow]:
    rows = []
    for day in days(WINDOW_START, WINDOW_END):
        for index in range(projects):
            service = (BEDROCK, HAIKU)[index % 2]
            rows.append(row(day, service, Decimal(index + 1) / 7, {"Project": f"team-{index:03d}"}))
        rows.append(row(day, SONNET, "3.21"))
    return rows


@pytest.mark.parametrize("projects", [10, 50, 200])
def test_cost_explorer_requests_stay_at_three_plus_pages_whatever_the_number_of_projects(
    deploy: Callable[..., DeployedStack], projects: int
) -> None:
    stack = deploy()
    seed_ledger(_estate(projects))
    set_cost_allocation_tags({"Project": "Active"})
    event = scheduled(stack)
    with count_api_calls() as calls:
        summary = stack.invoke("CostReportFunction", event, now=NOW)
    assert summary["projects"] == projects
    # One group per project and day plus the untagged one; the embedded Cost Explorer pages by groups.
    pages = math.ceil((projects + 1) * 56 / costexplorer.PAGE_SIZE)
    assert calls.count("ce", "GetDimensionValues") == 1
    assert calls.count("ce", "ListCostAllocationTags") == 1
    assert calls.count("ce", "GetCostAndUsage") == pages
    assert calls.count("ce") == 2 + pages  # three requests, the rest are pages of the second
    print(f"Cost Explorer requests for {projects} projects: {calls.count('ce')} ({calls.by_operation()})")


def _inline_statements(stack: DeployedStack) -> list[dict[str, Any]]:
    return [
        statement
        for policy in stack.role_policy_documents("CostReportFunction")
        if policy.kind == "inline"
        for statement in policy.statements
    ]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        value = statement["Action"]
        found |= {value} if isinstance(value, str) else set(value)
    return found


def test_the_role_allows_only_what_the_function_calls(deploy: Callable[..., DeployedStack]) -> None:
    statements = _inline_statements(deploy())
    assert _actions(statements) == {
        "ce:GetCostAndUsage",
        "ce:GetDimensionValues",
        "ce:ListCostAllocationTags",
        "budgets:ViewBudget",
        "sns:Publish",
    }
    (publish,) = [s for s in statements if s["Action"] == "sns:Publish"]
    assert len(publish["Resource"]) == 2  # the report topic and the alert topic, nothing else
    (budgets,) = [s for s in statements if s["Action"] == "budgets:ViewBudget"]
    assert budgets["Resource"] == f"arn:aws:budgets::{ACCOUNT}:budget/*"


def test_with_a_report_bucket_the_role_may_only_put_objects_under_the_report_prefix(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy(ReportBucket=BUCKET)
    statements = _inline_statements(stack)
    (put,) = [s for s in statements if "s3:PutObject" in _actions([s])]
    assert put["Action"] == "s3:PutObject"
    assert put["Resource"] == f"arn:aws:s3:::{BUCKET}/bedrock-cost-reports/*"
    assert stack.function_environment("CostReportFunction")["REPORT_PREFIX"] == "bedrock-cost-reports/"
    assert stack.outputs["CostReportLocation"] == f"s3://{BUCKET}/bedrock-cost-reports/"
