"""The report as JSON (the SNS message's JSON part), the SNS message of mail plus JSON, and the access alert."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bedrock_governance.core.notify import Notification
from bedrock_governance.core.text import footer, visible_text
from bedrock_governance.cost.policy import (
    COST_METRIC,
    ZERO,
    BudgetLine,
    CostReport,
    SourceProblem,
    SpendLine,
    Week,
    cents,
)
from bedrock_governance.cost.render.text import (
    ReportFiles,
    render_text,
    shown_budgets,
    shown_flags,
    subject,
)

# --------------------------------------------------------------------------- JSON


def _amount(amount: Decimal) -> str:
    return str(cents(amount))


def _percent(percent: Decimal | None) -> str | None:
    return None if percent is None else str(percent.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def week_doc(week: Week) -> dict[str, str]:
    return {"start": week.start.isoformat(), "lastDay": week.last_day.isoformat(), "label": week.label()}


def _budget_doc(budget: BudgetLine) -> dict[str, Any]:
    return {
        "project": budget.project,
        "budgetName": budget.budget_name,
        "limit": _amount(budget.limit),
        "unit": budget.unit,
        "timeUnit": budget.time_unit,
        "actualSpend": None if budget.actual is None else _amount(budget.actual),
        "forecastedSpend": None if budget.forecasted is None else _amount(budget.forecasted),
        "usedPercent": _percent(budget.used_percent),
        "forecastPercent": _percent(budget.forecast_percent),
        "state": budget.state.value,
    }


def line_doc(line: SpendLine) -> dict[str, Any]:
    document: dict[str, Any] = {
        "kind": line.kind.value,
        "name": line.key,
        "thisWeek": _amount(line.this_week),
        "previousWeek": _amount(line.previous_week),
        "change": _amount(line.change),
        "changePercent": _percent(line.change_percent),
        "weekly": [_amount(amount) for amount in line.weekly],
        "presence": line.presence.value,
    }
    if line.by_service:
        document["byService"] = {name: _amount(amount) for name, amount in line.by_service.items()}
    if line.budget is not None:
        document["budget"] = _budget_doc(line.budget)
    return document


def problem_doc(problem: SourceProblem) -> dict[str, Any]:
    return {
        "service": problem.service,
        "operation": problem.operation,
        "errorCode": problem.code,
        "message": problem.message,
        "accessDenied": problem.access_denied,
    }


def render_document(report: CostReport, limit: int, files: ReportFiles | None = None) -> dict[str, Any]:
    shown = report.projects[:limit]
    omitted = report.projects[limit:]
    budgets = shown_budgets(report, limit)
    flags, omitted_flags = shown_flags(report, limit)
    return {
        "type": "cost-report",
        "status": report.status.value,
        "generatedAt": report.generated_at.isoformat(),
        "timezone": report.timezone_name,
        "tagKey": report.tag_key,
        "currency": report.currency,
        "costMetric": COST_METRIC,
        "week": week_doc(report.week),
        "previousWeek": week_doc(report.previous_week),
        "weeks": [week_doc(week) for week in report.weeks],
        "serviceNames": list(report.service_names),
        "total": line_doc(report.total),
        "untagged": line_doc(report.untagged),
        "projects": [line_doc(line) for line in shown],
        "omittedProjects": len(omitted),
        "omittedProjectsThisWeek": _amount(sum((line.this_week for line in omitted), ZERO)),
        "quietProjects": [line.key for line in report.quiet_projects[:limit]],
        "omittedQuietProjects": max(0, len(report.quiet_projects) - limit),
        "services": [line_doc(line) for line in report.services],
        "movers": [line_doc(line) for line in report.movers],
        "budgets": [_budget_doc(budget) for budget in budgets],
        "omittedBudgets": len(report.budgets) - len(budgets),
        "flags": [
            {"kind": flag.kind.value, "message": flag.message, "howTo": list(flag.how_to), "subject": flag.subject}
            for flag in flags
        ],
        "omittedFlags": omitted_flags,
        "estimatedDays": [day.isoformat() for day in report.estimated_days],
        "problems": [problem_doc(problem) for problem in report.problems],
        "files": {
            "html": files.html_uri if files else None,
            "csv": files.csv_uri if files else None,
            "problem": files.problem if files else None,
        },
        "truncated": bool(omitted or omitted_flags) or len(budgets) < len(report.budgets),
    }


def render(report: CostReport, limit: int, files: ReportFiles | None = None) -> Notification:
    """The report with at most ``limit`` projects and budgets spelled out (the rest counted)."""
    return Notification(
        subject=subject(report), text=render_text(report, limit, files), document=render_document(report, limit, files)
    )


def item_count(report: CostReport) -> int:
    return max(len(report.projects), len(report.budgets))


# --------------------------------------------------------------------------- access alert


def render_access_alert(report: CostReport, problems: Sequence[SourceProblem]) -> Notification:
    """The alert for the operators when a source refused access: what failed, what it costs, the fix."""
    sources = sorted({problem.source for problem in problems})
    lines = [
        f"The weekly Bedrock cost report for {report.week.label()} could not read {' and '.join(sources)}.",
        "",
        "What was refused:",
        *(f"  - {visible_text(problem.describe())}" for problem in problems),
        "",
        "Consequence:",
        "  - No figures in this week's report."
        if not report.has_figures
        else "  - The report was published, but without the parts listed above.",
        "",
        "How to fix:",
        *(
            f"  - Allow {action} for the CostReportFunction's role."
            for action in sorted({p.iam_action for p in problems})
        ),
        "  - If the role already allows it, look for a service control policy or permissions boundary that denies it.",
    ]
    if any(problem.service == "ce" for problem in problems):
        lines += [
            "  - Cost Explorer must have been enabled once for the account (Billing console, Cost Explorer).",
            "  - In an AWS Organizations member account, the management account must allow member accounts to use",
            "    Cost Explorer; listing cost allocation tags works only in the management or a standalone account.",
        ]
    lines += ["", *footer("CostReportFunction")]
    return Notification(
        subject=f"Bedrock cost report: access denied to {' and '.join(sources)}",
        text="\n".join(lines),
        document={
            "type": "cost-report-access-denied",
            "week": week_doc(report.week),
            "reportStatus": report.status.value,
            "problems": [problem_doc(problem) for problem in problems],
            "requiredActions": sorted({p.iam_action for p in problems}),
        },
    )
