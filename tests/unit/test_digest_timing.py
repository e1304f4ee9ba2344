"""When the weekly tag digest is due: daylight-saving changes, forged run times, regions dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bedrock_governance.tags.policy import ProfileFinding, TagPolicy, evaluate_profile
from bedrock_governance.tags.render import SweepFacts, render
from bedrock_governance.tags.state import DIGEST_SLACK, AlertReason, AlertState, decide_alert, digest_due
from tests.unit.factories import profile

POLICY = TagPolicy(required_keys=("Project", "Owner"))
WEEK = timedelta(days=7)
NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def finding(name: str, region: str = "us-east-1") -> ProfileFinding:
    result = evaluate_profile(profile(name, region=region), POLICY)
    assert result is not None
    return result


def local(zone: str, year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(
    ("zone", "last", "now"),
    [
        # Europe springs forward on 29 Mar 2026: Monday 07:00 to Monday 07:00 is 6 days 23 hours.
        ("Europe/Berlin", (2026, 3, 23, 7), (2026, 3, 30, 7)),
        # New Zealand springs forward on 27 Sep 2026.
        ("Pacific/Auckland", (2026, 9, 21, 7), (2026, 9, 28, 7)),
        # The US springs forward on 8 Mar 2026.
        ("America/New_York", (2026, 3, 2, 7), (2026, 3, 9, 7)),
    ],
)
def test_the_digest_does_not_slip_a_day_when_the_clocks_go_forward(
    zone: str, last: tuple[int, int, int, int], now: tuple[int, int, int, int]
) -> None:
    sent, due = local(zone, *last), local(zone, *now)
    assert due - sent == WEEK - timedelta(hours=1)
    a = finding("a")
    state = decide_alert([a], [], AlertState(), sent, WEEK).next_state
    decision = decide_alert([a], [], state, due, WEEK)
    assert decision.reason is AlertReason.DIGEST
    assert decision.next_state.last_digest_at == due


def test_the_slack_is_small_next_to_a_daily_schedule() -> None:
    # The run a day before the digest is due stays quiet, whatever the clocks do.
    assert not digest_due(NOW, NOW + WEEK - timedelta(days=1) + timedelta(hours=1), WEEK)
    assert digest_due(NOW, NOW + WEEK - DIGEST_SLACK, WEEK)
    assert not digest_due(NOW, NOW + WEEK - DIGEST_SLACK - timedelta(seconds=1), WEEK)


@pytest.mark.parametrize("ahead", [timedelta(seconds=1), timedelta(days=3), timedelta(days=3650)])
def test_a_last_digest_dated_after_the_run_does_not_hold_the_digest_back(ahead: timedelta) -> None:
    a = finding("a")
    forged = AlertState(last_digest_at=NOW + ahead, fingerprints={a.profile.arn: a.fingerprint})
    decision = decide_alert([a], [], forged, NOW, WEEK)
    assert decision.reason is AlertReason.DIGEST
    assert decision.unchanged == (a,)
    assert "after this run" in decision.explanation
    # The state is repaired: from now on the digest is weekly again.
    assert decision.next_state.last_digest_at == NOW
    assert decide_alert([a], [], decision.next_state, NOW + timedelta(days=1), WEEK).reason is AlertReason.NOTHING_NEW


def test_a_retry_of_the_same_run_does_not_send_the_digest_twice() -> None:
    a = finding("a")
    state = decide_alert([a], [], AlertState(), NOW, WEEK).next_state
    assert decide_alert([a], [], state, NOW, WEEK).reason is AlertReason.NOTHING_NEW


def test_findings_in_regions_no_longer_governed_are_dropped_quietly() -> None:
    us, eu = finding("us"), finding("eu", region="eu-west-1")
    state = decide_alert([us, eu], [], AlertState(), NOW, WEEK).next_state
    decision = decide_alert([us], [], state, NOW + timedelta(hours=1), WEEK, governed=("us-east-1",))
    assert decision.resolved == ()
    assert decision.ungoverned == (eu.profile.arn,)
    assert decision.reason is AlertReason.NOTHING_NEW
    assert dict(decision.next_state.fingerprints) == {us.profile.arn: us.fingerprint}
    # Governed again later, its profile's violation is news once more.
    back = decide_alert(
        [us, eu], [], decision.next_state, NOW + timedelta(hours=2), WEEK, governed=("us-east-1", "eu-west-1")
    )
    assert back.new == (eu,)


def test_the_digest_names_dropped_findings_in_one_line_and_resolves_none() -> None:
    us, eu = finding("us"), finding("eu", region="eu-west-1")
    state = decide_alert([us, eu], [], AlertState(), NOW, WEEK).next_state
    decision = decide_alert([us], [], state, NOW + WEEK, WEEK, governed=("us-east-1",))
    facts = SweepFacts(NOW + WEEK, ("us-east-1",), 1, POLICY, (), (us,), {us.profile.arn: "us"})
    note = render(facts, decision, 50)
    assert "RESOLVED" not in note.text
    assert "(deleted)" not in note.text
    assert "Dropped 1 earlier finding in regions no longer governed (eu-west-1)." in note.text.splitlines()
    assert note.document["resolved"] == []
    assert note.document["droppedUngoverned"] == 1


def test_without_the_governed_regions_every_region_of_the_state_counts() -> None:
    eu = finding("eu", region="eu-west-1")
    state = decide_alert([eu], [], AlertState(), NOW, WEEK).next_state
    assert decide_alert([], [], state, NOW + timedelta(hours=1), WEEK).resolved == (eu.profile.arn,)
