"""The cost report's week is complete in UTC too: Cost Explorer's days are UTC days.

At Monday 08:00 in a zone at UTC+8 or more, the Sunday that ended locally is still running in UTC,
so its Cost Explorer day is not complete: that week is held back, and the report says so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bedrock_governance.cost.config import CostReportConfig
from bedrock_governance.cost.job import CostReportJob
from bedrock_governance.cost.policy import FlagKind, Week, held_back_week, report_weeks
from tests.unit.cost_report_factories import BEDROCK, Cost
from tests.unit.test_cost_report_job import FakeBudgets, FakeCostExplorer, FakePublisher

REPORTS = "arn:aws:sns:us-east-1:123456789012:reports"


def monday_0800(zone: str, day: date = date(2026, 11, 23)) -> datetime:
    assert day.weekday() == 0
    return datetime(day.year, day.month, day.day, 8, 0, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(
    ("zone", "utc_time"),
    [
        ("Asia/Tokyo", datetime(2026, 11, 22, 23, 0, tzinfo=UTC)),  # UTC+9
        ("Pacific/Auckland", datetime(2026, 11, 22, 19, 0, tzinfo=UTC)),  # UTC+13 (daylight saving)
    ],
)
def test_monday_0800_far_east_of_utc_reports_the_last_week_complete_in_utc(zone: str, utc_time: datetime) -> None:
    now = monday_0800(zone)
    assert now == utc_time  # still Sunday 22 Nov in UTC
    weeks = report_weeks(now, ZoneInfo(zone))
    assert weeks[-1] == Week(date(2026, 11, 9))
    assert datetime.combine(weeks[-1].end, datetime.min.time(), UTC) <= now
    assert len(weeks) == 8
    assert [w.start for w in weeks] == [date(2026, 11, 9) - timedelta(weeks=7 - i) for i in range(8)]
    assert held_back_week(now, ZoneInfo(zone)) == Week(date(2026, 11, 16))


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/Los_Angeles"])
def test_where_the_utc_sunday_has_ended_the_week_just_ended_is_reported(zone: str) -> None:
    now = monday_0800(zone)
    assert report_weeks(now, ZoneInfo(zone))[-1] == Week(date(2026, 11, 16))
    assert held_back_week(now, ZoneInfo(zone)) is None


def test_tokyo_after_0900_reports_the_week_just_ended() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert report_weeks(now, ZoneInfo("Asia/Tokyo"))[-1] == Week(date(2026, 11, 16))
    assert held_back_week(now, ZoneInfo("Asia/Tokyo")) is None


@pytest.mark.parametrize(("zone", "hour"), [("Asia/Tokyo", "09:00"), ("Pacific/Auckland", "13:00")])
def test_the_report_says_which_week_it_held_back_and_how_to_schedule_around_it(zone: str, hour: str) -> None:
    ce = FakeCostExplorer(costs=[Cost(date(2026, 11, 10), "chat", BEDROCK, Decimal("3"))])
    publisher = FakePublisher()
    config = CostReportConfig.from_env(
        {"REPORT_TOPIC_ARN": REPORTS, "ALERT_TOPIC_ARN": REPORTS, "SCHEDULE_TIMEZONE": zone}
    )
    job = CostReportJob(
        config,
        cost_explorer=ce,
        budgets=FakeBudgets(),
        publisher=publisher,
        store=None,
    )
    result = job.run(monday_0800(zone))
    assert result.summary()["weekStart"] == "2026-11-09"
    request = ce.requests[1][1]
    assert request["TimePeriod"]["End"] == "2026-11-16"  # no day of the unfinished UTC week is asked for
    (flag,) = [f for f in result.report.flags if f.kind is FlagKind.WEEK_HELD_BACK]
    assert flag.message == (
        "16-22 Nov 2026 is not in this report: Cost Explorer days are UTC days, and Sun 22 Nov UTC had not "
        "ended when the report ran. This report covers 9-15 Nov 2026."
    )
    assert flag.how_to == (
        f"Schedule the report after {hour} on Mondays ({zone}) to report the week that has just ended.",
    )
    (note,) = publisher.to(REPORTS)
    assert "16-22 Nov 2026 is not in this report" in note.text


def test_no_flag_when_nothing_was_held_back() -> None:
    ce = FakeCostExplorer()
    config = CostReportConfig.from_env(
        {"REPORT_TOPIC_ARN": REPORTS, "ALERT_TOPIC_ARN": REPORTS, "SCHEDULE_TIMEZONE": "Europe/Berlin"}
    )
    job = CostReportJob(
        config,
        cost_explorer=ce,
        budgets=FakeBudgets(),
        publisher=None,
        store=None,
    )
    result = job.run(monday_0800("Europe/Berlin"))
    assert not [f for f in result.report.flags if f.kind is FlagKind.WEEK_HELD_BACK]
