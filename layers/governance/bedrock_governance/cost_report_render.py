"""The weekly cost report as people and programs read it: plain-text mail, JSON, HTML with charts, CSV.

The mail and the JSON travel together in one SNS message (``MessageStructure="json"``), so both
show the same top projects and :func:`render` takes that number as ``limit``; the job asks
:func:`bedrock_governance.notify.fit` for the largest limit that fits SNS. The HTML and the CSV go
to S3 and carry every project.
"""

from __future__ import annotations

import csv
import html
import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from bedrock_governance.cost_report import (
    COST_METRIC,
    ZERO,
    BudgetLine,
    BudgetState,
    CostReport,
    Flag,
    FlagKind,
    LineKind,
    ReportStatus,
    SourceProblem,
    SpendLine,
    Week,
    cents,
)
from bedrock_governance.notify import Notification, money, table
from bedrock_governance.text import visible_text

RULE: Final = "=" * 78
TEXT_WIDTH: Final = 100
LABEL_WIDTH: Final = 32
SPARK: Final = "▁▂▃▄▅▆▇█"
_BUDGET_STATE_TEXT: Final = {
    BudgetState.OVER: "OVER BUDGET",
    BudgetState.FORECAST_OVER: "forecast over",
    BudgetState.WITHIN: "ok",
    BudgetState.NO_LIMIT: "no limit",
}


@dataclass(frozen=True)
class ReportFiles:
    """Where the HTML and CSV copies were written, when a report bucket is configured."""

    html_uri: str | None = None
    csv_uri: str | None = None
    html_console_url: str | None = None
    problem: str | None = None  # why they could not be written


# --------------------------------------------------------------------------- formatting


def signed_money(amount: Decimal, currency: str = "USD") -> str:
    """``+$12.30``, ``-$4.00``, ``$0.00``."""
    text = money(amount, currency)
    return f"+{text}" if cents(amount) > 0 else text


def percent_text(percent: Decimal | None, *, current: Decimal = ZERO, places: str = "0.1") -> str:
    """``+12.3%``; ``new`` when there was nothing to compare with but there is spend now."""
    if percent is None:
        return "new" if current > 0 else "-"
    rounded = abs(percent).quantize(Decimal(places), rounding=ROUND_HALF_UP)
    sign = "+" if percent > 0 and rounded else "-" if percent < 0 and rounded else ""
    return f"{sign}{rounded}%"


def compact_money(amount: Decimal) -> str:
    """Trend cells: cents below $100, whole dollars above, to keep eight weeks on one line."""
    if abs(amount) < 100:
        return f"${cents(amount):,.2f}"
    return f"${amount.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"


def sparkline(values: Sequence[Decimal]) -> str:
    """``▁▂▅█``: the shape of a trend, scaled to its own peak; a week without spend is ``·``."""
    peak = max(values, default=ZERO)
    if peak <= 0:
        return "·" * len(values)
    steps = len(SPARK) - 1
    return "".join(
        "·" if value <= 0 else SPARK[int((value / peak * steps).to_integral_value(rounding=ROUND_HALF_UP))]
        for value in values
    )


