"""The idle policy: when a profile is idle, and what happens to it over its life cycle."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_governance.core.models import IDLE_SINCE_TAG, KEEP_TAG, InferenceProfile, UsageHistory
from bedrock_governance.idle.policy import (
    IdleAction,
    IdleDecision,
    IdleSettings,
    cap_deletions,
    decide,
    is_exempt,
    parse_mark,
)
from tests.unit.factories import profile

NOW = datetime(2026, 6, 15, 6, 30, tzinfo=UTC)
END = NOW.replace(minute=0)
OLD = NOW - timedelta(days=400)
SETTINGS = IdleSettings(idle_days=30, grace_days=14, dry_run=False)


def history(daily: Mapping[datetime, float] | None = None, *, complete: bool = True) -> UsageHistory:
    return UsageHistory(start=END - timedelta(days=180), end=END, daily=daily or {}, complete=complete)


def used(days_ago: float, count: float = 3) -> UsageHistory:
    return history({END - timedelta(days=days_ago): count})


def old_profile(tags: Mapping[str, str] | None = None, **kwargs: object) -> InferenceProfile:
    return profile("chatbot-prod", tags=tags, created_at=OLD, **kwargs)  # type: ignore[arg-type]


def test_a_busy_profile_is_left_alone() -> None:
    decision = decide(old_profile(), used(2, count=7), SETTINGS, NOW)
    assert decision.action is IdleAction.LEAVE
    assert decision.invocations == 7
    assert "7 invocations" in decision.reason


def test_no_datapoints_mean_zero_and_an_unmarked_idle_profile_is_marked_today() -> None:
    decision = decide(old_profile({"Owner": "ana@example.com"}), history(), SETTINGS, NOW)
    assert decision.action is IdleAction.MARK
    assert decision.invocations == 0
    assert decision.idle_since == NOW.date()
    assert decision.eligible_on == NOW.date() + timedelta(days=14)
    assert decision.owner == "ana@example.com"


def test_traffic_just_outside_the_window_does_not_count_but_is_the_last_use() -> None:
    decision = decide(old_profile(), used(31), SETTINGS, NOW)
    assert decision.action is IdleAction.MARK
    assert decision.last_used == END - timedelta(days=31)
    assert "between" in decision.last_use_text()


def test_traffic_on_the_windows_first_day_counts() -> None:
    assert decide(old_profile(), used(30), SETTINGS, NOW).action is IdleAction.LEAVE


def test_a_marked_profile_used_again_is_unmarked() -> None:
    tags = {IDLE_SINCE_TAG: "2026-06-01"}
    decision = decide(old_profile(tags), used(1), SETTINGS, NOW)
    assert decision.action is IdleAction.UNMARK
    assert "used again" in decision.reason


def test_a_marked_profile_waits_out_the_grace_period() -> None:
    mark = NOW.date() - timedelta(days=13)
    decision = decide(old_profile({IDLE_SINCE_TAG: mark.isoformat()}), history(), SETTINGS, NOW)
    assert decision.action is IdleAction.WAIT
    assert decision.eligible_on == NOW.date() + timedelta(days=1)


def test_a_marked_profile_is_deleted_on_the_day_the_grace_period_ends() -> None:
    mark = NOW.date() - timedelta(days=14)
    decision = decide(old_profile({IDLE_SINCE_TAG: mark.isoformat()}), history(), SETTINGS, NOW)
    assert decision.action is IdleAction.DELETE
    assert decision.idle_since == mark


def test_dry_run_only_reports_would_delete() -> None:
    mark = NOW.date() - timedelta(days=40)
    dry = IdleSettings(idle_days=30, grace_days=14, dry_run=True)
    decision = decide(old_profile({IDLE_SINCE_TAG: mark.isoformat()}), history(), dry, NOW)
    assert decision.action is IdleAction.WOULD_DELETE
    assert "would be deleted" in decision.reason


@pytest.mark.parametrize("value", ["soon", "2026-13-01", "", "2026-07-01"])
def test_an_unreadable_or_future_mark_restarts_the_grace_period(value: str) -> None:
    decision = decide(old_profile({IDLE_SINCE_TAG: value}), history(), SETTINGS, NOW)
    assert decision.action is IdleAction.MARK
    assert decision.idle_since == NOW.date()


@pytest.mark.parametrize("keep", ["true", "True", " TRUE "])
def test_an_exempt_profile_is_never_marked(keep: str) -> None:
    assert decide(old_profile({KEEP_TAG: keep}), history(), SETTINGS, NOW).action is IdleAction.EXEMPT


def test_an_exempt_profile_loses_a_stale_mark_instead_of_being_deleted() -> None:
    tags = {KEEP_TAG: "true", IDLE_SINCE_TAG: "2020-01-01"}
    assert decide(old_profile(tags), history(), SETTINGS, NOW).action is IdleAction.UNMARK


def test_keep_false_is_no_exemption() -> None:
    assert not is_exempt({KEEP_TAG: "false"})
    assert decide(old_profile({KEEP_TAG: "false"}), history(), SETTINGS, NOW).action is IdleAction.MARK


def test_a_young_profile_is_never_idle() -> None:
    young = profile("new-one", created_at=NOW - timedelta(days=29, hours=23))
    assert decide(young, history(), SETTINGS, NOW).action is IdleAction.YOUNG
    just_old_enough = profile("new-one", created_at=NOW - timedelta(days=30))
    assert decide(just_old_enough, history(), SETTINGS, NOW).action is IdleAction.MARK


@pytest.mark.parametrize("usage", [None, history(complete=False)])
def test_unknown_usage_decides_nothing(usage: UsageHistory | None) -> None:
    marked = old_profile({IDLE_SINCE_TAG: "2020-01-01"})
    decision = decide(marked, usage, SETTINGS, NOW)
    assert decision.action is IdleAction.UNKNOWN
    assert decision.invocations is None


def test_a_system_profile_is_never_touched() -> None:
    system = InferenceProfile(
        profile_id="us.anthropic.claude-3-haiku-20240307-v1:0",
        name="US Claude 3 Haiku",
        arn="arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0",
        region="us-east-1",
        model_arns=(),
        status="ACTIVE",
        created_at=OLD,
    )
    assert decide(system, history(), SETTINGS, NOW).action is IdleAction.NOT_GOVERNED


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        decide(old_profile(), history(), SETTINGS, NOW.replace(tzinfo=None))


def test_settings_refuse_a_window_longer_than_the_usage_history() -> None:
    with pytest.raises(ValueError, match="idle_days"):
        IdleSettings(idle_days=181, grace_days=14)


def test_parse_mark() -> None:
    assert parse_mark("2026-06-01") == date(2026, 6, 1)
    assert parse_mark(None) is None
    assert parse_mark("yesterday") is None


# --- the deletion cap ----------------------------------------------------------------------------


def eligible(name: str, marked_days_ago: int, region: str = "us-east-1") -> IdleDecision:
    p = profile(name, region=region, created_at=OLD, tags={IDLE_SINCE_TAG: "x"})
    mark = NOW.date() - timedelta(days=marked_days_ago)
    return IdleDecision(p, IdleAction.DELETE, "idle", idle_since=mark, eligible_on=mark + timedelta(days=14))


def test_the_cap_keeps_the_longest_marked_and_defers_the_rest_loudly() -> None:
    decisions = [eligible("b", 20), eligible("a", 40), eligible("c", 30, "eu-central-1")]
    capped = cap_deletions(decisions, 2)
    assert [d.action for d in capped] == [IdleAction.DEFERRED, IdleAction.DELETE, IdleAction.DELETE]
    assert "MaxDeletionsPerRun (2)" in capped[0].reason


def test_a_cap_of_zero_deletes_nothing() -> None:
    capped = cap_deletions([eligible("a", 40)], 0)
    assert capped[0].action is IdleAction.DEFERRED


decision_actions = st.sampled_from([IdleAction.DELETE, IdleAction.WOULD_DELETE, IdleAction.LEAVE, IdleAction.MARK])


@given(
    actions=st.lists(st.tuples(decision_actions, st.integers(min_value=14, max_value=400)), max_size=40),
    cap=st.integers(min_value=0, max_value=50),
)
def test_the_cap_is_never_exceeded_and_only_touches_deletions(actions: list[tuple[IdleAction, int]], cap: int) -> None:
    decisions = [
        IdleDecision(eligible(f"p{i}", age).profile, action, "r", idle_since=NOW.date() - timedelta(days=age))
        for i, (action, age) in enumerate(actions)
    ]
    capped = cap_deletions(decisions, cap)
    deleting = [d for d in capped if d.action in {IdleAction.DELETE, IdleAction.WOULD_DELETE}]
    wanted = [d for d in decisions if d.action in {IdleAction.DELETE, IdleAction.WOULD_DELETE}]
    assert len(deleting) == min(cap, len(wanted))
    for before, after in zip(decisions, capped, strict=True):
        assert after.profile is before.profile
        if before.action not in {IdleAction.DELETE, IdleAction.WOULD_DELETE}:
            assert after == before
        else:
            assert after.action in {before.action, IdleAction.DEFERRED}
    # Nobody deferred was marked earlier than someone kept.
    if deleting and len(deleting) < len(wanted):
        oldest_deferred = min(d.idle_since for d in capped if d.action is IdleAction.DEFERRED and d.idle_since)
        newest_kept = max(d.idle_since for d in deleting if d.idle_since)
        assert newest_kept <= oldest_deferred


# --- properties of the life cycle ----------------------------------------------------------------

days_ago = st.floats(min_value=0, max_value=179.9, allow_nan=False)
traffic = st.dictionaries(days_ago, st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=8)
tag_sets = st.fixed_dictionaries(
    {},
    optional={
        IDLE_SINCE_TAG: st.one_of(st.dates().map(date.isoformat), st.text(max_size=12)),
        KEEP_TAG: st.sampled_from(["true", "false", "TRUE", "yes", ""]),
        "Owner": st.just("ana@example.com"),
    },
)


@settings(max_examples=300)
@given(
    traffic=traffic,
    tags=tag_sets,
    age_days=st.floats(min_value=0, max_value=1000, allow_nan=False),
    idle_days=st.integers(min_value=1, max_value=180),
    grace_days=st.integers(min_value=1, max_value=60),
    dry_run=st.booleans(),
)
def test_life_cycle_invariants(
    *,
    traffic: dict[float, float],
    tags: dict[str, str],
    age_days: float,
    idle_days: int,
    grace_days: int,
    dry_run: bool,
) -> None:
    rules = IdleSettings(idle_days=idle_days, grace_days=grace_days, dry_run=dry_run)
    p = profile("x", tags=tags, created_at=NOW - timedelta(days=age_days))
    usage = history({END - timedelta(days=d): v for d, v in traffic.items()})
    decision = decide(p, usage, rules, NOW)
    recent = sum(v for d, v in traffic.items() if END - timedelta(days=d) >= END - timedelta(days=idle_days))

    # Exempt and young profiles are never marked or deleted.
    if is_exempt(tags) or age_days < idle_days:
        assert decision.action in {IdleAction.EXEMPT, IdleAction.YOUNG, IdleAction.UNMARK}
    # A profile with traffic in the window is never marked or deleted.
    if recent > 0:
        assert decision.action not in {IdleAction.MARK, IdleAction.DELETE, IdleAction.WOULD_DELETE, IdleAction.WAIT}
    # Deletion only with dry run off, only for a profile marked at least grace_days ago.
    if decision.action is IdleAction.DELETE:
        assert not dry_run
        mark = parse_mark(tags.get(IDLE_SINCE_TAG))
        assert mark is not None
        assert (NOW.date() - mark).days >= grace_days
    if dry_run:
        assert decision.action is not IdleAction.DELETE
    # Marks are only written on profiles without a valid past mark, and are dated today.
    if decision.action is IdleAction.MARK:
        assert decision.idle_since == NOW.date()
        mark = parse_mark(tags.get(IDLE_SINCE_TAG))
        assert mark is None or mark > NOW.date()
    # Every decision explains itself.
    assert decision.reason
