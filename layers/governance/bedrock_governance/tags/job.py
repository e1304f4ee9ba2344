"""The tag-compliance sweep: inventory every governed region, judge, alert when something is new."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from aws_lambda_powertools import Logger

from bedrock_governance.aws import ports
from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.inventory import region_inventory
from bedrock_governance.aws.s3 import JsonStore, UnreadableObject
from bedrock_governance.aws.sns import SnsPublisher
from bedrock_governance.core.arn import region_of
from bedrock_governance.core.events import as_utc
from bedrock_governance.core.models import InferenceProfile, RegionFailure
from bedrock_governance.core.notify import Notification, fit
from bedrock_governance.core.results import publish, raise_if_alert_failed
from bedrock_governance.core.sweep import sweep_regions
from bedrock_governance.org.policy import OrganizationView
from bedrock_governance.tags.config import TagComplianceConfig
from bedrock_governance.tags.policy import ProfileFinding, evaluate_profile
from bedrock_governance.tags.render import SweepFacts, finding_count, full_report, render, sort_findings
from bedrock_governance.tags.state import AlertDecision, AlertState, decide_alert

logger = Logger(child=True)

STATE_KEY: Final = "state/tag-compliance.json"
REPORT_PREFIX: Final = "reports/tag-compliance/"


@dataclass(frozen=True)
class TagComplianceResult:
    facts: SweepFacts
    per_region: dict[str, int]
    decision: AlertDecision
    notification: Notification | None
    message_id: str | None
    full_report_uri: str | None
    alert_error: str | None = None
    dry_run: bool = False

    @property
    def findings(self) -> tuple[ProfileFinding, ...]:
        return self.facts.findings

    @property
    def failures(self) -> tuple[RegionFailure, ...]:
        return self.facts.failures

    def metric_counts(self) -> dict[str, int]:
        return {
            "ProfilesChecked": self.facts.checked,
            "NonCompliantProfiles": len(self.findings),
            "TagViolations": sum(len(f.violations) for f in self.findings),
            "NewOrChangedViolations": len(self.decision.new) + len(self.decision.changed),
            "RegionsFailed": len(self.failures),
            "AlertsPublished": 1 if self.message_id else 0,
        }

    def metric_amounts(self) -> dict[str, float]:
        return {}

    def region_counts(self) -> dict[str, dict[str, int]]:
        # Organization scope counts account/region targets: the metrics add them up per region.
        checked: dict[str, int] = {}
        for target, count in self.per_region.items():
            region = target.rpartition("/")[2]
            checked[region] = checked.get(region, 0) + count
        non_compliant: dict[str, int] = dict.fromkeys(checked, 0)
        for finding in self.findings:
            non_compliant[finding.profile.region] = non_compliant.get(finding.profile.region, 0) + 1
        return {"ProfilesCheckedByRegion": checked, "NonCompliantProfilesByRegion": non_compliant}

    def raise_if_alert_failed(self) -> None:
        raise_if_alert_failed("Tag compliance alert", self.alert_error)

    def summary(self) -> dict[str, Any]:
        return {
            "profilesChecked": self.facts.checked,
            "profilesByRegion": self.per_region,
            "nonCompliantProfiles": len(self.findings),
            "violations": sum(len(f.violations) for f in self.findings),
            "newOrChanged": len(self.decision.new) + len(self.decision.changed),
            "resolved": len(self.decision.resolved),
            "failedRegions": [failure.describe() for failure in self.failures],
            "alert": self.decision.reason.value,
            "alertExplanation": self.decision.explanation,
            "messageId": self.message_id,
            "fullReport": self.full_report_uri,
            "unreadableState": self.facts.unreadable_state,
            "droppedUngoverned": len(self.decision.ungoverned),
            "dryRun": self.dry_run,
            "alertError": self.alert_error,
        }


class TagComplianceJob:
    """Sweeps, decides and alerts. A dry run reads the alert state, so it decides as a real run
    would, and logs the alert; it publishes nothing and writes nothing (no state, no report)."""

    def __init__(
        self,
        config: TagComplianceConfig,
        *,
        inventory: Callable[[str], list[InferenceProfile]],
        publisher: ports.Publisher | None,
        store: ports.StateStore | None,
        dry_run: bool = False,
        targets: Sequence[str] | None = None,
        target_of: Callable[[str], str] = region_of,
        state_key: str = STATE_KEY,
        organization: OrganizationView | None = None,
    ) -> None:
        """``targets`` are what ``inventory`` is asked for: the governed regions (account scope,
        the default) or ``account/region`` labels (organization scope, with ``target_of`` mapping
        an ARN to its label, the organization's own ``state_key`` and its ``organization`` view)."""
        self._config = config
        self._inventory = inventory
        self._publisher = None if dry_run else publisher
        self._store = store
        self._dry_run = dry_run
        self._targets = tuple(targets) if targets is not None else config.regions
        self._target_of = target_of
        self._state_key = state_key
        self._organization = organization

    @classmethod
    def from_config(
        cls, config: TagComplianceConfig, clients: ClientFactory, *, dry_run: bool = False
    ) -> TagComplianceJob:
        home = clients.default_region or config.regions[0]
        store = JsonStore(clients.s3(home), config.state_bucket) if config.state_bucket else None
        return cls(
            config,
            inventory=region_inventory(clients),
            publisher=None if dry_run else SnsPublisher(clients.sns(region_of(config.alert_topic_arn))),
            store=store,
            dry_run=dry_run,
        )

    def run(self, now: datetime) -> TagComplianceResult:
        config = self._config
        sweep = sweep_regions(self._targets, self._inventory)
        findings: list[ProfileFinding] = []
        for profiles in sweep.by_region.values():
            findings += [f for f in (evaluate_profile(p, config.policy) for p in profiles) if f]
        previous, unreadable = self._load_state(now)
        facts = SweepFacts(
            now=now,
            regions=config.regions,
            checked=sum(len(profiles) for profiles in sweep.by_region.values()),
            policy=config.policy,
            failures=sweep.failures,
            findings=sort_findings(findings),
            names={p.arn: p.name for profiles in sweep.by_region.values() for p in profiles},
            unreadable_state=unreadable.describe() if unreadable else None,
            organization=self._organization,
        )
        decision = decide_alert(
            facts.findings,
            facts.failures,
            previous,
            now,
            config.digest_interval,
            governed=self._targets,
            unreadable_state=unreadable.uri if unreadable else None,
            target_of=self._target_of,
        )
        logger.info(
            "Tag compliance sweep finished",
            extra={
                "profiles_checked": facts.checked,
                "non_compliant": len(facts.findings),
                "failed_regions": [f.describe() for f in facts.failures],
                "alert_decision": decision.reason.value,
                "alert_explanation": decision.explanation,
                "dropped_ungoverned": len(decision.ungoverned),
            },
        )

        notification: Notification | None = None
        message_id: str | None = None
        report_uri: str | None = None
        alert_error: str | None = None
        if decision.should_publish:
            count = finding_count(decision)
            notification = render(facts, decision, count)
            if not notification.fits():
                if self._store and not self._dry_run:
                    key = f"{REPORT_PREFIX}{as_utc(now):%Y-%m-%dT%H%M%SZ}.json"
                    report_uri = self._store.put(key, full_report(facts, decision))
                notification = fit(lambda limit: render(facts, decision, limit, report_uri), count)
            # The findings are in the logs whatever happens to the publish below.
            logger.info("Tag compliance alert", extra={"alert": dict(notification.document)})
            if self._publisher:
                message_id, alert_error = publish(
                    self._publisher, config.alert_topic_arn, notification, "Tag compliance alert"
                )
        if (
            self._store
            and not self._dry_run
            and alert_error is None
            and (decision.next_state != previous or unreadable)
        ):
            # Saved only after a successful publish, so a failed alert is sent again next run.
            self._store.put(self._state_key, decision.next_state.to_json())
        return TagComplianceResult(
            facts=facts,
            per_region={region: len(p) for region, p in sweep.by_region.items()},
            decision=decision,
            notification=notification,
            message_id=message_id,
            full_report_uri=report_uri,
            alert_error=alert_error,
            dry_run=self._dry_run,
        )

    def _load_state(self, now: datetime) -> tuple[AlertState, UnreadableObject | None]:
        """The last alerted state. One that cannot be read counts as none (so the full digest goes
        out) after a copy of it is kept: a broken state must not silence every later run."""
        if self._store is None:
            return AlertState(), None
        read = self._store.read_state(self._state_key, AlertState.from_json)
        if read.unreadable is None:
            return read.value or AlertState(), None
        # A dry run keeps no copy: it writes nothing.
        unreadable = read.unreadable if self._dry_run else self._store.quarantine(read.unreadable, now)
        logger.warning("Alert state unreadable, treated as missing", extra={"state": unreadable.describe()})
        return AlertState(), unreadable