def _clip(text: str, width: int = LABEL_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _label(line: SpendLine, report: CostReport) -> str:
    """A line's name for the text body: tag values may hold newlines, so they are escaped (:func:`visible_text`)."""
    return visible_text(line.label(report.tag_key))


def subject(report: CostReport) -> str:
    """``Bedrock spend 16-22 Nov 2026: $1,234.56 (+12% w/w)`` - ASCII, well under SNS's 100 characters."""
    head = f"Bedrock spend {report.week.label()}"
    if report.status is ReportStatus.DATA_UNAVAILABLE:
        return f"{head}: no data yet (Cost Explorer data unavailable)"
    if report.status is ReportStatus.NO_FIGURES:
        return f"{head}: report incomplete (see message)"
    total = report.total
    figures = money(total.this_week, report.currency)
    notes: list[str] = []
    if total.change_percent is not None:
        # Whole percent like "+12%", but a change under 1% keeps a decimal instead of reading "0%".
        places = "1" if abs(total.change_percent) >= 1 else "0.1"
        notes.append(f"{percent_text(total.change_percent, places=places)} w/w")
    elif total.this_week > 0:
        notes.append("none the week before")
    if report.week_is_estimated:
        notes.append("estimated")
    return f"{head}: {figures}" + (f" ({', '.join(notes)})" if notes else "")


# --------------------------------------------------------------------------- plain text


def shown_flags(report: CostReport, limit: int) -> tuple[tuple[Flag, ...], int]:
    """Every flag about the data, but at most ``limit`` about single projects (appeared, vanished):
    with thousands of projects those alone would burst the SNS limit."""
    per_project = (FlagKind.APPEARED, FlagKind.VANISHED)
    shown: list[Flag] = []
    about_projects = 0
    for flag in report.flags:
        if flag.kind in per_project:
            about_projects += 1
            if about_projects > limit:
                continue
        shown.append(flag)
    return tuple(shown), max(0, about_projects - limit)


def _flag_lines(flags: Sequence[Flag]) -> list[str]:
    lines: list[str] = []
    for flag in flags:
        message = visible_text(flag.message)
        lines += textwrap.wrap(message, TEXT_WIDTH, initial_indent="  * ", subsequent_indent="    ")
        for step in map(visible_text, flag.how_to):
            if step.startswith("aws "):
                lines.append(f"      {step}")  # a command stays on one line so it can be copied
            else:
                lines += textwrap.wrap(step, TEXT_WIDTH, initial_indent="      ", subsequent_indent="      ")
    return lines


def _spend_row(line: SpendLine, report: CostReport) -> tuple[str, ...]:
    return (
        _clip(_label(line, report)),
        money(line.this_week, report.currency),
        money(line.previous_week, report.currency),
        signed_money(line.change, report.currency),
        percent_text(line.change_percent, current=line.this_week),
        sparkline(line.weekly),
    )


def _with_total_rule(text: str) -> list[str]:
    """The table's lines with a rule above its last row (the total)."""
    lines = text.splitlines()
    return [*lines[:-1], lines[1], lines[-1]]


def _project_table(report: CostReport, shown: Sequence[SpendLine]) -> list[str]:
    headers = (
        visible_text(report.tag_key),
        report.week.column_label(),
        report.previous_week.column_label(),
        "Change",
        "Change %",
        f"{len(report.weeks)} weeks",
    )
    rows = [_spend_row(line, report) for line in shown]
    if report.untagged.this_week or report.untagged.previous_week:
        rows.append(_spend_row(report.untagged, report))
    rows.append(_spend_row(report.total, report))
    return _with_total_rule(table(headers, rows, right_align=frozenset({1, 2, 3, 4})))


def _service_table(report: CostReport) -> list[str]:
    total = report.total.this_week
    rows: list[tuple[str, ...]] = [
        (
            visible_text(line.key or ""),
            money(line.this_week, report.currency),
            money(line.previous_week, report.currency),
            signed_money(line.change, report.currency),
            f"{(line.this_week / total * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%" if total else "-",
        )
        for line in report.services
    ]
    headers = ("Bedrock service", report.week.column_label(), report.previous_week.column_label())
    return table((*headers, "Change", "Share"), rows, right_align=frozenset({1, 2, 3, 4})).splitlines()


def _trend_table(report: CostReport, shown: Sequence[SpendLine]) -> list[str]:
    lines = [*shown]
    if any(report.untagged.weekly):
        lines.append(report.untagged)
    lines.append(report.total)
    rows = [(_clip(_label(line, report), 24), *(compact_money(v) for v in line.weekly)) for line in lines]
    headers = (visible_text(report.tag_key), *(week.short_label() for week in report.weeks))
    return _with_total_rule(table(headers, rows, right_align=frozenset(range(1, len(report.weeks) + 1))))


def _mover_lines(report: CostReport) -> list[str]:
    rows: list[tuple[str, ...]] = [
        (
            f"{index}.",
            _clip(_label(line, report)),
            signed_money(line.change, report.currency),
            percent_text(line.change_percent, current=line.this_week),
            f"{money(line.previous_week, report.currency)} -> {money(line.this_week, report.currency)}",
        )
        for index, line in enumerate(report.movers, start=1)
    ]
    return [
        "  " + row
        for row in table(("", visible_text(report.tag_key), "Change", "%", "Week before -> week"), rows).splitlines()
    ]


def _budget_sort_key(budget: BudgetLine) -> tuple[int, Decimal, str]:
    order = [BudgetState.OVER, BudgetState.FORECAST_OVER, BudgetState.WITHIN, BudgetState.NO_LIMIT]
    return (order.index(budget.state), -(budget.used_percent or ZERO), budget.budget_name)


def _budget_table(budgets: Sequence[BudgetLine], tag_key: str) -> list[str]:
    rows: list[tuple[str, ...]] = [
        (
            _clip(visible_text(budget.project if budget.project is not None else budget.budget_name), 28),
            money(budget.limit, budget.unit),
            "-" if budget.actual is None else money(budget.actual, budget.unit),
            "-" if budget.used_percent is None else f"{budget.used_percent.quantize(Decimal(1), ROUND_HALF_UP)}%",
            "-" if budget.forecasted is None else money(budget.forecasted, budget.unit),
            "-"
            if budget.forecast_percent is None
            else f"{budget.forecast_percent.quantize(Decimal(1), ROUND_HALF_UP)}%",
            _BUDGET_STATE_TEXT[budget.state],
        )
        for budget in budgets
    ]
    headers = (visible_text(tag_key), "Budget", "Spent", "Used", "Forecast", "F/cast %", "Status")
    return table(headers, rows, right_align=frozenset({1, 2, 3, 4, 5})).splitlines()


def _shown_budgets(report: CostReport, limit: int) -> list[BudgetLine]:
    return sorted(report.budgets, key=_budget_sort_key)[:limit]


def _headline(report: CostReport) -> list[str]:
    week, previous, total = report.week, report.previous_week, report.total
    if report.has_figures:
        return [
            f"Total {week.label()}:".ljust(34) + money(total.this_week, report.currency).rjust(14),
            f"Week before ({previous.label()}):".ljust(34) + money(total.previous_week, report.currency).rjust(14),
            "Change:".ljust(34)
            + signed_money(total.change, report.currency).rjust(14)
            + f"  ({percent_text(total.change_percent, current=total.this_week)})",
            f"{visible_text(report.tag_key)} values with spend:".ljust(34) + f"{len(report.projects):,}".rjust(14),
            "",
        ]
    if report.status is ReportStatus.DATA_UNAVAILABLE:
        return ["No figures this week: Cost Explorer has no data for the period yet.", ""]
    return ["No figures this week: the report could not read Cost Explorer (see below).", ""]


def _spend_sections(report: CostReport, limit: int, files: ReportFiles | None) -> list[str]:
    shown, omitted = report.projects[:limit], report.projects[limit:]
    lines = [f"SPEND BY {visible_text(report.tag_key.upper())} (weeks from Monday)", *_project_table(report, shown)]
    if omitted:
        rest = sum((line.this_week for line in omitted), ZERO)
        where = f" All of them are in {visible_text(files.csv_uri)}." if files and files.csv_uri else ""
        lines.append(
            f"... and {len(omitted):,} more {visible_text(report.tag_key)} values ({money(rest, report.currency)} in "
            f"{report.week.label()}), left out to keep this message within SNS limits.{where}"
        )
    if report.quiet_projects:
        names = ", ".join(visible_text(line.key or "") for line in report.quiet_projects[:10])
        more = len(report.quiet_projects) - 10
        lines.append(
            f"No spend in the last two weeks, some earlier: {names}" + (f" and {more:,} more." if more > 0 else ".")
        )
    lines += ["", "BY BEDROCK SERVICE (third-party models bill under their own Marketplace names)"]
    lines += [*_service_table(report), ""]
    if report.movers:
        lines += ["BIGGEST MOVERS (week over week)", *_mover_lines(report), ""]
    return [
        *lines,
        f"{len(report.weeks)}-WEEK TREND (weekly spend, weeks starting Monday)",
        *_trend_table(report, shown),
        "",
    ]


def _budget_section(report: CostReport, limit: int) -> list[str]:
    shown = _shown_budgets(report, limit)
    period = shown[0].period_label if shown else "month to date"
    lines = [
        f"BUDGETS ({period}, from AWS Budgets as of {report.generated_at:%d %b %Y})",
        *_budget_table(shown, report.tag_key),
    ]
    if len(report.budgets) > len(shown):
        lines.append(f"... and {len(report.budgets) - len(shown):,} more budgets.")
    return [*lines, ""]


def _files_section(report: CostReport, files: ReportFiles) -> list[str]:
    lines = ["FULL REPORT"]
    if files.html_uri:
        lines.append(f"  HTML with charts: {visible_text(files.html_uri)}")
    if files.html_console_url:
        lines.append(f"  (open in the S3 console: {visible_text(files.html_console_url)})")
    if files.csv_uri:
        lines.append(f"  CSV, every {visible_text(report.tag_key)} and service by week: {visible_text(files.csv_uri)}")
    if files.problem:
        lines.append(f"  Not written: {visible_text(files.problem)}")
    return [*lines, ""]


def render_text(report: CostReport, limit: int, files: ReportFiles | None = None) -> str:
    lines = [
        f"Bedrock spend by {visible_text(report.tag_key)} - week {report.week.label()}",
        f"Monday to Sunday, Cost Explorer days (UTC). Compiled {report.generated_at:%a %d %b %Y %H:%M} "
        f"{visible_text(report.timezone_name)}.",
        RULE,
        "",
        *_headline(report),
    ]
    if report.flags:
        flags, omitted = shown_flags(report, limit)
        more = (
            [f"  * ... and {omitted:,} more {visible_text(report.tag_key)} values that appeared or vanished."]
            if omitted
            else []
        )
        lines += ["FLAGS", *_flag_lines(flags), *more, ""]
    if report.has_figures and report.total.window_total:
        lines += _spend_sections(report, limit, files)
    if report.budgets:
        lines += _budget_section(report, limit)
    if files and (files.html_uri or files.problem):
        lines += _files_section(report, files)
    lines += [
        "--",
        f"Sent by the Bedrock governance CostReportFunction. Figures are Cost Explorer {COST_METRIC} of every",
        "Bedrock service name, Marketplace models included, grouped by the cost allocation tag "
        f"{visible_text(report.tag_key)}.",
        "Programs subscribed over SQS, Lambda or HTTPS receive this report as JSON.",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- JSON


def _amount(amount: Decimal) -> str:
    return str(cents(amount))


def _percent(percent: Decimal | None) -> str | None:
    return None if percent is None else str(percent.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _week_doc(week: Week) -> dict[str, str]:
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


def _problem_doc(problem: SourceProblem) -> dict[str, Any]:
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
    budgets = _shown_budgets(report, limit)
    flags, omitted_flags = shown_flags(report, limit)
    return {
        "type": "cost-report",
        "status": report.status.value,
        "generatedAt": report.generated_at.isoformat(),
        "timezone": report.timezone_name,
        "tagKey": report.tag_key,
        "currency": report.currency,
        "costMetric": COST_METRIC,
        "week": _week_doc(report.week),
        "previousWeek": _week_doc(report.previous_week),
        "weeks": [_week_doc(week) for week in report.weeks],
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
        "problems": [_problem_doc(problem) for problem in report.problems],
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
    lines += ["", "--", "Sent by the Bedrock governance CostReportFunction."]
    return Notification(
        subject=f"Bedrock cost report: access denied to {' and '.join(sources)}",
        text="\n".join(lines),
        document={
            "type": "cost-report-access-denied",
            "week": _week_doc(report.week),
            "reportStatus": report.status.value,
            "problems": [_problem_doc(problem) for problem in problems],
            "requiredActions": sorted({p.iam_action for p in problems}),
        },
    )


# --------------------------------------------------------------------------- CSV


# What makes a spreadsheet read a cell as a formula (OWASP's CSV injection list); tag values may
# start with any of them, tab and carriage return included (Bedrock's tag pattern allows \s).
_FORMULA_STARTS: Final = frozenset("=+-@\t\r")


def _csv_cell(text: str) -> str:
    """Keep spreadsheets from running a value as a formula: a leading quote makes it text."""
    return f"'{text}" if text[:1] in _FORMULA_STARTS else text


def render_csv(report: CostReport) -> str:
    """Every (week, project, service) amount of the window, exact, for pivot tables."""
    estimated_weeks = {week for week in report.weeks for day in report.estimated_days if week.contains(day)}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "week_start",
            "week_last_day",
            "tag_key",
            "tag_value",
            "untagged",
            "service",
            "amount",
            "currency",
            "estimated",
        ]
    )
    for cell in report.breakdown:
        writer.writerow(
            [
                cell.week.start.isoformat(),
                cell.week.last_day.isoformat(),
                _csv_cell(report.tag_key),
                _csv_cell(cell.project or ""),
                "true" if cell.project is None else "false",
                _csv_cell(cell.service),
                format(cell.amount.normalize(), "f") if cell.amount else "0",
                report.currency,
                "true" if cell.week in estimated_weeks else "false",
            ]
        )
    return buffer.getvalue()


# --------------------------------------------------------------------------- HTML

_PALETTE: Final = ("#2f6db5", "#e07b24", "#3a9a5b", "#c23b3b", "#7d55b5", "#8c6d46", "#d160a6", "#2aa3b0")
_OTHER: Final = "#b8bec6"
_UNTAGGED: Final = "#6b7079"
_CSS: Final = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d2430;margin:24px;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d9dde3}
.muted{color:#5b6573;font-size:13px}.kpi{display:flex;gap:28px;margin:16px 0}.kpi div{min-width:150px}
.kpi b{display:block;font-size:22px}table{border-collapse:collapse;font-size:13px}
th,td{padding:4px 10px;border-bottom:1px solid #eceef2;text-align:left}td.n,th.n{text-align:right;
font-variant-numeric:tabular-nums}tr.total td{font-weight:bold;border-top:2px solid #1d2430}
.flag{background:#fff7e6;border-left:4px solid #e0a224;padding:6px 10px;margin:6px 0;font-size:13px}
.flag code{display:block;font-size:12px;color:#333;margin-top:2px}.up{color:#b32d2d}.down{color:#2c7a43}
.over{color:#b32d2d;font-weight:bold}svg text{font-family:inherit;font-size:11px;fill:#1d2430}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _svg_number(value: Decimal | float) -> str:
    return f"{float(value):.1f}"


def _axis_step(peak: Decimal) -> Decimal:
    """A round gridline step (1, 2, 2.5 or 5 times a power of ten) so four steps cover ``peak``."""
    if peak <= 0:
        return Decimal(1)
    raw = peak / 4
    power = Decimal(10) ** (raw.adjusted())
    for factor in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if power * factor >= raw:
            return power * factor
    return power * 10


def _svg_stacked_weeks(report: CostReport) -> str:
    """Weekly spend as stacked bars: the top projects, the rest, and untagged."""
    top = sorted(report.projects, key=lambda line: -line.window_total)[: len(_PALETTE)]
    top_keys = {line.key for line in top}
    series: list[tuple[str, tuple[Decimal, ...], str]] = [
        (line.label(report.tag_key), line.weekly, _PALETTE[i]) for i, line in enumerate(top)
    ]
    rest = [line for line in (*report.projects, *report.quiet_projects) if line.key not in top_keys]
    if rest:
        other = tuple(sum((line.weekly[i] for line in rest), ZERO) for i in range(len(report.weeks)))
        series.append((f"other {report.tag_key} values", other, _OTHER))
    if any(report.untagged.weekly):
        series.append((report.untagged.label(report.tag_key), report.untagged.weekly, _UNTAGGED))
    width, height, left, bottom, top_margin = 760, 260, 70, 30, 10
    highest = max(report.total.weekly, default=ZERO)
    step = _axis_step(highest)
    ticks = max(1, math.ceil(highest / step))
    peak = step * ticks
    scale = (height - bottom - top_margin) / float(peak) if peak > 0 else 0.0
    slot = (width - left - 10) / len(report.weeks)
    parts = [
        f'<svg width="{width}" height="{height + 20 * ((len(series) + 3) // 4)}" role="img" '
        f'aria-label="Weekly Bedrock spend by {_e(report.tag_key)}">'
    ]
    for tick in range(ticks + 1):
        value = float(step) * tick
        y = height - bottom - value * scale
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eceef2"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">${value:,.0f}</text>'
        )
    for index, week in enumerate(report.weeks):
        x = left + index * slot + slot * 0.15
        y = float(height - bottom)
        for label, weekly, color in series:
            bar = float(weekly[index]) * scale
            if bar <= 0:
                continue
            y -= bar
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{bar:.1f}" fill="{color}">'
                f"<title>{_e(label)}, week of {_e(week.label())}: {_e(money(weekly[index]))}</title></rect>"
            )
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
            f"{_e(week.short_label())}</text>"
        )
    for index, (label, _weekly, color) in enumerate(series):
        lx = left + (index % 4) * 175
        ly = height + 6 + (index // 4) * 20
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{color}"/>'
            f'<text x="{lx + 17}" y="{ly + 10}">{_e(_clip(label, 26))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _svg_bars(items: Sequence[tuple[str, Decimal, Decimal]], label: str) -> str:
    """Horizontal bars of this week, with a tick for the week before."""
    if not items:
        return ""
    row, left, width = 22, 320, 860
    peak = max((max(current, before) for _, current, before in items), default=ZERO)
    scale = (width - left - 110) / float(peak) if peak > 0 else 0.0
    parts = [f'<svg width="{width}" height="{row * len(items) + 6}" role="img" aria-label="{_e(label)}">']
    for index, (name, current, before) in enumerate(items):
        y = index * row + 3
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{_e(_clip(name, 46))}</text>')
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{float(current) * scale:.1f}" height="14" fill="{_PALETTE[0]}">'
            f"<title>{_e(name)}: {_e(money(current))} (week before {_e(money(before))})</title></rect>"
        )
        tick = left + float(before) * scale
        parts.append(
            f'<line x1="{tick:.1f}" x2="{tick:.1f}" y1="{y}" y2="{y + 20}" stroke="#1d2430" stroke-width="2"/>'
        )
        parts.append(
            f'<text x="{left + float(max(current, before)) * scale + 6:.1f}" y="{y + 14}">{_e(money(current))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _svg_sparkline(values: Sequence[Decimal]) -> str:
    width, height = 96, 22
    peak = max(values, default=ZERO)
    step = width / max(1, len(values) - 1)
    points = " ".join(
        f"{index * step:.1f},{height - 2 - (float(value / peak) * (height - 4) if peak > 0 else 0):.1f}"
        for index, value in enumerate(values)
    )
    return (
        f'<svg width="{width}" height="{height}" aria-hidden="true">'
        f'<polyline points="{points}" fill="none" stroke="{_PALETTE[0]}" stroke-width="1.5"/></svg>'
    )


def _change_cell(line: SpendLine, currency: str) -> str:
    css = "up" if line.change > 0 else "down" if line.change < 0 else ""
    return (
        f'<td class="n {css}">{_e(signed_money(line.change, currency))}</td>'
        f'<td class="n {css}">{_e(percent_text(line.change_percent, current=line.this_week))}</td>'
    )


def _html_spend_rows(report: CostReport) -> str:
    rows: list[str] = []
    lines = [*report.projects]
    if any(report.untagged.weekly):
        lines.append(report.untagged)
    for line in [*lines, report.total]:
        css = ' class="total"' if line.kind is LineKind.TOTAL else ""
        services = ", ".join(f"{name} {money(amount)}" for name, amount in line.by_service.items())
        budget = ""
        if line.budget is not None and line.budget.actual is not None:
            over = ' class="over"' if line.budget.state is BudgetState.OVER else ""
            budget = f"<span{over}>{_e(money(line.budget.actual))} of {_e(money(line.budget.limit))}</span>"
        rows.append(
            f"<tr{css}><td>{_e(line.label(report.tag_key))}</td>"
            f'<td class="n">{_e(money(line.this_week, report.currency))}</td>'
            f'<td class="n">{_e(money(line.previous_week, report.currency))}</td>'
            f"{_change_cell(line, report.currency)}<td>{_svg_sparkline(line.weekly)}</td>"
            f'<td class="n">{_e(money(line.window_total, report.currency))}</td>'
            f'<td>{budget}</td><td class="muted">{_e(services)}</td></tr>'
        )
    return "".join(rows)


def render_html(report: CostReport) -> str:
    """A self-contained page: inline CSS and SVG charts, no scripts, fonts, images or links to fetch."""
    week, previous = report.week, report.previous_week
    title = f"Bedrock spend by {report.tag_key}, week {week.label()}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Nothing may load from anywhere: the report must render offline and leak nothing.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">Monday to Sunday, Cost Explorer days (UTC). Compiled '
        f"{_e(f'{report.generated_at:%a %d %b %Y %H:%M}')} {_e(report.timezone_name)}. "
        f"Cost Explorer {COST_METRIC} of every Bedrock service name.</p>",
    ]
    if report.has_figures:
        total = report.total
        parts.append(
            '<div class="kpi">'
            f"<div>Week {_e(week.label())}<b>{_e(money(total.this_week, report.currency))}</b></div>"
            f"<div>Week before<b>{_e(money(total.previous_week, report.currency))}</b></div>"
            f"<div>Change<b>{_e(signed_money(total.change, report.currency))} "
            f"({_e(percent_text(total.change_percent, current=total.this_week))})</b></div>"
            f"<div>Untagged<b>{_e(money(report.untagged.this_week, report.currency))}</b></div></div>"
        )
    if report.flags:
        parts.append("<h2>Flags</h2>")
        for flag in report.flags:
            steps = "".join(f"<code>{_e(step)}</code>" for step in flag.how_to)
            parts.append(f'<div class="flag">{_e(flag.message)}{steps}</div>')
    if report.has_figures and report.total.window_total:
        parts += [f"<h2>Weekly spend, last {len(report.weeks)} weeks</h2>", _svg_stacked_weeks(report)]
        bars = [(line.label(report.tag_key), line.this_week, line.previous_week) for line in report.projects[:25]]
        if report.untagged.this_week or report.untagged.previous_week:
            bars.append(
                (report.untagged.label(report.tag_key), report.untagged.this_week, report.untagged.previous_week)
            )
        parts += [
            f"<h2>By {_e(report.tag_key)}, {_e(week.label())} (tick: {_e(previous.label())})</h2>",
            _svg_bars(bars, f"Spend by {report.tag_key}"),
            f"<h2>All {_e(report.tag_key)} values</h2>",
            f'<table><tr><th>{_e(report.tag_key)}</th><th class="n">{_e(week.label())}</th>'
            f'<th class="n">{_e(previous.label())}</th><th class="n">Change</th><th class="n">%</th>'
            f'<th>{len(report.weeks)} weeks</th><th class="n">{len(report.weeks)}-week total</th><th>Budget</th>'
            f"<th>Bedrock services this week</th></tr>{_html_spend_rows(report)}</table>",
            "<h2>By Bedrock service</h2>",
            _svg_bars([(line.key or "", line.this_week, line.previous_week) for line in report.services], "By service"),
        ]
        if report.quiet_projects:
            names = ", ".join(line.key or "" for line in report.quiet_projects)
            parts.append(f'<p class="muted">No spend in the last two weeks, some earlier: {_e(names)}</p>')
    if report.budgets:
        rows = "".join(
            f"<tr><td>{_e(b.project if b.project is not None else b.budget_name)}</td><td>{_e(b.budget_name)}</td>"
            f'<td class="n">{_e(money(b.limit, b.unit))}</td>'
            f'<td class="n">{_e("-" if b.actual is None else money(b.actual, b.unit))}</td>'
            f'<td class="n">{_e("-" if b.forecasted is None else money(b.forecasted, b.unit))}</td>'
            f'<td class="{"over" if b.state is BudgetState.OVER else ""}">{_e(_BUDGET_STATE_TEXT[b.state])}</td>'
            f"<td>{_e(b.period_label)}</td></tr>"
            for b in sorted(report.budgets, key=_budget_sort_key)
        )
        parts.append(
            '<h2>Budgets (AWS Budgets)</h2><table><tr><th>Project</th><th>Budget</th><th class="n">Limit</th>'
            f'<th class="n">Spent</th><th class="n">Forecast</th><th>Status</th><th>Period</th></tr>{rows}</table>'
        )
    parts.append('<p class="muted">Sent by the Bedrock governance CostReportFunction.</p></body></html>')
    return "\n".join(parts)
