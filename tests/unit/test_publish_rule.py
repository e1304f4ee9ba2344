"""One rule for publishing, metrics and dry runs, the same in every job.

A failed publish never loses the run's metrics or its findings: the job returns its result with
the error, the handler records the metrics and then raises. ``{"dryRun": true}`` computes and
logs, and publishes and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from aws_lambda_powertools import Metrics

from bedrock_governance.aws.s3 import StateRead, UnreadableObject
from bedrock_governance.core.errors import AlertNotPublished, ServiceUnavailable
from bedrock_governance.core.events import dry_run_requested
from bedrock_governance.core.metrics import record
from bedrock_governance.core.models import InferenceProfile
from bedrock_governance.core.notify import Notification
from bedrock_governance.tags.config import TagComplianceConfig
from bedrock_governance.tags.job import STATE_KEY, TagComplianceJob
from bedrock_governance.tags.policy import TagPolicy
from tests.unit.factories import profile

T = TypeVar("T")
NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
REGION = "us-east-1"


@dataclass
class FakePublisher:
    fail: bool = False
    sent: list[Notification] = field(default_factory=list)

    def publish(self, topic_arn: str, notification: Notification) -> str:
        if self.fail:
            raise ServiceUnavailable("sns", "Publish", "InternalError", "try later")
        self.sent.append(notification)
        return f"message-{len(self.sent)}"


@dataclass
class FakeStateStore:
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)

    def read_state(self, key: str, parse: Callable[[dict[str, Any]], T]) -> StateRead[T]:
        document = self.documents.get(key)
        return StateRead(None if document is None else parse(document))

    def quarantine(self, unreadable: UnreadableObject, now: datetime) -> UnreadableObject:
        self.writes.append(f"quarantine {unreadable.key}")
        return unreadable

    def put(self, key: str, document: dict[str, Any]) -> str:
        self.writes.append(key)
        self.documents[key] = document
        return f"s3://state/{key}"


def untagged(region: str) -> list[InferenceProfile]:
    return [profile("chatbot-prod", tags={"Project": "chat"}, region=region)]


def tag_job(publisher: FakePublisher, store: FakeStateStore, *, dry_run: bool = False) -> TagComplianceJob:
    config = TagComplianceConfig(
        policy=TagPolicy(required_keys=("Project", "Owner")),
        regions=(REGION,),
        alert_topic_arn=TOPIC,
        state_bucket="state",
    )
    return TagComplianceJob(config, inventory=untagged, publisher=publisher, store=store, dry_run=dry_run)


def test_a_failed_tag_alert_keeps_the_metrics_and_the_findings_and_fails_after() -> None:
    store = FakeStateStore()
    result = tag_job(FakePublisher(fail=True), store).run(NOW)

    assert result.alert_error is not None
    assert "InternalError" in result.alert_error
    assert result.metric_counts()["NonCompliantProfiles"] == 1
    assert result.metric_counts()["AlertsPublished"] == 0
    assert result.region_counts()["NonCompliantProfilesByRegion"] == {REGION: 1}
    assert result.notification is not None
    # Not saved: the next run sends what this one could not.
    assert store.writes == []
    with pytest.raises(AlertNotPublished, match="InternalError"):
        result.raise_if_alert_failed()


def test_the_next_tag_run_sends_what_the_failed_one_could_not() -> None:
    store = FakeStateStore()
    tag_job(FakePublisher(fail=True), store).run(NOW)
    publisher = FakePublisher()
    retry = tag_job(publisher, store).run(NOW + timedelta(hours=1))
    assert retry.message_id == "message-1"
    assert retry.alert_error is None
    assert store.writes == [STATE_KEY]
    retry.raise_if_alert_failed()


def test_a_tag_dry_run_decides_as_a_real_run_and_publishes_and_writes_nothing() -> None:
    store = FakeStateStore()
    publisher = FakePublisher()
    real = tag_job(publisher, store).run(NOW)
    assert real.decision.should_publish
    assert store.writes == [STATE_KEY]

    later = NOW + timedelta(hours=1)
    dry = tag_job(publisher, store, dry_run=True).run(later)
    # It read what was alerted before: nothing new, so nothing would be sent.
    assert not dry.decision.should_publish
    assert dry.summary()["dryRun"] is True
    assert len(publisher.sent) == 1
    assert store.writes == [STATE_KEY]

    fresh = FakeStateStore()
    first_dry = tag_job(publisher, fresh, dry_run=True).run(NOW)
    # What a real run would send is computed (and logged), never published or remembered.
    assert first_dry.notification is not None
    assert first_dry.message_id is None
    assert fresh.writes == []
    assert len(publisher.sent) == 1


def test_record_publishes_counts_amounts_and_region_counts(capsys: pytest.CaptureFixture[str]) -> None:
    result = tag_job(FakePublisher(), FakeStateStore()).run(NOW)
    metrics = Metrics(namespace="BedrockGovernanceTest", service="test")
    record(metrics, result)
    assert set(metrics.metric_set) == set(result.metric_counts())
    assert metrics.metric_set["AlertsPublished"]["Value"] == [1.0]
    printed = capsys.readouterr().out
    assert "ProfilesCheckedByRegion" in printed
    assert "NonCompliantProfilesByRegion" in printed
    metrics.clear_metrics()


@pytest.mark.parametrize(
    ("event", "dry"),
    [
        ({"dryRun": True}, True),
        ({"dryRun": False}, False),
        ({"dryRun": "true"}, False),  # only a JSON boolean asks for a dry run
        ({}, False),
        (None, False),
    ],
)
def test_dry_run_is_asked_the_same_way_of_every_function(event: dict[str, Any] | None, dry: bool) -> None:
    assert dry_run_requested(event) is dry
