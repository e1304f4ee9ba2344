"""The weekly Bedrock cost report: pure figures from Cost Explorer results and budget snapshots.

No boto3 and no clock here: the job passes in what Cost Explorer and AWS Budgets answered and the
run's time, and gets back a frozen :class:`CostReport` that the renderers turn into mail, JSON,
HTML and CSV. Every amount is a :class:`~decimal.Decimal`, summed exactly and rounded only for show.

Weeks run Monday to Sunday. The report's week is the last one complete both *in the configured
time zone* and in UTC: Cost Explorer's days are UTC days, so a week here is the seven Cost Explorer
days with those dates, and at Monday 08:00 in a zone at UTC+8 or more the UTC Sunday has not ended
yet. That week is then held back (the report covers the one before, and says so).
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from bedrock_governance.core.models import BUDGET_NAME_PREFIX, BudgetSnapshot, budget_name_for
from bedrock_governance.core.notify import money

#: The cost Cost Explorer and AWS Budgets both default to: what was charged, before discounts are spread.
COST_METRIC: Final = "UnblendedCost"
TREND_WEEKS: Final = 8
MOVER_COUNT: Final = 5
ZERO: Final = Decimal(0)
CENT: Final = Decimal("0.01")
HUNDRED: Final = Decimal(100)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def percent_change(current: Decimal, previous: Decimal) -> Decimal | None:
    """Change in percent of ``previous``; None when there was nothing before to compare with."""
    if previous == 0:
        return None
    return (current - previous) / previous * HUNDRED


# --------------------------------------------------------------------------- weeks


@dataclass(frozen=True, order=True)
class Week:
    """Monday ``start`` to Sunday, as Cost Explorer dates (``end`` is exclusive, like Cost Explorer's)."""

    start: date

    def __post_init__(self) -> None:
        if self.start.weekday() != 0:
            raise ValueError(f"a week starts on a Monday, not on {self.start:%A %Y-%m-%d}")

    @property
    def end(self) -> date:
        return self.start + timedelta(days=7)

    @property
    def last_day(self) -> date:
        return self.start + timedelta(days=6)

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def label(self) -> str:
        """``16-22 Nov 2026``, ``28 Sep-4 Oct 2026`` or ``29 Dec 2025-4 Jan 2026``."""
        first, last = self.start, self.last_day
        if first.year != last.year:
            return f"{first.day} {first:%b %Y}-{last.day} {last:%b %Y}"
        if first.month != last.month:
            return f"{first.day} {first:%b}-{last.day} {last:%b %Y}"
        return f"{first.day}-{last.day} {last:%b %Y}"

    def column_label(self) -> str:
        """``16-22 Nov`` or ``28 Sep-4 Oct``: a table heading."""
        first, last = self.start, self.last_day
        if first.month != last.month:
            return f"{first.day} {first:%b}-{last.day} {last:%b}"
        return f"{first.day}-{last.day} {last:%b}"

    def short_label(self) -> str:
        """``16 Nov``: the column heading of a trend table."""
        return f"{self.start.day} {self.start:%b}"


def _local_week(moment: datetime, zone: tzinfo) -> Week:
    """The last week complete in ``zone``: the one before the week that contains ``moment`` there."""
    local_day = moment.astimezone(zone).date()
    return Week(local_day - timedelta(days=local_day.weekday()) - timedelta(weeks=1))


def _utc_complete(week: Week, moment: datetime) -> bool:
    return datetime.combine(week.end, time(), UTC) <= moment


def report_weeks(now: datetime, zone: tzinfo, count: int = TREND_WEEKS) -> tuple[Week, ...]:
    """The ``count`` weeks up to the last one complete in ``zone`` and in UTC, oldest first (the
    last is the report's)."""
    if count < 2:
        raise ValueError("a report compares at least two weeks")
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    last = _local_week(moment, zone)
    if not _utc_complete(last, moment):
        last = Week(last.start - timedelta(weeks=1))
    return tuple(Week(last.start - timedelta(weeks=back)) for back in reversed(range(count)))


def held_back_week(now: datetime, zone: tzinfo) -> Week | None:
    """The week that ended in ``zone`` but not yet in UTC (so :func:`report_weeks` skipped it), or None."""
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    week = _local_week(moment, zone)
    return None if _utc_complete(week, moment) else week


def cost_request(weeks: Sequence[Week], service_names: Sequence[str], tag_key: str) -> dict[str, Any]:
    """The one GetCostAndUsage request of a report: every day of the window, by tag and service.

    DAILY because Cost Explorer has no weekly granularity and MONTHLY buckets cannot be cut into
    Monday-Sunday weeks. The filter lists every Bedrock service name found, Marketplace models
    included, so the query costs the same whatever the number of projects (pages aside).
    """
    return {
        "TimePeriod": {"Start": weeks[0].start.isoformat(), "End": weeks[-1].end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [COST_METRIC],
        "GroupBy": [{"Type": "TAG", "Key": tag_key}, {"Type": "DIMENSION", "Key": "SERVICE"}],
        "Filter": {"Dimensions": {"Key": "SERVICE", "Values": list(service_names), "MatchOptions": ["EQUALS"]}},
    }


# --------------------------------------------------------------------------- Cost Explorer answers


@dataclass(frozen=True)
class DailyCost:
    """One group of one day: ``project`` is None for cost without the tag (group key ``Project$``)."""

    day: date
    project: str | None
    service: str
    amount: Decimal


@dataclass(frozen=True)
class CostData:
    costs: tuple[DailyCost, ...]
    estimated_days: frozenset[date]
    currency: str = "USD"


def _project_of(group_key: str, tag_key: str) -> str | None:
    prefix = f"{tag_key}$"
    value = group_key[len(prefix) :] if group_key.startswith(prefix) else group_key.partition("$")[2]
    return value or None


def parse_cost_results(results: Iterable[Mapping[str, Any]], tag_key: str) -> CostData:
    """``ResultsByTime`` of :func:`cost_request` (pages merged) as daily costs."""
    costs: list[DailyCost] = []
    estimated: set[date] = set()
    currency = "USD"
    for period in results:
        day = date.fromisoformat(str(period["TimePeriod"]["Start"])[:10])
        if period.get("Estimated"):
            estimated.add(day)
        for group in period.get("Groups", []):
            tag_group, service = group["Keys"][0], group["Keys"][1]
            metric = group["Metrics"][COST_METRIC]
            currency = str(metric.get("Unit") or currency)
            costs.append(DailyCost(day, _project_of(str(tag_group), tag_key), str(service), Decimal(metric["Amount"])))
    return CostData(tuple(costs), frozenset(estimated), currency)


# --------------------------------------------------------------------------- the report model


@dataclass(frozen=True)
class WeeklyCost:
    """Spend of one project (None: untagged) on one Bedrock service in one week: the CSV's rows."""

    week: Week
    project: str | None
    service: str
    amount: Decimal


class LineKind(StrEnum):
    PROJECT = "project"
    UNTAGGED = "untagged"
    TOTAL = "total"
    SERVICE = "service"


class Presence(StrEnum):
    """How a line's spend compares between the week before and the report's week."""

    CONTINUING = "continuing"
    APPEARED = "appeared"
    VANISHED = "vanished"
    QUIET = "quiet"  # spend earlier in the trend window only


class BudgetState(StrEnum):
    OVER = "over"
    FORECAST_OVER = "forecast-over"
    WITHIN = "within"
    NO_LIMIT = "no-limit"


@dataclass(frozen=True)
class BudgetLine:
    """A project's AWS Budget as ``describe_budgets`` reports it (its ``CalculatedSpend``)."""

    project: str | None
    budget_name: str
    limit: Decimal
    unit: str
    time_unit: str
    actual: Decimal | None
    forecasted: Decimal | None

    @property
    def used_percent(self) -> Decimal | None:
        return None if self.actual is None or self.limit <= 0 else self.actual / self.limit * HUNDRED

    @property
    def forecast_percent(self) -> Decimal | None:
        return None if self.forecasted is None or self.limit <= 0 else self.forecasted / self.limit * HUNDRED

    @property
    def state(self) -> BudgetState:
        if self.limit <= 0:
            return BudgetState.NO_LIMIT
        if self.actual is not None and self.actual > self.limit:
            return BudgetState.OVER
        if self.forecasted is not None and self.forecasted > self.limit:
            return BudgetState.FORECAST_OVER
        return BudgetState.WITHIN

    @property
    def period_label(self) -> str:
        """What ``actual`` covers: month to date for the usual monthly budget."""
        return {"MONTHLY": "month to date", "QUARTERLY": "quarter to date", "ANNUALLY": "year to date"}.get(
            self.time_unit, f"{self.time_unit.lower()} period to date"
        )


@dataclass(frozen=True)
class SpendLine:
    """Weekly spend of one project, the untagged cost, the total, or one Bedrock service."""

    kind: LineKind
    key: str | None  # tag value or service name; None for untagged and total
    weekly: tuple[Decimal, ...]  # one amount per report week, oldest first
    by_service: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))  # report week
    budget: BudgetLine | None = None

    @property
    def this_week(self) -> Decimal:
        return self.weekly[-1]

    @property
    def previous_week(self) -> Decimal:
        return self.weekly[-2]

    @property
    def change(self) -> Decimal:
        return self.this_week - self.previous_week

    @property
    def change_percent(self) -> Decimal | None:
        return percent_change(self.this_week, self.previous_week)

    @property
    def window_total(self) -> Decimal:
        return sum(self.weekly, ZERO)

    @property
    def presence(self) -> Presence:
        if self.this_week and not self.previous_week:
            return Presence.APPEARED
        if self.previous_week and not self.this_week:
            return Presence.VANISHED
        if not self.this_week and not self.previous_week:
            return Presence.QUIET
        return Presence.CONTINUING

    def label(self, tag_key: str) -> str:
        """How people read the line. Parentheses cannot occur in tag values, so no project collides."""
        if self.kind is LineKind.UNTAGGED:
            return f"(no {tag_key} tag)"
        if self.kind is LineKind.TOTAL:
            return "Total"
        return self.key or ""


