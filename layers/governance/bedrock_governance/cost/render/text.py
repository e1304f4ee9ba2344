"""The report as plain text (the mail), its subject, and the formatting the other forms share."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from bedrock_governance.core.notify import money, table
from bedrock_governance.core.text import footer, rule, visible_text
from bedrock_governance.cost.policy import (
    COST_METRIC,
    ZERO,
    BudgetLine,
    BudgetState,
    CostReport,
    Flag,
    FlagKind,
    ReportStatus,
    SpendLine,
    cents,
)

RULE: Final = rule(78)  # the report's tables are wider than the other messages
TEXT_WIDTH: Final = 100
LABEL_WIDTH: Final = 32
SPARK: Final = "▁▂▃▄▅▆▇█"
BUDGET_STATE_TEXT: Final = {
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
        return money(amount)
    whole = amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{'-' if whole < 0 else ''}${abs(whole):,}"


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


def clip(text: str, width: int = LABEL_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def line_label(line: SpendLine, report: CostReport) -> str:
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
        clip(line_label(line, report)),
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
    rows = [(clip(line_label(line, report), 24), *(compact_money(v) for v in line.weekly)) for line in lines]
    headers = (visible_text(report.tag_key), *(week.short_label() for week in report.weeks))
    return _with_total_rule(table(headers, rows, right_align=frozenset(range(1, len(report.weeks) + 1))))


def _mover_lines(report: CostReport) -> list[str]:
    rows: list[tuple[str, ...]] = [
        (
            f"{index}.",
            clip(line_label(line, report)),
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


def budget_sort_key(budget: BudgetLine) -> tuple[int, Decimal, str]:
    order = [BudgetState.OVER, BudgetState.FORECAST_OVER, BudgetState.WITHIN, BudgetState.NO_LIMIT]
    return (order.index(budget.state), -(budget.used_percent or ZERO), budget.budget_name)


def _budget_table(budgets: Sequence[BudgetLine], tag_key: str) -> list[str]:
    rows: list[tuple[str, ...]] = [
        (
            clip(visible_text(budget.project if budget.project is not None else budget.budget_name), 28),
            money(budget.limit, budget.unit),
            "-" if budget.actual is None else money(budget.actual, budget.unit),
            "-" if budget.used_percent is None else f"{budget.used_percent.quantize(Decimal(1), ROUND_HALF_UP)}%",
            "-" if budget.forecasted is None else money(budget.forecasted, budget.unit),
            "-"
            if budget.forecast_percent is None
            else f"{budget.forecast_percent.quantize(Decimal(1), ROUND_HALF_UP)}%",
            BUDGET_STATE_TEXT[budget.state],
        )
        for budget in budgets
    ]
    headers = (visible_text(tag_key), "Budget", "Spent", "Used", "Forecast", "F/cast %", "Status")
    return table(headers, rows, right_align=frozenset({1, 2, 3, 4, 5})).splitlines()


def shown_budgets(report: CostReport, limit: int) -> list[BudgetLine]:
    return sorted(report.budgets, key=budget_sort_key)[:limit]


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
    shown = shown_budgets(report, limit)
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
    lines += footer(
        "CostReportFunction",
        [
            "Bedrock service name, Marketplace models included, grouped by the cost allocation tag "
            f"{visible_text(report.tag_key)}.",
            "Programs subscribed over SQS, Lambda or HTTPS receive this report as JSON.",
        ],
        rest=f". Figures are Cost Explorer {COST_METRIC} of every",
    )
    return "\n".join(lines)
