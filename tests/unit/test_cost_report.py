"""The cost report's figures: weeks, sums, changes, flags and budgets, from Cost Explorer's answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_governance.core.models import budget_name_for
from bedrock_governance.cost.policy import (
    BudgetState,
    FlagKind,
    LineKind,
    Presence,
    ReportStatus,
    SourceProblem,
    Week,
    cost_request,
    parse_cost_results,
    report_weeks,
)
from tests.unit.cost_report_factories import (
    BEDROCK,
    HAIKU,
    LAST,
    PREVIOUS,
    WEEKS,
    Cost,
    budget,
    ce_results,
    day_of,
    report_from,
)

D = Decimal


# --------------------------------------------------------------------------- weeks


@pytest.mark.parametrize(
    ("now", "zone", "expected_start"),
    [
        # Monday 08:00 in Berlin: the week that ended last night.
        (datetime(2026, 11, 23, 7, 0, tzinfo=UTC), "Europe/Berlin", date(2026, 11, 16)),
        # 00:30 Monday in Berlin is still Sunday in UTC: that Cost Explorer day has not ended, so the
        # week before is reported (deliberately changed: it was the week ending that Sunday).
        (datetime(2026, 11, 22, 23, 30, tzinfo=UTC), "Europe/Berlin", date(2026, 11, 9)),
        (datetime(2026, 11, 22, 23, 30, tzinfo=UTC), "UTC", date(2026, 11, 9)),
        # 07:00 UTC Monday is still Sunday in Los Angeles: that week is not complete yet.
        (datetime(2026, 11, 23, 7, 0, tzinfo=UTC), "America/Los_Angeles", date(2026, 11, 9)),
        # Any day of a week reports the week before it.
        (datetime(2026, 11, 29, 12, 0, tzinfo=UTC), "UTC", date(2026, 11, 16)),
    ],
)
def test_the_report_covers_the_last_complete_monday_to_sunday_week_in_the_zone(
    now: datetime, zone: str, expected_start: date
) -> None:
    weeks = report_weeks(now, ZoneInfo(zone))
    assert weeks[-1].start == expected_start
    assert weeks[-1].last_day == expected_start + timedelta(days=6)
    assert len(weeks) == 8
    assert [w.start for w in weeks] == [expected_start - timedelta(weeks=7 - i) for i in range(8)]
    assert all(w.start.weekday() == 0 for w in weeks)


def test_week_labels_read_like_a_calendar() -> None:
    assert Week(date(2026, 11, 16)).label() == "16-22 Nov 2026"
    assert Week(date(2026, 9, 28)).label() == "28 Sep-4 Oct 2026"
    assert Week(date(2025, 12, 29)).label() == "29 Dec 2025-4 Jan 2026"
    assert Week(date(2026, 9, 28)).column_label() == "28 Sep-4 Oct"
    with pytest.raises(ValueError, match="Monday"):
        Week(date(2026, 11, 17))


def test_one_request_covers_the_whole_window_by_tag_and_every_bedrock_service() -> None:
    names = [BEDROCK, HAIKU]
    request = cost_request(WEEKS, names, "Team")
    assert request["TimePeriod"] == {"Start": "2026-09-28", "End": "2026-11-23"}  # End exclusive
    assert request["Granularity"] == "DAILY"
    assert request["GroupBy"] == [{"Type": "TAG", "Key": "Team"}, {"Type": "DIMENSION", "Key": "SERVICE"}]
    assert request["Filter"]["Dimensions"]["Key"] == "SERVICE"
    assert request["Filter"]["Dimensions"]["Values"] == names


# --------------------------------------------------------------------------- parsing


def test_group_keys_become_projects_and_an_empty_value_means_untagged() -> None:
    day = day_of(LAST)
    results = ce_results(
        [
            Cost(day, "chat", BEDROCK, D("1.5")),
            Cost(day, None, BEDROCK, D("2.25")),
            Cost(day, "a$b", HAIKU, D("0.125"), estimated=True),
        ]
    )
    data = parse_cost_results(results, "Project")
    found = {(c.project, c.service, c.amount) for c in data.costs}
    assert found == {("chat", BEDROCK, D("1.5")), (None, BEDROCK, D("2.25")), ("a$b", HAIKU, D("0.125"))}
    assert data.estimated_days == frozenset({day})
    assert data.currency == "USD"


# --------------------------------------------------------------------------- figures


def test_weekly_spend_change_untagged_and_total_are_exact() -> None:
    costs = [
        Cost(day_of(LAST, 0), "chat", BEDROCK, D("100.004")),
        Cost(day_of(LAST, 6), "chat", HAIKU, D("23.456")),
        Cost(day_of(PREVIOUS, 3), "chat", BEDROCK, D("100")),
        Cost(day_of(LAST, 2), None, BEDROCK, D("10.10")),
        Cost(day_of(PREVIOUS, 2), None, BEDROCK, D("20.20")),
        Cost(day_of(WEEKS[0], 1), "search", HAIKU, D("5")),
        # Outside the window (Cost Explorer would not return it; still never counted).
        Cost(LAST.end, "chat", BEDROCK, D("999")),
    ]
    report = report_from(costs, services=[BEDROCK, HAIKU])
    (chat,) = report.projects
    assert chat.key == "chat"
    assert chat.this_week == D("123.460")
    assert chat.previous_week == D("100")
    assert chat.change == D("23.460")
    assert chat.change_percent == D("23.46")
    assert dict(chat.by_service) == {BEDROCK: D("100.004"), HAIKU: D("23.456")}
    assert report.untagged.this_week == D("10.10")
    assert report.untagged.change_percent == D("-50")
    assert report.total.this_week == D("133.560")
    assert report.total.previous_week == D("120.20")
    assert report.total.weekly[0] == D("5")
    assert [line.key for line in report.quiet_projects] == ["search"]
    assert report.status is ReportStatus.COMPLETE


def test_every_bedrock_service_name_is_split_out_marketplace_models_included() -> None:
    costs = [
        Cost(day_of(LAST), "chat", BEDROCK, D("7")),
        Cost(day_of(LAST), "chat", HAIKU, D("3")),
        Cost(day_of(PREVIOUS), None, HAIKU, D("1")),
    ]
    other = "Claude Sonnet 4 (Amazon Bedrock Edition)"
    report = report_from(costs, services=[BEDROCK, HAIKU, other])
    by_name = {line.key: line for line in report.services}
    assert set(by_name) == {BEDROCK, HAIKU, other}
    assert by_name[BEDROCK].this_week == D("7")
    assert by_name[HAIKU].this_week == D("3")
    assert by_name[HAIKU].previous_week == D("1")
    assert by_name[other].this_week == 0
    assert report.services[0].key == BEDROCK
    assert all(line.kind is LineKind.SERVICE for line in report.services)


def test_projects_are_ordered_by_spend_and_movers_by_size_of_change() -> None:
    costs = [
        Cost(day_of(LAST), "small", BEDROCK, D("1")),
        Cost(day_of(LAST), "big", BEDROCK, D("500")),
        Cost(day_of(PREVIOUS), "big", BEDROCK, D("490")),
        Cost(day_of(LAST), "jumpy", BEDROCK, D("80")),
        Cost(day_of(PREVIOUS), "jumpy", BEDROCK, D("200")),
        Cost(day_of(PREVIOUS), None, BEDROCK, D("30")),
    ]
    report = report_from(costs)
    assert [line.key for line in report.projects] == ["big", "jumpy", "small"]
    assert [(line.kind, line.key, line.change) for line in report.movers] == [
        (LineKind.PROJECT, "jumpy", D("-120")),
        (LineKind.UNTAGGED, None, D("-30")),
        (LineKind.PROJECT, "big", D("10")),
        (LineKind.PROJECT, "small", D("1")),
    ]


def test_projects_that_appeared_or_vanished_are_flagged() -> None:
    costs = [
        Cost(day_of(LAST), "new", BEDROCK, D("12")),
        Cost(day_of(WEEKS[2]), "back", BEDROCK, D("4")),
        Cost(day_of(LAST), "back", BEDROCK, D("6")),
        Cost(day_of(PREVIOUS), "gone", BEDROCK, D("45")),
        Cost(day_of(LAST), "steady", BEDROCK, D("1")),
        Cost(day_of(PREVIOUS), "steady", BEDROCK, D("1")),
    ]
    report = report_from(costs)
    presence = {line.key: line.presence for line in report.projects}
    assert presence == {
        "new": Presence.APPEARED,
        "back": Presence.APPEARED,
        "gone": Presence.VANISHED,
        "steady": Presence.CONTINUING,
    }
    appeared = {flag.subject: flag.message for flag in report.flagged(FlagKind.APPEARED)}
    assert set(appeared) == {"new", "back"}
    assert "first spend in the last 8 weeks" in appeared["new"]
    assert "returned after a pause" in appeared["back"]
    (vanished,) = report.flagged(FlagKind.VANISHED)
    assert vanished.subject == "gone"
    assert "$45.00" in vanished.message


def test_estimated_days_are_flagged_and_the_week_marked() -> None:
    costs = [
        Cost(day_of(LAST, 5), "chat", BEDROCK, D("1"), estimated=True),
        Cost(day_of(LAST, 6), "chat", BEDROCK, D("1"), estimated=True),
        Cost(day_of(PREVIOUS, 0), "chat", BEDROCK, D("1")),
    ]
    report = report_from(costs)
    assert report.estimated_days == (day_of(LAST, 5), day_of(LAST, 6))
    assert report.week_is_estimated
    (flag,) = report.flagged(FlagKind.ESTIMATED)
    assert "21-22 Nov 2026" in flag.message

    settled = report_from([Cost(c.day, c.project, c.service, c.amount) for c in costs])
    assert not settled.week_is_estimated
    assert not settled.flagged(FlagKind.ESTIMATED)


def test_an_empty_week_still_makes_a_report_that_says_so() -> None:
    report = report_from([Cost(day_of(PREVIOUS), "chat", BEDROCK, D("9"))])
    assert report.status is ReportStatus.NO_SPEND
    assert report.has_figures
    (flag,) = report.flagged(FlagKind.NO_SPEND)
    assert "16-22 Nov 2026" in flag.message

    nothing = report_from([], services=[])
    assert nothing.status is ReportStatus.NO_SPEND
    assert nothing.flagged(FlagKind.NO_BEDROCK_SERVICES)


def test_data_unavailable_is_a_report_without_figures() -> None:
    problem = SourceProblem("ce", "GetCostAndUsage", "DataUnavailableException", "Data is not available.", False)
    report = report_from([], problems=[problem], available=False)
    assert report.status is ReportStatus.DATA_UNAVAILABLE
    assert not report.has_figures
    assert report.flagged(FlagKind.DATA_UNAVAILABLE)
    assert not report.flagged(FlagKind.SOURCE_FAILED)


def test_access_denied_is_flagged_with_the_iam_action_to_grant() -> None:
    problem = SourceProblem("budgets", "DescribeBudgets", "AccessDeniedException", "not authorized", True)
    report = report_from([Cost(day_of(LAST), "chat", BEDROCK, D("1"))], budgets=None, problems=[problem])
    assert report.status is ReportStatus.COMPLETE
    (flag,) = report.flagged(FlagKind.ACCESS_DENIED)
    assert "budgets:ViewBudget" in flag.how_to[0]


def test_required_tag_keys_that_are_not_active_are_flagged_with_how_to_activate() -> None:
    report = report_from(
        [Cost(day_of(LAST), "chat", BEDROCK, D("1"))],
        required=("Project", "CostCenter", "Cost Center", "Owner"),
        tag_statuses={"Project": "Active", "CostCenter": "Inactive", "Cost Center": "Inactive"},
    )
    inactive = {flag.subject: flag for flag in report.flagged(FlagKind.TAG_NOT_ACTIVE)}
    assert set(inactive) == {"CostCenter", "Cost Center"}
    commands = [step for step in inactive["CostCenter"].how_to if step.startswith("aws ")]
    assert "aws ce update-cost-allocation-tags-status --region us-east-1 --cost-allocation-tags-status " in commands[0]
    assert commands[0].endswith("TagKey=CostCenter,Status=Active")
    # A key with a space is quoted so the command can be pasted as it is.
    assert "'TagKey=Cost Center,Status=Active'" in inactive["Cost Center"].how_to[1]
    # Backfill must start on the first of a month within the window.
    assert commands[1].endswith("--backfill-from 2026-09-01T00:00:00Z")
    (unknown,) = report.flagged(FlagKind.TAG_UNKNOWN_TO_BILLING)
    assert unknown.subject == "Owner"


def test_an_inactive_grouping_key_says_all_spend_shows_as_untagged() -> None:
    report = report_from([Cost(day_of(LAST), None, BEDROCK, D("1"))], tag_statuses={"Project": "Inactive"})
    (flag,) = report.flagged(FlagKind.TAG_NOT_ACTIVE)
    assert flag.subject == "Project"
    assert "counts as without a Project tag" in flag.message


def test_budgets_are_matched_to_projects_by_their_managed_name() -> None:
    costs = [
        Cost(day_of(LAST), "chat", BEDROCK, D("10")),
        Cost(day_of(LAST), "search", BEDROCK, D("10")),
        Cost(day_of(WEEKS[1]), "old", BEDROCK, D("10")),
    ]
    budgets = [
        budget(budget_name_for("chat"), "100", "120.5", "150"),
        budget(budget_name_for("search"), "100", "40", "120"),
        budget(budget_name_for("old"), "50", "0", "0"),
        budget(budget_name_for("retired"), "10", "0"),
        budget("someone-elses-budget", "1000", "900"),
        budget(budget_name_for("usage"), "10", "1", budget_type="USAGE"),
    ]
    report = report_from(costs, budgets=budgets)
    lines = {line.key: line for line in report.projects}
    chat_budget = lines["chat"].budget
    assert chat_budget is not None
    assert chat_budget.state is BudgetState.OVER
    assert chat_budget.used_percent == D("120.5")
    assert lines["search"].budget is not None
    assert lines["search"].budget.state is BudgetState.FORECAST_OVER
    names = [b.budget_name for b in report.budgets]
    assert names == [budget_name_for(p) for p in ("chat", "search", "old", "retired")]
    assert report.budgets[-1].project is None  # a managed budget without spend in the window
    assert report.budgets[0].period_label == "month to date"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=8 * 7 - 1),
            st.sampled_from(["chat", "search", "a", None]),
            st.sampled_from([BEDROCK, HAIKU]),
            st.decimals(min_value=0, max_value=10_000, places=6),
        ),
        max_size=60,
    )
)
def test_every_cent_is_counted_once(rows: list[tuple[int, str | None, str, Decimal]]) -> None:
    costs = [Cost(WEEKS[0].start + timedelta(days=offset), p, s, amount) for offset, p, s, amount in rows]
    report = report_from(costs, services=[BEDROCK, HAIKU])
    for index, week in enumerate(WEEKS):
        expected = sum((c.amount for c in costs if week.contains(c.day)), D(0))
        assert report.total.weekly[index] == expected
        lines = [*report.projects, *report.quiet_projects, report.untagged]
        assert sum((line.weekly[index] for line in lines), D(0)) == expected
        assert sum((line.weekly[index] for line in report.services), D(0)) == expected
    assert sum((cell.amount for cell in report.breakdown), D(0)) == sum((c.amount for c in costs), D(0))
