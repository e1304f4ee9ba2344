"""The idle job's orchestration with in-memory adapters: caps, per-profile failures, safety checks."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from bedrock_governance.aws.tagging import TagWriteFailure
from bedrock_governance.core.errors import AccessDenied, AwsError, Conflict, NotFound, ServiceUnavailable
from bedrock_governance.core.models import IDLE_SINCE_TAG, KEEP_TAG, InferenceProfile, UsageHistory
from bedrock_governance.core.notify import Notification
from bedrock_governance.idle.config import IdleConfig
from bedrock_governance.idle.job import IdleProfileJob, RegionApis
from bedrock_governance.idle.policy import IdleAction, OutcomeStatus
from tests.unit.factories import profile

NOW = datetime(2026, 6, 15, 6, 30, tzinfo=UTC)
OLD = NOW - timedelta(days=400)
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
LONG_AGO = (NOW.date() - timedelta(days=30)).isoformat()


def aws_error(cls: type[Exception], code: str) -> Exception:
    return cls("bedrock", "Op", code, f"{code} happened")


@dataclass
class FakeRegion:
    """One region's Bedrock, Tagging and CloudWatch, in memory, with a log of writes."""

    region: str
    profiles: dict[str, InferenceProfile] = field(default_factory=dict)
    invocations: dict[str, float] = field(default_factory=dict)
    errors: dict[tuple[str, str], Exception] = field(default_factory=dict)  # (operation, arn) -> error
    writes: list[tuple[str, str]] = field(default_factory=list)
    journal: list[str] | None = None

    def add(self, name: str, tags: Mapping[str, str] | None = None, *, used: float = 0) -> InferenceProfile:
        p = profile(name, tags=tags, region=self.region, created_at=OLD)
        self.profiles[p.arn] = p
        self.invocations[p.profile_id] = used
        return p

    def _maybe_fail(self, operation: str, arn: str) -> None:
        if (operation, arn) in self.errors:
            raise self.errors[(operation, arn)]

    # BedrockProfiles
    def list_application_profiles(self) -> list[InferenceProfile]:
        return [p.with_tags({}) for p in self.profiles.values()]

    def get_profile(self, arn: str) -> dict[str, Any]:
        self._maybe_fail("get", arn)
        if arn not in self.profiles:
            raise aws_error(NotFound, "ResourceNotFoundException")
        p = self.profiles[arn]
        return {
            "inferenceProfileName": p.name,
            "models": [{"modelArn": m} for m in p.model_arns],
            "type": "APPLICATION",
            "createdAt": p.created_at,
        }

    def tags_of(self, arn: str) -> dict[str, str]:
        return dict(self.profiles[arn].tags)

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        self._maybe_fail("tag", arn)
        self.writes.append(("tag", arn))
        self.profiles[arn] = self.profiles[arn].with_tags(dict(self.profiles[arn].tags) | dict(tags))

    def untag(self, arn: str, keys: list[str]) -> None:
        self._maybe_fail("untag", arn)
        self.writes.append(("untag", arn))
        self.profiles[arn] = self.profiles[arn].with_tags(
            {k: v for k, v in self.profiles[arn].tags.items() if k not in keys}
        )

    def delete_profile(self, arn: str) -> None:
        self._maybe_fail("delete", arn)
        self.writes.append(("delete", arn))
        if self.journal is not None:
            self.journal.append(f"delete {arn}")
        del self.profiles[arn]

    def list_system_profiles(self) -> list[Mapping[str, Any]]:
        return []

    # TagReader
    def tags_by_arn(self, arns: Sequence[str]) -> dict[str, dict[str, str]]:
        return {arn: dict(self.profiles[arn].tags) for arn in arns}

    # InvocationReader
    def daily_invocations(self, ids: Sequence[str], *, now: datetime, days: int) -> dict[str, UsageHistory]:
        self._maybe_fail("usage", "*")
        end = now.replace(minute=0, second=0, microsecond=0)
        return {
            pid: UsageHistory(end - timedelta(days=days), end, {end - timedelta(days=2): self.invocations[pid]})
            for pid in ids
        }


@dataclass
class FakeTagWriter:
    """The Tagging API's bulk writes over a fake region: per-ARN failures reported, not raised."""

    region: FakeRegion

    def tag(self, arns: Sequence[str], tags: Mapping[str, str]) -> dict[str, TagWriteFailure]:
        return self._each(arns, lambda arn: self.region.tag(arn, tags))

    def untag(self, arns: Sequence[str], keys: Sequence[str]) -> dict[str, TagWriteFailure]:
        return self._each(arns, lambda arn: self.region.untag(arn, list(keys)))

    @staticmethod
    def _each(arns: Sequence[str], write: Callable[[str], None]) -> dict[str, TagWriteFailure]:
        failed = {}
        for arn in arns:
            try:
                write(arn)
            except AwsError as error:
                failed[arn] = TagWriteFailure(error.code, error.aws_message)
        return failed