class FlagKind(StrEnum):
    DATA_UNAVAILABLE = "data-unavailable"
    ACCESS_DENIED = "access-denied"
    SOURCE_FAILED = "source-failed"
    NO_BEDROCK_SERVICES = "no-bedrock-services"
    NO_SPEND = "no-spend"
    ESTIMATED = "estimated"
    TAG_NOT_ACTIVE = "tag-not-active"
    TAG_UNKNOWN_TO_BILLING = "tag-unknown-to-billing"
    UNTAGGED_SPEND = "untagged-spend"
    APPEARED = "appeared"
    VANISHED = "vanished"
    WEEK_HELD_BACK = "week-held-back"


@dataclass(frozen=True)
class Flag:
    """Something the reader must know to trust (or act on) the figures, and what to do about it."""

    kind: FlagKind
    message: str
    how_to: tuple[str, ...] = ()
    subject: str | None = None  # the project, tag key or service concerned


@dataclass(frozen=True)
class SourceProblem:
    """An AWS call the report could not make, and why (kept apart from exceptions: reports never crash)."""

    service: str  # "ce", "budgets", "s3"
    operation: str
    code: str
    message: str
    access_denied: bool

    @property
    def source(self) -> str:
        return {"ce": "Cost Explorer", "budgets": "AWS Budgets", "s3": "Amazon S3", "sns": "Amazon SNS"}.get(
            self.service, self.service
        )

    @property
    def iam_action(self) -> str:
        action = "ViewBudget" if self.operation == "DescribeBudgets" else self.operation
        return f"{self.service}:{action}"

    def describe(self) -> str:
        return f"{self.source} {self.operation}: {self.code}: {self.message}"


