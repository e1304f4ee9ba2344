from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bedrock_governance.core.models import RegionFailure
from bedrock_governance.tags.policy import ProfileFinding, TagPolicy, evaluate_profile
from bedrock_governance.tags.render import SweepFacts, subject
from bedrock_governance.tags.state import DIGEST_SLACK, AlertReason, AlertState, decide_alert
from tests.unit.factories import profile

POLICY = TagPolicy(required_keys=("Project", "Owner"))
NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def finding(name: str, tags: dict[str, str], region: str = "us-east-1") -> ProfileFinding:
    result = evaluate_profile(profile(name, tags=tags, region=region), POLICY)
    assert result is not None
    return result


def test_first_run_sends_a_full_digest_and_remembers_it() -> None:
    a = finding("a", {})
    decision = decide_alert([a], [], AlertState(), NOW, WEEK)
    assert decision.reason is AlertReason.DIGEST
    assert decision.new == (a,)
    assert decision.next_state.last_digest_at == NOW
    assert decision.next_state.fingerprints == {a.profile.arn: a.fingerprint}


def test_unchanged_violations_are_not_alerted_again_within_the_week() -> None:
    a = finding("a", {})
    state = decide_alert([a], [], AlertState(), NOW, WEEK).next_state
    again = decide_alert([a], [], state, NOW + timedelta(days=1), WEEK)
    assert again.reason is AlertReason.NOTHING_NEW
    assert not again.should_publish
    assert again.next_state == state


def test_new_and_changed_violations_alert_at_once() -> None:
    a, b = finding("a", {}), finding("b", {"Project": "X"})
    state = decide_alert([a], [], AlertState(), NOW, WEEK).next_state
    a_changed = finding("a", {"Project": "X"})
    decision = decide_alert([a_changed, b], [], state, NOW + timedelta(hours=1), WEEK)
    assert decision.reason is AlertReason.CHANGES
    assert decision.new == (b,)
    assert decision.changed == (a_changed,)
    assert decision.next_state.last_digest_at == NOW


def test_digest_repeats_after_the_interval() -> None:
    a = finding("a", {})
    state = decide_alert([a], [], AlertState(), NOW, WEEK).next_state
    # Deliberately changed: the digest has DIGEST_SLACK of slack for daylight-saving changes.
    early = NOW + WEEK - DIGEST_SLACK - timedelta(minutes=1)
    assert decide_alert([a], [], state, early, WEEK).reason is AlertReason.NOTHING_NEW
    later = decide_alert([a], [], state, NOW + WEEK, WEEK)
    assert later.reason is AlertReason.DIGEST
    assert later.unchanged == (a,)


def test_fixed_profiles_are_reported_resolved_once() -> None:
    a = finding("a", {})
    state = decide_alert([a], [], AlertState(), NOW, WEEK).next_state
    fixed = decide_alert([], [], state, NOW + timedelta(hours=1), WEEK)
    assert fixed.resolved == (a.profile.arn,)
    assert fixed.reason is AlertReason.CHANGES
    assert decide_alert([], [], fixed.next_state, NOW + timedelta(hours=2), WEEK).reason is AlertReason.NOTHING_NEW


def test_a_failed_region_does_not_count_its_profiles_as_resolved() -> None:
    eu = finding("eu", {}, region="eu-central-1")
    us = finding("us", {})
    state = decide_alert([eu, us], [], AlertState(), NOW, WEEK).next_state
    failure = RegionFailure("eu-central-1", "AccessDeniedException", "denied")
    decision = decide_alert([us], [failure], state, NOW + timedelta(hours=1), WEEK)
    assert decision.resolved == ()
    assert decision.new_failures == (failure,)
    assert eu.profile.arn in decision.next_state.fingerprints
    # The same failure the next day is not news.
    repeat = decide_alert([us], [failure], decision.next_state, NOW + timedelta(hours=2), WEEK)
    assert repeat.reason is AlertReason.NOTHING_NEW


def test_state_survives_a_json_round_trip() -> None:
    a = finding("a", {})
    state = decide_alert([a], [RegionFailure("eu-west-1", "Throttling", "slow")], AlertState(), NOW, WEEK).next_state
    assert AlertState.from_json(state.to_json()) == state
    assert AlertState.from_json({"version": 99}) == AlertState()
    assert AlertState.from_json(None) == AlertState()


def test_the_subject_says_what_the_news_is() -> None:
    a, b = finding("a", {}), finding("b", {})
    state = decide_alert([a, b], [], AlertState(), NOW, WEEK).next_state
    facts = SweepFacts(NOW, ("us-east-1",), 2, POLICY, (), (a,))
    fixed = decide_alert([a], [], state, NOW + timedelta(hours=1), WEEK)
    assert subject(facts, fixed) == "Bedrock tag violations: 1 resolved, 1 open (1 region)"
    failure = RegionFailure("eu-west-1", "AccessDeniedException", "denied")
    failed = decide_alert([a, b], [failure], state, NOW + timedelta(hours=1), WEEK)
    assert subject(facts, failed) == "Bedrock tag violations: 1 region not checked, 1 open (1 region)"