@dataclass
class FakeStore:
    bucket: str = "records"
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail: bool = False
    journal: list[str] | None = None

    def put(self, key: str, document: dict[str, Any]) -> str:
        if self.fail:
            raise aws_error(AccessDenied, "AccessDenied")
        if self.journal is not None:
            self.journal.append(f"record {document['oldArn']} {document['status']}")
        self.documents[key] = document
        return f"s3://{self.bucket}/{key}"

    def get(self, key: str) -> dict[str, Any] | None:
        return self.documents.get(key)


@dataclass
class FakePublisher:
    sent: list[Notification] = field(default_factory=list)
    fail: bool = False

    def publish(self, topic: str, notification: Notification) -> str:
        if self.fail:
            raise aws_error(ServiceUnavailable, "InternalError")
        self.sent.append(notification)
        return f"message-{len(self.sent)}"


def make_job(
    regions: Mapping[str, FakeRegion],
    *,
    dry_run: bool = False,
    max_deletions: int = 10,
    store: FakeStore | None = None,
    publisher: FakePublisher | None = None,
    force_dry_run: bool | None = None,
    read_only: bool = False,
) -> tuple[IdleProfileJob, FakeStore, FakePublisher]:
    config = IdleConfig(
        regions=tuple(regions),
        alert_topic_arn=TOPIC,
        records_bucket="records",
        idle_days=30,
        grace_days=14,
        cleanup_dry_run=dry_run,
        max_deletions_per_run=max_deletions,
    )
    store = store or FakeStore()
    publisher = publisher or FakePublisher()

    def apis(region: str) -> RegionApis:
        fake = regions[region]
        return RegionApis(bedrock=fake, tagging=fake, usage=fake, tag_writer=FakeTagWriter(fake))

    job = IdleProfileJob(
        config,
        apis=apis,
        publisher=publisher,
        records=store,
        dry_run=force_dry_run,
        read_only=read_only,
    )
    return job, store, publisher


def test_the_life_cycle_in_one_run() -> None:
    us = FakeRegion("us-east-1")
    busy = us.add("busy", used=5)
    idle = us.add("idle", {"Owner": "ana@example.com", "Project": "Chat"})
    back = us.add("back", {IDLE_SINCE_TAG: "2026-06-10"}, used=1)
    due = us.add("due", {IDLE_SINCE_TAG: LONG_AGO})
    keep = us.add("keep", {KEEP_TAG: "true"})
    job, store, publisher = make_job({"us-east-1": us})

    result = job.run(NOW)

    actions = {o.decision.profile.name: (o.action, o.status) for o in result.outcomes}
    assert actions == {
        "busy": (IdleAction.LEAVE, OutcomeStatus.DONE),
        "idle": (IdleAction.MARK, OutcomeStatus.DONE),
        "back": (IdleAction.UNMARK, OutcomeStatus.DONE),
        "due": (IdleAction.DELETE, OutcomeStatus.DONE),
        "keep": (IdleAction.EXEMPT, OutcomeStatus.DONE),
    }
    assert us.profiles[idle.arn].tags[IDLE_SINCE_TAG] == NOW.date().isoformat()
    assert IDLE_SINCE_TAG not in us.profiles[back.arn].tags
    assert due.arn not in us.profiles
    assert busy.arn in us.profiles
    assert keep.arn in us.profiles
    (record,) = store.documents.values()
    assert record["oldArn"] == due.arn
    assert record["status"] == "deleted"
    (message,) = publisher.sent
    assert "ana@example.com" in message.text
    assert "Chat" in message.text
    assert f"eligible for deletion on {NOW.date() + timedelta(days=14)}" in message.text
    assert f"s3://records/{record_key(due)}" in message.text
    assert result.summary()["deletionRecords"] == [f"s3://records/{record_key(due)}"]


def record_key(p: InferenceProfile) -> str:
    return f"deletion-records/{p.region}/{p.name}/{p.profile_id}.json"


def test_the_record_is_written_before_the_delete() -> None:
    journal: list[str] = []
    us = FakeRegion("us-east-1", journal=journal)
    due = us.add("due", {IDLE_SINCE_TAG: LONG_AGO})
    job, _, _ = make_job({"us-east-1": us}, store=FakeStore(journal=journal))
    job.run(NOW)
    assert journal == [f"record {due.arn} deleting", f"delete {due.arn}", f"record {due.arn} deleted"]