class ReportStatus(StrEnum):
    COMPLETE = "complete"
    NO_SPEND = "no-spend"
    DATA_UNAVAILABLE = "data-unavailable"
    NO_FIGURES = "no-figures"  # access denied or another failure: nothing to report


@dataclass(frozen=True)
class CostReport:
    generated_at: datetime
    timezone_name: str
    tag_key: str
    weeks: tuple[Week, ...]
    status: ReportStatus
    currency: str
    service_names: tuple[str, ...]
    projects: tuple[SpendLine, ...]  # spend in the report's week or the one before, biggest first
    quiet_projects: tuple[SpendLine, ...]  # spend earlier in the window only
    untagged: SpendLine
    total: SpendLine
    services: tuple[SpendLine, ...]
    movers: tuple[SpendLine, ...]
    budgets: tuple[BudgetLine, ...]  # budgets of reported projects, then managed budgets without spend
    flags: tuple[Flag, ...]
    estimated_days: tuple[date, ...]
    problems: tuple[SourceProblem, ...]
    breakdown: tuple[WeeklyCost, ...] = ()

    @property
    def week(self) -> Week:
        return self.weeks[-1]

    @property
    def previous_week(self) -> Week:
        return self.weeks[-2]

    @property
    def has_figures(self) -> bool:
        return self.status in (ReportStatus.COMPLETE, ReportStatus.NO_SPEND)

    @property
    def week_is_estimated(self) -> bool:
        return any(self.week.contains(day) for day in self.estimated_days)

    def flagged(self, kind: FlagKind) -> tuple[Flag, ...]:
        return tuple(flag for flag in self.flags if flag.kind is kind)


