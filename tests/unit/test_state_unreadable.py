"""Saved state this code did not write is refused with UnreadableState, never half-read or crashed on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bedrock_governance.budgets.job import parse_state
from bedrock_governance.budgets.render import AppliedChange, BudgetAlertState
from bedrock_governance.core.errors import UnreadableState
from bedrock_governance.tags.state import AlertState, decide_alert
from tests.unit.factories import profile

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
ARN = profile("a").arn


def alert_state(**fields: Any) -> dict[str, Any]:
    return {"version": 1, "lastDigestAt": NOW.isoformat(), "fingerprints": {ARN: "f1"}, "regionErrors": {}} | fields


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (alert_state(lastDigestAt="2026-11-20T07:00:00"), "lastDigestAt has no time zone"),
        (alert_state(lastDigestAt="last tuesday"), "lastDigestAt is not a time"),
        (alert_state(lastDigestAt=1700000000), "lastDigestAt is not a time"),
        (alert_state(fingerprints=[ARN]), "fingerprints is not an object of strings"),
        (alert_state(fingerprints={ARN: 7}), "fingerprints is not an object of strings"),
        (alert_state(fingerprints={"not-an-arn": "f1"}), "not a profile ARN: 'not-an-arn'"),
        (alert_state(fingerprints={"arn:aws:s3:::bucket": "f1"}), "not a profile ARN"),
        (alert_state(regionErrors="eu-west-1"), "regionErrors is not an object of strings"),
    ],
)
def test_the_alert_state_refuses_what_it_did_not_write(document: dict[str, Any], problem: str) -> None:
    with pytest.raises(UnreadableState, match=problem):
        AlertState.from_json(document)


def test_the_alert_state_still_reads_what_it_wrote() -> None:
    state = AlertState.from_json(alert_state())
    assert state.last_digest_at == NOW
    assert dict(state.fingerprints) == {ARN: "f1"}
    # What decide_alert saves reads back the same (a state from another version still counts as none).
    saved = decide_alert([], [], state, NOW + timedelta(days=8), timedelta(days=7)).next_state
    assert AlertState.from_json(saved.to_json()) == saved
    assert AlertState.from_json({"version": 2, "fingerprints": "junk"}) == AlertState()


def budget_state(**fields: Any) -> dict[str, Any]:
    change = {"name": "bedrock-project-chat", "project": "chat", "action": "created", "reasons": ["new project"]}
    return {
        "version": 1,
        "announced": ["orphan:bedrock-project-old"],
        "pending": [change],
        "activationRefusedAt": NOW.isoformat(),
        "activationRefusedKeys": ["Project"],
    } | fields


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (budget_state(pending=[{"project": "chat", "action": "created"}]), r"pending\[0\] is not a budget change"),
        (budget_state(pending=["bedrock-project-chat"]), r"pending\[0\] is not a budget change"),
        (budget_state(pending=[{"name": "b", "action": "renamed"}]), r"pending\[0\]"),
        (budget_state(pending=[{"name": "b", "action": "created", "reasons": "x"}]), r"pending\[0\]"),
        (budget_state(pending={"name": "b"}), "pending is not a list"),
        (budget_state(announced="orphan:x"), "announced is not a list of strings"),
        (budget_state(activationRefusedKeys=[1]), "activationRefusedKeys is not a list of strings"),
        (budget_state(activationRefusedAt="2026-11-20T07:00:00"), "activationRefusedAt is not a time"),
        (budget_state(activationRefusedAt=12), "activationRefusedAt is not a time"),
    ],
)
def test_the_budget_state_refuses_what_it_did_not_write(document: dict[str, Any], problem: str) -> None:
    with pytest.raises(UnreadableState, match=problem):
        parse_state(document)


def test_the_budget_state_still_reads_what_it_wrote() -> None:
    state = parse_state(budget_state())
    assert state.pending == (AppliedChange("bedrock-project-chat", "chat", "created", ("new project",)),)
    assert state.activation_refused_at == NOW
    assert parse_state(state.to_json()) == state
    assert parse_state({"version": 999, "pending": "junk"}) == BudgetAlertState()