def test_no_record_no_deletion() -> None:
    us = FakeRegion("us-east-1")
    due = us.add("due", {IDLE_SINCE_TAG: LONG_AGO})
    job, _, publisher = make_job({"us-east-1": us}, store=FakeStore(fail=True))
    result = job.run(NOW)
    (outcome,) = result.outcomes
    assert outcome.status is OutcomeStatus.FAILED
    assert "nothing was deleted" in outcome.detail
    assert due.arn in us.profiles
    assert "NOT DELETED" in publisher.sent[0].text


def test_in_use_and_already_gone_are_reported_per_profile_and_the_run_goes_on() -> None:
    us = FakeRegion("us-east-1")
    in_use = us.add("in-use", {IDLE_SINCE_TAG: LONG_AGO})
    gone = us.add("gone", {IDLE_SINCE_TAG: LONG_AGO})
    fine = us.add("fine", {IDLE_SINCE_TAG: LONG_AGO})
    us.errors[("delete", in_use.arn)] = aws_error(Conflict, "ConflictException")
    us.errors[("delete", gone.arn)] = aws_error(NotFound, "ResourceNotFoundException")
    job, store, publisher = make_job({"us-east-1": us})

    result = job.run(NOW)

    status = {o.decision.profile.name: o.status for o in result.outcomes}
    assert status == {"in-use": OutcomeStatus.IN_USE, "gone": OutcomeStatus.ALREADY_GONE, "fine": OutcomeStatus.DONE}
    assert fine.arn not in us.profiles
    assert store.documents[record_key(in_use)]["status"] == "not-deleted"
    assert "ConflictException" in store.documents[record_key(in_use)]["statusDetail"]
    text = publisher.sent[0].text
    assert "still in use, not deleted" in text
    assert "already deleted by someone else" in text
    assert result.summary()["counts"]["deleted"] == 1


def test_the_cap_holds_across_regions_and_is_loud() -> None:
    us, eu = FakeRegion("us-east-1"), FakeRegion("eu-central-1")
    for i in range(3):
        us.add(f"us-{i}", {IDLE_SINCE_TAG: (NOW.date() - timedelta(days=20 + i)).isoformat()})
        eu.add(f"eu-{i}", {IDLE_SINCE_TAG: (NOW.date() - timedelta(days=30 + i)).isoformat()})
    job, _, publisher = make_job({"us-east-1": us, "eu-central-1": eu}, max_deletions=4)

    result = job.run(NOW)

    deleted = [w for w in us.writes + eu.writes if w[0] == "delete"]
    assert len(deleted) == 4
    assert len(eu.profiles) == 0  # the longest marked go first
    assert len(us.profiles) == 2
    (message,) = publisher.sent
    assert message.subject.startswith("[DELETION CAP REACHED]")
    assert "DELETION CAP REACHED: MaxDeletionsPerRun is 4" in message.text
    assert result.summary()["deletionCapReached"] is True
    assert result.metric_counts()["IdleDeletionsDeferredByCap"] == 2


def test_dry_run_deletes_nothing_and_says_what_it_would_do() -> None:
    us = FakeRegion("us-east-1")
    due = us.add("due", {IDLE_SINCE_TAG: LONG_AGO})
    job, store, publisher = make_job({"us-east-1": us}, dry_run=True)
    result = job.run(NOW)
    assert due.arn in us.profiles
    assert store.documents == {}
    assert result.summary()["wouldDelete"] == [due.arn]
    assert "WOULD BE DELETED" in publisher.sent[0].text
    assert "(dry run)" in publisher.sent[0].subject


def test_an_event_can_force_a_dry_run_but_not_turn_deletion_on() -> None:
    us = FakeRegion("us-east-1")
    due = us.add("due", {IDLE_SINCE_TAG: LONG_AGO})
    forced, _, _ = make_job({"us-east-1": us}, dry_run=False, force_dry_run=True)
    assert forced.settings.dry_run
    forced.run(NOW)
    assert due.arn in us.profiles
    still_dry, _, _ = make_job({"us-east-1": us}, dry_run=True, force_dry_run=False)
    assert still_dry.settings.dry_run


def test_a_profile_exempted_or_unmarked_since_the_sweep_is_not_deleted() -> None:
    us = FakeRegion("us-east-1")
    due = us.add("due", {IDLE_SINCE_TAG: LONG_AGO})
    job, store, _ = make_job({"us-east-1": us})
    original_get = us.get_profile

    def exempt_meanwhile(arn: str) -> dict[str, Any]:
        us.profiles[arn] = us.profiles[arn].with_tags(dict(us.profiles[arn].tags) | {KEEP_TAG: "true"})
        return original_get(arn)

    us.get_profile = exempt_meanwhile  # type: ignore[method-assign]
    (outcome,) = job.run(NOW).outcomes
    assert outcome.status is OutcomeStatus.SKIPPED
    assert "exempted" in outcome.detail
    assert due.arn in us.profiles
    assert store.documents == {}


