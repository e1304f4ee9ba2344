"""A time labelled "UTC" or ending in "Z" is in UTC, whatever zone the moment was handed over in."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

from bedrock_governance import cli
from bedrock_governance.aws.s3 import StateRead, UnreadableObject
from bedrock_governance.budgets import render as budget_alert
from bedrock_governance.core import events
from bedrock_governance.core.models import InferenceProfile
from bedrock_governance.idle import render as idle_alert
from bedrock_governance.idle.policy import IdleAction, IdleDecision, IdleOutcome, IdleSettings, OutcomeStatus
from bedrock_governance.tags import render as tag_alert
from bedrock_governance.tags.config import TagComplianceConfig
from bedrock_governance.tags.job import REPORT_PREFIX, TagComplianceJob
from bedrock_governance.tags.policy import TagPolicy, evaluate_profile
from bedrock_governance.tags.state import AlertState, decide_alert
from tests.unit.factories import profile
from tests.unit.test_budget_alert import facts as budget_facts

T = TypeVar("T")

TOKYO = timezone(timedelta(hours=9))
# 16:00 in Tokyo is 07:00 UTC: a label saying "16:00 UTC" would be nine hours wrong.
LOCAL = datetime(2026, 11, 26, 16, 0, tzinfo=TOKYO)
UTC_LABEL = "Thu 26 Nov 2026 07:00 UTC"
POLICY = TagPolicy(required_keys=("Project", "Owner"), allowed_values={})


def test_the_tag_alert_prints_utc() -> None:
    finding = evaluate_profile(profile("chatbot", tags={"Project": "Chat"}), POLICY)
    assert finding is not None
    decision = decide_alert([finding], (), AlertState(), LOCAL, timedelta(days=7))
    facts = tag_alert.SweepFacts(LOCAL, ("us-east-1",), 1, POLICY, (), (finding,))
    text = tag_alert.render(facts, decision, 100).text
    assert UTC_LABEL in text
    assert "16:00 UTC" not in text


def test_the_budget_summary_prints_utc() -> None:
    run = budget_facts(now=LOCAL)
    text = budget_alert.render(run, budget_alert.attention_items(run), frozenset(), 100).text
    assert UTC_LABEL in text
    assert "16:00 UTC" not in text


def test_the_idle_message_prints_utc_for_the_run_and_the_last_use() -> None:
    tagged = profile("chatbot", tags={"Owner": "a@example.com"}, created_at=LOCAL - timedelta(days=300))
    # The day of last use started at 00:00 UTC, handed over as 09:00 in Tokyo.
    last_used = datetime(2026, 10, 1, 9, 0, tzinfo=TOKYO)
    decision = IdleDecision(
        tagged,
        IdleAction.MARK,
        reason="no invocations",
        invocations=0,
        last_used=last_used,
        usage_since=LOCAL - timedelta(days=180),
        idle_since=LOCAL.date(),
        eligible_on=LOCAL.date() + timedelta(days=14),
    )
    assert decision.last_use_text() == "between 2026-10-01 00:00 and 2026-10-02 00:00 UTC"
    run = idle_alert.IdleRunFacts(
        now=LOCAL,
        regions=("us-east-1",),
        settings=IdleSettings(idle_days=30, grace_days=14, dry_run=False),
        max_deletions=10,
        checked=1,
        outcomes=(IdleOutcome(decision, OutcomeStatus.DONE),),
        failures=(),
    )
    text = idle_alert.render(run, 100).text
    assert UTC_LABEL in text
    assert "16:00 UTC" not in text


@dataclasses.dataclass
class FakeStore:
    bucket: str = "governance-state"
    keys: list[str] = dataclasses.field(default_factory=list)

    def read_state(self, key: str, parse: Callable[[dict[str, Any]], T], /) -> StateRead[T]:
        return StateRead(None)

    def quarantine(self, unreadable: UnreadableObject, now: datetime, /) -> UnreadableObject:
        return unreadable

    def put(self, key: str, document: dict[str, Any]) -> str:
        self.keys.append(key)
        return f"s3://{self.bucket}/{key}"


def test_the_full_tag_report_key_ends_in_z_and_is_utc() -> None:
    # Long tag values on 900 profiles: the alert cannot hold them all, so the full list goes to S3.
    long_value = "x" * 256
    profiles = [
        profile(f"untidy-{index:05d}", tags={"Project": long_value, "project": long_value}) for index in range(900)
    ]

    def inventory(region: str) -> list[InferenceProfile]:
        return profiles

    config = TagComplianceConfig.from_env(
        {
            "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
            "GOVERNED_REGIONS": "us-east-1",
            "STATE_BUCKET": "governance-state",
            "AWS_REGION": "us-east-1",
        }
    )
    store = FakeStore()
    job = TagComplianceJob(config, inventory=inventory, publisher=None, store=store)
    result = job.run(LOCAL)
    assert result.full_report_uri is not None
    assert f"{REPORT_PREFIX}2026-11-26T070000Z.json" in store.keys


def test_run_time_messages_print_utc() -> None:
    run = events.RunTime(decision=LOCAL + timedelta(hours=1), real=LOCAL, source="--at")
    assert run.problem().startswith("--at 2026-11-26T08:00:00Z is in the future (the clock says 2026-11-26T07:00:00Z)")


def test_the_command_line_decides_in_utc_through_the_events_run_time() -> None:
    with events.clock_set_to(LOCAL):
        now = cli._decision_time(argparse.Namespace(at=None))
        written = cli._decision_time(argparse.Namespace(at="2026-11-26T15:58:00+09:00"), writes=True)
    assert now == LOCAL
    assert now.utcoffset() == timedelta(0)
    assert f"{now:%H:%M}" == "07:00"
    assert written == datetime(2026, 11, 26, 6, 58, tzinfo=UTC)
    assert written.utcoffset() == timedelta(0)