# --------------------------------------------------------------------------- building the report


def _weekly(amounts: Mapping[Week, Decimal], weeks: Sequence[Week]) -> tuple[Decimal, ...]:
    return tuple(amounts.get(week, ZERO) for week in weeks)


def _by_amount(line: SpendLine) -> tuple[Decimal, Decimal, str]:
    # Biggest this week first, then biggest the week before, then by name for a stable order.
    return (-line.this_week, -line.previous_week, line.key or "")


def _budget_line(project: str | None, snapshot: BudgetSnapshot) -> BudgetLine:
    return BudgetLine(
        project=project,
        budget_name=snapshot.name,
        limit=snapshot.limit,
        unit=snapshot.unit,
        time_unit=snapshot.time_unit,
        actual=snapshot.actual_spend,
        forecasted=snapshot.forecasted_spend,
    )


def _day_ranges(days: Sequence[date]) -> str:
    """``21-22 Nov 2026, 24 Nov 2026``: consecutive days joined."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    parts = []
    for first, last in runs:
        if first == last:
            parts.append(f"{first.day} {first:%b %Y}")
        elif (first.year, first.month) == (last.year, last.month):
            parts.append(f"{first.day}-{last.day} {last:%b %Y}")
        else:
            parts.append(f"{first.day} {first:%b}-{last.day} {last:%b %Y}")
    return ", ".join(parts)


def _tag_flags(
    tag_key: str, required_keys: Sequence[str], statuses: Mapping[str, str] | None, window_start: date
) -> list[Flag]:
    if statuses is None:  # could not be read: the problem is reported on its own
        return []
    flags: list[Flag] = []
    backfill_from = window_start.replace(day=1)
    for key in dict.fromkeys((tag_key, *required_keys)):
        status = statuses.get(key)
        if status == "Active":
            continue
        consequence = (
            f"Cost Explorer cannot group spend by it: all spend in this report counts as without a {key} tag "
            "until it is active."
            if key == tag_key
            else "Cost Explorer and AWS Budgets cannot split spend by it."
        )
        activate = shlex.quote(f"TagKey={key},Status=Active")
        if status is None:
            flags.append(
                Flag(
                    FlagKind.TAG_UNKNOWN_TO_BILLING,
                    f"Tag key {key!r} is not known to billing yet: no resource with cost has carried it. {consequence}",
                    (
                        "Billing lists a user-defined tag key about 24 hours after a tagged resource first "
                        "incurs cost; then activate it:",
                        f"aws ce update-cost-allocation-tags-status --region us-east-1 "
                        f"--cost-allocation-tags-status {activate}",
                    ),
                    key,
                )
            )
            continue
        flags.append(
            Flag(
                FlagKind.TAG_NOT_ACTIVE,
                f"Tag key {key!r} is not an active cost allocation tag ({status}). {consequence}",
                (
                    "Activate it in the management (payer) or a standalone account - Billing console, "
                    "Cost allocation tags - or:",
                    f"aws ce update-cost-allocation-tags-status --region us-east-1 "
                    f"--cost-allocation-tags-status {activate}",
                    "Activation is not retroactive; to regroup past spend, request a backfill (once a day):",
                    f"aws ce start-cost-allocation-tag-backfill --region us-east-1 "
                    f"--backfill-from {backfill_from.isoformat()}T00:00:00Z",
                ),
                key,
            )
        )
    return flags


def _held_back_flags(held_back: Week | None, week: Week, now: datetime, timezone_name: str) -> list[Flag]:
    if held_back is None:
        return []
    utc_end = datetime.combine(held_back.end, time(), UTC).astimezone(now.tzinfo or UTC)
    return [
        Flag(
            FlagKind.WEEK_HELD_BACK,
            f"{held_back.label()} is not in this report: Cost Explorer days are UTC days, and "
            f"{held_back.last_day:%a %d %b} UTC had not ended when the report ran. This report covers {week.label()}.",
            (
                f"Schedule the report after {utc_end:%H:%M} on {utc_end:%A}s ({timezone_name}) to report the week "
                "that has just ended.",
            ),
        )
    ]


def _problem_flags(problems: Sequence[SourceProblem]) -> list[Flag]:
    flags: list[Flag] = []
    for problem in problems:
        if problem.code == "DataUnavailableException":
            continue  # reported as the report's status
        if problem.access_denied:
            flags.append(
                Flag(
                    FlagKind.ACCESS_DENIED,
                    f"{problem.source} denied {problem.operation}: {problem.message}",
                    (f"Grant {problem.iam_action} to the report function's role (see the alert topic).",),
                    problem.source,
                )
            )
        else:
            flags.append(Flag(FlagKind.SOURCE_FAILED, problem.describe(), (), problem.source))
    return flags


def _spend_flags(
    *,
    tag_key: str,
    weeks: Sequence[Week],
    projects: Sequence[SpendLine],
    untagged: SpendLine,
    total: SpendLine,
    estimated_days: Sequence[date],
) -> list[Flag]:
    week, previous = weeks[-1], weeks[-2]
    flags: list[Flag] = []
    if total.this_week == 0:
        flags.append(
            Flag(
                FlagKind.NO_SPEND,
                f"No Bedrock spend recorded for {week.label()}.",
                (
                    "If Bedrock was used that week, its cost has not reached Cost Explorer yet (it lags 24-48 "
                    "hours); the next report will show it.",
                ),
            )
        )
    recent = [day for day in estimated_days if previous.start <= day < week.end]
    earlier = len(estimated_days) - len(recent)
    if estimated_days:
        where = (
            f"{_day_ranges(recent)}" + (f", and {earlier} earlier day(s) of the trend" if earlier else "")
            if recent
            else f"{earlier} day(s) of the trend: {_day_ranges(estimated_days)}"
        )
        flags.append(
            Flag(
                FlagKind.ESTIMATED,
                f"Not final yet: Cost Explorer marks these figures as estimated ({where}). They may still change.",
                (
                    "Cost Explorer data lags 24-48 hours and stays estimated until the month's bill is final; "
                    "next week's report shows the settled figures.",
                ),
            )
        )
    if untagged.this_week > 0 and total.this_week > 0:
        share = untagged.this_week / total.this_week * HUNDRED
        flags.append(
            Flag(
                FlagKind.UNTAGGED_SPEND,
                f"{money(untagged.this_week)} ({share.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%) of "
                f"{week.label()} carries no {tag_key} tag and cannot be charged to a project.",
                (
                    f"Call Bedrock through application inference profiles tagged {tag_key}=<project>; on-demand "
                    "calls to a model ID or a system-defined profile are always untagged.",
                ),
            )
        )
    for line in projects:
        if line.presence is Presence.APPEARED:
            earlier = any(amount > 0 for amount in line.weekly[:-2])
            history = "returned after a pause" if earlier else f"first spend in the last {len(weeks)} weeks"
            flags.append(
                Flag(
                    FlagKind.APPEARED,
                    f"{tag_key} {line.key!r} appeared: {money(line.this_week)} in {week.label()}, none the week "
                    f"before ({history}).",
                    subject=line.key,
                )
            )
        elif line.presence is Presence.VANISHED:
            flags.append(
                Flag(
                    FlagKind.VANISHED,
                    f"{tag_key} {line.key!r} vanished: no spend in {week.label()}, {money(line.previous_week)} "
                    f"the week before.",
                    ("Expected if the project stopped; otherwise check its profiles' tags.",),
                    subject=line.key,
                )
            )
    return flags


def _movers(lines: Sequence[SpendLine]) -> tuple[SpendLine, ...]:
    moved = [line for line in lines if line.change != 0]
    moved.sort(key=lambda line: (-abs(line.change), line.key or ""))
    return tuple(moved[:MOVER_COUNT])


def _budgets(lines: Sequence[SpendLine], snapshots: Sequence[BudgetSnapshot]) -> tuple[BudgetLine, ...]:
    by_name = {snapshot.name: snapshot for snapshot in snapshots if snapshot.budget_type == "COST"}
    matched: list[BudgetLine] = []
    for line in lines:
        snapshot = by_name.pop(budget_name_for(line.key or ""), None)
        if snapshot is not None:
            matched.append(_budget_line(line.key, snapshot))
    # Managed budgets of projects without spend in the window: still worth seeing next to the rest.
    unmatched = [
        _budget_line(None, snapshot)
        for name, snapshot in sorted(by_name.items())
        if name.startswith(BUDGET_NAME_PREFIX)
    ]
    return (*matched, *unmatched)


def build_cost_report(
    *,
    now: datetime,
    timezone_name: str,
    tag_key: str,
    required_tag_keys: Sequence[str],
    weeks: Sequence[Week],
    service_names: Sequence[str],
    costs: CostData | None,
    tag_statuses: Mapping[str, str] | None,
    budgets: Sequence[BudgetSnapshot] | None,
    problems: Sequence[SourceProblem] = (),
    held_back: Week | None = None,
) -> CostReport:
    """The report from what the sources answered. ``costs`` None means no figures could be read:
    ``problems`` says why (DataUnavailableException, access denied, ...). ``held_back`` is the week
    that ended locally but not yet in UTC (see :func:`held_back_week`): the report says so."""
    weeks = tuple(weeks)
    if len(weeks) < 2:
        raise ValueError("a report compares at least two weeks")
    data = costs or CostData((), frozenset())
    week_of = {week.start + timedelta(days=offset): week for week in weeks for offset in range(7)}

    cells: dict[tuple[Week, str | None, str], Decimal] = {}
    project_weeks: dict[str | None, dict[Week, Decimal]] = {}
    project_services: dict[str | None, dict[str, Decimal]] = {}
    service_weeks: dict[str, dict[Week, Decimal]] = {name: {} for name in service_names}
    for cost in data.costs:
        week = week_of.get(cost.day)
        if week is None:
            continue  # outside the window: not asked for, so not counted
        cell = (week, cost.project, cost.service)
        cells[cell] = cells.get(cell, ZERO) + cost.amount
        amounts = project_weeks.setdefault(cost.project, {})
        amounts[week] = amounts.get(week, ZERO) + cost.amount
        by_service = service_weeks.setdefault(cost.service, {})
        by_service[week] = by_service.get(week, ZERO) + cost.amount
        if week == weeks[-1]:
            services = project_services.setdefault(cost.project, {})
            services[cost.service] = services.get(cost.service, ZERO) + cost.amount

    def line(kind: LineKind, key: str | None) -> SpendLine:
        services = project_services.get(key, {})
        return SpendLine(
            kind=kind,
            key=key,
            weekly=_weekly(project_weeks.get(key, {}), weeks),
            by_service=MappingProxyType(dict(sorted(services.items(), key=lambda item: (-item[1], item[0])))),
        )

    tagged = sorted((line(LineKind.PROJECT, key) for key in project_weeks if key is not None), key=_by_amount)
    untagged = line(LineKind.UNTAGGED, None)
    all_services: dict[str, Decimal] = {}
    for services in project_services.values():
        for name, amount in services.items():
            all_services[name] = all_services.get(name, ZERO) + amount
    total = SpendLine(
        kind=LineKind.TOTAL,
        key=None,
        weekly=tuple(sum((amounts.get(week, ZERO) for amounts in project_weeks.values()), ZERO) for week in weeks),
        by_service=MappingProxyType(dict(sorted(all_services.items(), key=lambda item: (-item[1], item[0])))),
    )
    services_lines = sorted(
        (SpendLine(LineKind.SERVICE, name, _weekly(amounts, weeks)) for name, amounts in service_weeks.items()),
        key=_by_amount,
    )
    recent = [project for project in tagged if project.presence is not Presence.QUIET]
    quiet = [project for project in tagged if project.presence is Presence.QUIET]
    budget_lines = _budgets([*recent, *quiet], budgets or ())
    budget_of = {budget.project: budget for budget in budget_lines if budget.project is not None}
    recent = [dataclasses.replace(p, budget=budget_of[p.key]) if p.key in budget_of else p for p in recent]

    if costs is not None:
        status = ReportStatus.COMPLETE if total.this_week else ReportStatus.NO_SPEND
    elif any(problem.code == "DataUnavailableException" for problem in problems):
        status = ReportStatus.DATA_UNAVAILABLE
    else:
        status = ReportStatus.NO_FIGURES

    estimated = tuple(sorted(day for day in data.estimated_days if day in week_of))
    flags = [*_held_back_flags(held_back, weeks[-1], now, timezone_name), *_problem_flags(problems)]
    if status is ReportStatus.DATA_UNAVAILABLE:
        flags.insert(
            0,
            Flag(
                FlagKind.DATA_UNAVAILABLE,
                f"Cost Explorer has no data for {weeks[0].start:%d %b %Y} to {weeks[-1].last_day:%d %b %Y} yet "
                "(DataUnavailableException). This report has no figures.",
                (
                    "Cost Explorer needs about 24 hours after it is first enabled, and data lags 24-48 hours; "
                    "next week's report will include this week.",
                ),
            ),
        )
    if costs is not None and not service_names:
        flags.append(
            Flag(
                FlagKind.NO_BEDROCK_SERVICES,
                f"Cost Explorer lists no Bedrock service with cost between {weeks[0].start:%d %b %Y} and "
                f"{weeks[-1].last_day:%d %b %Y}.",
            )
        )
    if costs is not None:
        flags += _spend_flags(
            tag_key=tag_key, weeks=weeks, projects=recent, untagged=untagged, total=total, estimated_days=estimated
        )
    flags += _tag_flags(tag_key, required_tag_keys, tag_statuses, weeks[0].start)

    return CostReport(
        generated_at=now,
        timezone_name=timezone_name,
        tag_key=tag_key,
        weeks=weeks,
        status=status,
        currency=data.currency,
        service_names=tuple(service_names),
        projects=tuple(recent),
        quiet_projects=tuple(quiet),
        untagged=untagged,
        total=total,
        services=tuple(services_lines),
        movers=_movers([*recent, untagged]) if costs is not None else (),
        budgets=budget_lines,
        flags=tuple(flags),
        estimated_days=estimated,
        problems=tuple(problems),
        breakdown=tuple(
            WeeklyCost(week, project, service, amount)
            for (week, project, service), amount in sorted(
                cells.items(), key=lambda item: (item[0][0], item[0][1] is None, item[0][1] or "", item[0][2])
            )
        ),
    )


def with_problem(report: CostReport, problem: SourceProblem) -> CostReport:
    """The report with one more problem (e.g. its S3 copy could not be written) and its flag."""
    return dataclasses.replace(
        report, problems=(*report.problems, problem), flags=(*report.flags, *_problem_flags([problem]))
    )
