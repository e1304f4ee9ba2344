"""The report as CSV (S3): every project, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Final

from bedrock_governance.cost.policy import (
    CostReport,
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