def test_a_failing_region_is_reported_and_decides_nothing_there() -> None:
    us, eu = FakeRegion("us-east-1"), FakeRegion("eu-central-1")
    marked_in_eu = eu.add("eu-due", {IDLE_SINCE_TAG: LONG_AGO})
    eu.errors[("usage", "*")] = aws_error(AccessDenied, "AccessDenied")
    us.add("idle")
    job, _, publisher = make_job({"us-east-1": us, "eu-central-1": eu})
    result = job.run(NOW)
    assert [f.region for f in result.failures] == ["eu-central-1"]
    assert marked_in_eu.arn in eu.profiles
    assert eu.writes == []
    assert "REGIONS NOT CHECKED" in publisher.sent[0].text
    assert result.summary()["failedRegions"] == ["eu-central-1: AccessDenied: AccessDenied happened"]


def test_a_failed_tag_write_is_reported_not_fatal() -> None:
    us = FakeRegion("us-east-1")
    broken = us.add("broken")
    us.add("fine")
    us.errors[("tag", broken.arn)] = aws_error(AccessDenied, "AccessDeniedException")
    job, _, publisher = make_job({"us-east-1": us})
    result = job.run(NOW)
    status = {o.decision.profile.name: o.status for o in result.outcomes}
    assert status == {"broken": OutcomeStatus.FAILED, "fine": OutcomeStatus.DONE}
    assert "COULD NOT BE HANDLED" in publisher.sent[0].text
    assert result.metric_counts()["IdleActionsFailed"] == 1


def test_a_failed_publish_is_reported_not_raised() -> None:
    us = FakeRegion("us-east-1")
    us.add("idle")
    job, _, _ = make_job({"us-east-1": us}, publisher=FakePublisher(fail=True))
    result = job.run(NOW)
    assert result.message_id is None
    assert result.alert_error is not None
    assert "InternalError" in result.alert_error
    assert result.metric_counts()["IdleAlertsFailed"] == 1


def test_a_quiet_run_sends_nothing() -> None:
    us = FakeRegion("us-east-1")
    us.add("busy", used=3)
    us.add("waiting", {IDLE_SINCE_TAG: (NOW.date() - timedelta(days=3)).isoformat()})
    job, _, publisher = make_job({"us-east-1": us})
    result = job.run(NOW)
    assert publisher.sent == []
    assert result.notification is None
    assert result.facts.counts()["stillIdle"] == 1


def test_a_retry_on_the_same_day_repeats_the_warning() -> None:
    us = FakeRegion("us-east-1")
    us.add("idle", {"Owner": "ana@example.com"})
    job, _, publisher = make_job({"us-east-1": us})
    job.run(NOW)
    job.run(NOW + timedelta(minutes=5))
    assert len(publisher.sent) == 2
    assert all("NEWLY IDLE" in message.text for message in publisher.sent)
    assert [w[0] for w in us.writes] == ["tag"]


@pytest.mark.parametrize("profiles", [0, 1])
def test_the_summary_is_json_ready(profiles: int) -> None:
    us = FakeRegion("us-east-1")
    for i in range(profiles):
        us.add(f"p{i}")
    job, _, _ = make_job({"us-east-1": us})
    summary = job.run(NOW).summary()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["profilesChecked"] == profiles


def test_marks_are_dated_in_utc() -> None:
    us = FakeRegion("us-east-1")
    idle = us.add("idle")
    job, _, _ = make_job({"us-east-1": us})
    next_morning_in_sydney = datetime(2026, 6, 15, 23, 30, tzinfo=UTC).astimezone(timezone(timedelta(hours=10)))
    assert next_morning_in_sydney.date() == date(2026, 6, 16)
    job.run(next_morning_in_sydney)
    assert us.profiles[idle.arn].tags[IDLE_SINCE_TAG] == date(2026, 6, 15).isoformat()


def test_a_read_only_run_writes_nothing_and_reports_what_it_would_do() -> None:
    us = FakeRegion("us-east-1")
    idle = us.add("idle", {"Owner": "ana@example.com"})
    back = us.add("back", {IDLE_SINCE_TAG: "2026-06-10"}, used=1)
    due = us.add("due", {IDLE_SINCE_TAG: LONG_AGO})
    job, store, publisher = make_job({"us-east-1": us}, dry_run=False, read_only=True)

    result = job.run(NOW)

    assert us.writes == []
    assert store.documents == {}
    assert IDLE_SINCE_TAG not in us.profiles[idle.arn].tags
    assert IDLE_SINCE_TAG in us.profiles[back.arn].tags
    assert result.summary()["wouldDelete"] == [due.arn]
    assert result.summary()["problems"] == []
    (message,) = publisher.sent
    assert "READ-ONLY RUN" in message.text
    assert "NEWLY IDLE: to be marked" in message.text
    assert "MARK TO BE REMOVED" in message.text
    assert message.document["readOnly"] is True
