"""The idle sweep's rails against hostile input: the run time, mass misreads, partial usage answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from hypothesis import given
from hypothesis import strategies as st

from bedrock_governance.aws.cloudwatch import InvocationReader
from bedrock_governance.core.events import (
    MAX_CLOCK_SKEW,
    MAX_EVENT_AGE,
    InvalidRunTime,
    RunTime,
    RunTimeOutOfBounds,
    clock_set_to,
    run_time,
    scheduled_run_time,
    utc_now,
)
from bedrock_governance.core.models import IDLE_SINCE_TAG, UsageHistory
from bedrock_governance.idle.policy import (
    BREAKER_MIN_CANDIDATES,
    IdleAction,
    IdleSettings,
    decide_all,
    hold_mass_misreads,
)
from tests.unit.factories import profile

REAL = datetime(2026, 11, 26, 6, 30, tzinfo=UTC)
SETTINGS = IdleSettings(idle_days=30, grace_days=14, dry_run=False)


# --- the run time ---------------------------------------------------------------------------------


@given(offset=st.timedeltas(min_value=timedelta(days=-4000), max_value=timedelta(days=4000)))
def test_an_event_time_writes_only_within_the_window(offset: timedelta) -> None:
    moment = run_time({"scheduledTime": (REAL + offset).isoformat()}, REAL)
    inside = -MAX_EVENT_AGE <= offset <= MAX_CLOCK_SKEW
    assert moment.within_bounds is inside
    if inside:
        assert moment.for_writing() == REAL + offset
    else:
        with pytest.raises(RunTimeOutOfBounds, match="refused"):
            moment.for_writing()


def test_the_refusal_says_what_was_wrong_in_one_line() -> None:
    with pytest.raises(RunTimeOutOfBounds) as future:
        run_time({"scheduledTime": "2030-01-01T06:30:00Z"}, REAL).for_writing()
    assert "in the future" in str(future.value)
    assert "2030-01-01T06:30:00Z" in str(future.value)
    with pytest.raises(RunTimeOutOfBounds) as past:
        RunTime(REAL - timedelta(days=6), REAL, "--at").for_writing()
    assert "--at" in str(past.value)
    assert "in the past" in str(past.value)
    assert "\n" not in str(past.value)


def test_without_a_time_the_run_decides_on_the_clock() -> None:
    with clock_set_to(REAL):
        assert utc_now() == REAL
        assert scheduled_run_time({}) == REAL
        assert scheduled_run_time({"scheduledTime": "<aws.scheduler.scheduled-time>"}) == REAL
        with pytest.raises(RunTimeOutOfBounds):
            scheduled_run_time({"scheduledTime": "2030-01-01T06:30:00Z"})
    assert utc_now() != REAL, "the clock is the system's again"


def test_a_malformed_event_time_is_a_clear_error() -> None:
    with pytest.raises(InvalidRunTime, match="scheduledTime 'yesterday'"):
        run_time({"scheduledTime": "yesterday"}, REAL)


# --- the circuit breaker --------------------------------------------------------------------------


def estate(busy: int, quiet: int, *, marked_quiet: int = 0) -> list[Any]:
    """Decisions at REAL for busy and quiet profiles (some quiet ones marked long ago)."""
    profiles, usage = [], {}
    end = REAL.replace(minute=0) + timedelta(hours=1)
    for index in range(busy + quiet):
        tags = {IDLE_SINCE_TAG: "2026-10-01"} if busy <= index < busy + marked_quiet else {}
        p = profile(f"p{index:03d}", tags=tags, profile_id=f"p{index:011d}")
        profiles.append(p)
        daily = {end - timedelta(days=2): 10.0} if index < busy else {}
        usage[p.profile_id] = UsageHistory(end - timedelta(days=180), end, daily)
    return list(decide_all(profiles, usage, SETTINGS, REAL))


def test_a_region_that_suddenly_looks_idle_is_held_and_unmarks_still_go_ahead() -> None:
    decisions = estate(busy=2, quiet=18, marked_quiet=3)
    assert {d.action for d in decisions} >= {IdleAction.MARK, IdleAction.DELETE, IdleAction.LEAVE}
    held, trip = hold_mass_misreads("us-east-1", decisions, 50)
    assert trip is not None
    assert (trip.newly_idle, trip.candidates) == (15, 17)
    assert not [d for d in held if d.action in {IdleAction.MARK, IdleAction.DELETE, IdleAction.WOULD_DELETE}]
    assert sum(1 for d in held if d.action is IdleAction.HELD) == 18
    assert "MaxNewlyIdlePercent (50%)" in trip.describe()
    assert [d.action for d in held if d.action is IdleAction.LEAVE] == [IdleAction.LEAVE] * 2


def test_an_ordinary_share_of_newly_idle_profiles_passes() -> None:
    decisions = estate(busy=10, quiet=10)
    held, trip = hold_mass_misreads("us-east-1", decisions, 50)
    assert trip is None
    assert held == tuple(decisions)


def test_a_handful_of_profiles_is_too_few_to_judge_a_share() -> None:
    decisions = estate(busy=0, quiet=BREAKER_MIN_CANDIDATES - 1)
    _, trip = hold_mass_misreads("us-east-1", decisions, 50)
    assert trip is None
    _, trip = hold_mass_misreads("us-east-1", estate(busy=0, quiet=BREAKER_MIN_CANDIDATES), 50)
    assert trip is not None


def test_one_hundred_percent_turns_the_breaker_off() -> None:
    _, trip = hold_mass_misreads("us-east-1", estate(busy=0, quiet=30), 100)
    assert trip is None


# --- partial GetMetricData answers ------------------------------------------------------------------


def read(results: list[dict[str, Any]], messages: list[dict[str, str]] | None = None) -> dict[str, UsageHistory]:
    client = boto3.client("cloudwatch", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": results, "Messages": messages or []},
        {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY},
    )
    with stub:
        return InvocationReader(client).daily_invocations(["aaaaaaaaaaaa", "bbbbbbbbbbbb"], now=REAL, days=30)


def test_a_query_left_out_of_the_answer_is_unknown() -> None:
    usage = read([{"Id": "p0", "StatusCode": "Complete", "Timestamps": [], "Values": []}])
    assert usage["aaaaaaaaaaaa"].complete
    assert not usage["bbbbbbbbbbbb"].complete
    assert "no result" in usage["bbbbbbbbbbbb"].problem


def test_a_message_on_the_answer_makes_every_query_unknown() -> None:
    complete = [{"Id": f"p{i}", "StatusCode": "Complete", "Timestamps": [], "Values": []} for i in range(2)]
    usage = read(complete, [{"Code": "MaxQueryTimeRangeExceed", "Value": "range too long"}])
    assert not any(history.complete for history in usage.values())
    assert "MaxQueryTimeRangeExceed" in usage["aaaaaaaaaaaa"].problem


def test_unknown_usage_decides_nothing() -> None:
    p = profile("marked", tags={IDLE_SINCE_TAG: "2026-10-01"}, profile_id="bbbbbbbbbbbb")
    usage = read([{"Id": "p0", "StatusCode": "Complete", "Timestamps": [], "Values": []}])
    (decision,) = decide_all([p], usage, SETTINGS, REAL)
    assert decision.action is IdleAction.UNKNOWN
