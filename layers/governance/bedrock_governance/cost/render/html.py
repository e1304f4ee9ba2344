"""The report as HTML with charts (S3): every project, no script, inline SVG."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from bedrock_governance.core.notify import money
from bedrock_governance.core.text import sent_by
from bedrock_governance.cost.policy import (
    COST_METRIC,
    ZERO,
    BudgetState,
    CostReport,
    LineKind,
    SpendLine,
)
from bedrock_governance.cost.render.text import (
    BUDGET_STATE_TEXT,
    budget_sort_key,
    clip,
    percent_text,
    signed_money,
)

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
            f'<text x="{lx + 17}" y="{ly + 10}">{_e(clip(label, 26))}</text>'
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
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{_e(clip(name, 46))}</text>')
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
            f'<td class="{"over" if b.state is BudgetState.OVER else ""}">{_e(BUDGET_STATE_TEXT[b.state])}</td>'
            f"<td>{_e(b.period_label)}</td></tr>"
            for b in sorted(report.budgets, key=budget_sort_key)
        )
        parts.append(
            '<h2>Budgets (AWS Budgets)</h2><table><tr><th>Project</th><th>Budget</th><th class="n">Limit</th>'
            f'<th class="n">Spent</th><th class="n">Forecast</th><th>Status</th><th>Period</th></tr>{rows}</table>'
        )
    parts.append(f'<p class="muted">{_e(sent_by("CostReportFunction"))}.</p></body></html>')
    return "\n".join(parts)
