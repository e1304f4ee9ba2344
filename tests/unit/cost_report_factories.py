"""Builders for cost-report tests: Cost Explorer answers and budget snapshots as AWS shapes them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bedrock_governance.core.models import BudgetSnapshot
from bedrock_governance.cost.policy import (
    CostReport,
    SourceProblem,
    Week,
    build_cost_report,
    parse_cost_results,
    report_weeks,
)

# Monday 23 Nov 2026, 08:00 in Berlin: the report covers 16-22 Nov 2026.
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
WEEKS = report_weeks(NOW, BERLIN)
LAST = WEEKS[-1]
PREVIOUS = WEEKS[-2]
HAIKU = "Claude 3 Haiku (Amazon Bedrock Edition)"
BEDROCK = "Amazon Bedrock"


@dataclass(frozen=True)
class Cost:
    """One ledger line: ``project`` None is cost without the Project tag."""

    day: date
    project: str | None
    service: str
    amount: Decimal
    estimated: bool = False


def day_of(week: Week, weekday: int = 0) -> date:
    return week.start + timedelta(days=weekday)


def ce_results(costs: Iterable[Cost], weeks: Sequence[Week] = WEEKS, tag_key: str = "Project") -> list[dict[str, Any]]:
    """``ResultsByTime`` of a DAILY GetCostAndUsage grouped by TAG and SERVICE, as AWS answers it:
    one entry per day of the window (empty days included), amounts as strings."""
    by_day: dict[date, dict[tuple[str, str], Decimal]] = {}
    estimated: set[date] = set()
    for cost in costs:
        key = (f"{tag_key}${cost.project or ''}", cost.service)
        groups = by_day.setdefault(cost.day, {})
        groups[key] = groups.get(key, Decimal(0)) + cost.amount
        if cost.estimated:
            estimated.add(cost.day)
    results = []
    day = weeks[0].start
    while day < weeks[-1].end:
        results.append(
            {
                "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": [
                    {"Keys": [tag, service], "Metrics": {"UnblendedCost": {"Amount": str(amount), "Unit": "USD"}}}
                    for (tag, service), amount in sorted(by_day.get(day, {}).items())
                ],
                "Estimated": day in estimated,
            }
        )
        day += timedelta(days=1)
    return results


def budget(
    name: str,
    limit: str,
    actual: str | None,
    forecasted: str | None = None,
    *,
    time_unit: str = "MONTHLY",
    budget_type: str = "COST",
) -> BudgetSnapshot:
    return BudgetSnapshot(
        name=name,
        limit=Decimal(limit),
        unit="USD",
        time_unit=time_unit,
        budget_type=budget_type,
        actual_spend=None if actual is None else Decimal(actual),
        forecasted_spend=None if forecasted is None else Decimal(forecasted),
    )


def report_from(
    costs: Iterable[Cost],
    *,
    services: Sequence[str] | None = None,
    tag_statuses: dict[str, str] | None = None,
    required: Sequence[str] = ("Project",),
    budgets: Sequence[BudgetSnapshot] | None = (),
    problems: Sequence[SourceProblem] = (),
    available: bool = True,
) -> CostReport:
    costs = list(costs)
    names = services if services is not None else sorted({cost.service for cost in costs})
    return build_cost_report(
        now=NOW.astimezone(BERLIN),
        timezone_name="Europe/Berlin",
        tag_key="Project",
        required_tag_keys=required,
        weeks=WEEKS,
        service_names=names,
        costs=parse_cost_results(ce_results(costs), "Project") if available else None,
        tag_statuses={"Project": "Active"} if tag_statuses is None else tag_statuses,
        budgets=budgets,
        problems=problems,
    )
