"""The idle-profile message: what people and programs read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bedrock_governance.core.errors import ConfigError
from bedrock_governance.core.models import RegionFailure
from bedrock_governance.core.notify import fit
from bedrock_governance.idle.config import IDLE_DAYS_MAX, IdleConfig
from bedrock_governance.idle.policy import (
    USAGE_HISTORY_DAYS,
    IdleAction,
    IdleDecision,
    IdleOutcome,
    IdleSettings,
    OutcomeStatus,
)
from bedrock_governance.idle.render import IdleRunFacts, item_count, render
from tests.unit.factories import profile

NOW = datetime(2026, 6, 15, 6, 30, tzinfo=UTC)
TODAY = NOW.date()


def outcome(name: str, action: IdleAction, status: OutcomeStatus = OutcomeStatus.DONE, **extra: object) -> IdleOutcome:
    p = profile(name, tags={"Owner": f"{name}@example.com", "Project": "Chat"}, created_at=NOW - timedelta(days=300))
    decision = IdleDecision(
        p,
        action,
        reason=f"because {name}",
        invocations=0,
        last_used=NOW.replace(minute=0) - timedelta(days=45),
        usage_since=NOW - timedelta(days=180),
        idle_since=TODAY,
        eligible_on=TODAY + timedelta(days=14),
    )
    return IdleOutcome(decision, status, **extra)  # type: ignore[arg-type]


def facts(*outcomes: IdleOutcome, dry_run: bool = False, failures: tuple[RegionFailure, ...] = ()) -> IdleRunFacts:
    return IdleRunFacts(
        now=NOW,
        regions=("us-east-1", "eu-central-1"),
        settings=IdleSettings(idle_days=30, grace_days=14, dry_run=dry_run),
        max_deletions=10,
        checked=len(outcomes),
        outcomes=outcomes,
        failures=failures,
    )


def test_a_warning_names_owner_project_last_use_and_deletion_date() -> None:
    message = render(facts(outcome("chatbot", IdleAction.MARK)), 100)
    assert "NEWLY IDLE" in message.text
    assert "Owner: chatbot@example.com   Project: Chat" in message.text
    assert "Last use: between 2026-05-01 06:00 and 2026-05-02 06:00 UTC" in message.text
    assert f"eligible for deletion on {TODAY + timedelta(days=14)}" in message.text
    assert "aws bedrock tag-resource" in message.text
    assert "key=governance:keep,value=true" in message.text
    (item,) = message.document["profiles"]
    assert item["section"] == "newlyIdle"
    assert item["owner"] == "chatbot@example.com"
    assert item["eligibleForDeletionOn"] == (TODAY + timedelta(days=14)).isoformat()
    assert item["lastUse"]["from"] == "2026-05-01T06:00:00+00:00"


def test_deletions_name_their_record_and_failures_their_cause() -> None:
    message = render(
        facts(
            outcome("gone", IdleAction.DELETE, record_uri="s3://b/deletion-records/us-east-1/gone/x.json"),
            outcome("busy", IdleAction.DELETE, OutcomeStatus.IN_USE, detail="still in use, not deleted (in use)"),
        ),
        100,
    )
    assert "DELETED (1)" in message.text
    assert "Deletion record (to re-create it): s3://b/deletion-records/us-east-1/gone/x.json" in message.text
    assert "NOT DELETED" in message.text
    assert "Result: in-use: still in use" in message.text
    assert message.document["counts"]["deleted"] == 1
    assert message.document["counts"]["deletionsNotDone"] == 1


def test_the_cap_is_shouted_in_subject_and_first_lines() -> None:
    message = render(facts(outcome("a", IdleAction.DELETE), outcome("b", IdleAction.DEFERRED)), 100)
    assert message.subject.startswith("[DELETION CAP REACHED]")
    assert message.text.splitlines()[1].startswith("DELETION CAP REACHED: MaxDeletionsPerRun is 10")
    assert message.document["deletionCapReached"] is True


def test_a_dry_run_that_hits_the_cap_says_what_a_real_run_would_leave() -> None:
    message = render(facts(outcome("a", IdleAction.WOULD_DELETE), outcome("b", IdleAction.DEFERRED), dry_run=True), 100)
    assert "1 more eligible profile would NOT be deleted by a real run." in message.text
    assert message.subject.startswith("[DELETION CAP REACHED] Bedrock idle profiles (dry run)")


def test_a_dry_run_says_so() -> None:
    message = render(facts(outcome("a", IdleAction.WOULD_DELETE), dry_run=True), 100)
    assert "(dry run)" in message.subject
    assert "WOULD BE DELETED" in message.text
    assert message.document["dryRun"] is True


def test_failed_regions_are_listed() -> None:
    failure = RegionFailure("eu-central-1", "AccessDenied", "no")
    run = facts(failures=(failure,))
    assert run.worth_a_message
    message = render(run, 100)
    assert "REGIONS NOT CHECKED" in message.text
    assert message.document["failedRegions"] == [
        {"region": "eu-central-1", "errorCode": "AccessDenied", "message": "no"}
    ]


def test_a_run_with_only_busy_young_and_exempt_profiles_is_not_worth_a_message() -> None:
    run = facts(outcome("a", IdleAction.LEAVE), outcome("b", IdleAction.YOUNG), outcome("c", IdleAction.EXEMPT))
    assert not run.worth_a_message


def test_thousands_of_profiles_fit_one_sns_message() -> None:
    many = tuple(outcome(f"profile-{i:05d}", IdleAction.MARK) for i in range(3000))
    run = facts(*many)
    message = fit(lambda limit: render(run, limit), item_count(run))
    assert message.fits()
    assert message.document["truncated"] is True
    shown = len(message.document["profiles"])
    assert 0 < shown < 3000
    assert message.document["omitted"] == 3000 - shown
    assert f"... and {3000 - shown:,} more" in message.text
    bodies = json.loads(message.sns_message())
    assert json.loads(bodies.get("sqs") or bodies["default"])  # what SQS subscribers get


def test_subjects_stay_within_sns_limits() -> None:
    run = facts(*(outcome(f"p{i}", action) for i, action in enumerate(IdleAction)))
    message = render(run, 100)
    assert len(message.subject) <= 100
    assert message.subject.isascii()


# --- settings ----------------------------------------------------------------------------------

ENV = {
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
    "GOVERNANCE_BUCKET": "governance-bucket",
    "AWS_REGION": "us-east-1",
}


def test_defaults_are_safe() -> None:
    config = IdleConfig.from_env(ENV)
    assert (config.idle_days, config.grace_days, config.max_deletions_per_run) == (30, 14, 10)
    assert config.cleanup_dry_run is True
    assert config.regions == ("us-east-1",)


def test_settings_come_from_the_environment() -> None:
    config = IdleConfig.from_env(
        ENV | {"IDLE_DAYS": "45", "IDLE_GRACE_DAYS": "7", "CLEANUP_DRY_RUN": "false", "MAX_DELETIONS_PER_RUN": "0"}
    )
    assert (config.idle_days, config.grace_days, config.cleanup_dry_run, config.max_deletions_per_run) == (
        45,
        7,
        False,
        0,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("IDLE_DAYS", "0"),
        ("IDLE_DAYS", "181"),
        ("IDLE_GRACE_DAYS", "0"),
        ("IDLE_GRACE_DAYS", "soon"),
        ("CLEANUP_DRY_RUN", "maybe"),
        ("MAX_DELETIONS_PER_RUN", "-1"),
        ("GOVERNANCE_BUCKET", ""),
        ("GOVERNANCE_BUCKET", "Not A Bucket"),
    ],
)
def test_a_malformed_setting_names_itself(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        IdleConfig.from_env(ENV | {name: value})
    assert raised.value.setting == name


def test_the_idle_days_bound_is_the_usage_history() -> None:
    assert IDLE_DAYS_MAX == USAGE_HISTORY_DAYS
