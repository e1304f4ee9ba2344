"""The idle-profile sweep: read usage, mark, warn, and delete what stayed idle, with safety rails.

A run has three steps:

1. assess, regions concurrently: inventory with tags, usage from CloudWatch (ceil(N/500) calls),
   a decision per profile;
2. cap, across all regions: at most ``MaxDeletionsPerRun`` deletions (longest marked first);
3. act, regions concurrently: write or remove idle marks, and delete. Before each deletion the
   profile is read again (tags and usage up to the real clock) and left alone if it was exempted,
   its mark changed or it was used since step 1; its deletion record is written to S3 first, and no
   record means no deletion. A record another run settled as deleted is never overwritten.

Between steps 1 and 2 the circuit breaker holds every mark and deletion of a region in which an
implausible share of the profiles looked newly idle at once (``MaxNewlyIdlePercent``).

One profile's failure (``ConflictException`` while still in use, ``ResourceNotFoundException``
when already gone, anything else) is reported and the run goes on. One message per run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from aws_lambda_powertools import Logger

from bedrock_governance.aws import ports
from bedrock_governance.aws.bedrock import BedrockProfiles
from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.cloudwatch import QUERIES_PER_CALL, InvocationReader
from bedrock_governance.aws.inventory import list_profiles_with_tags
from bedrock_governance.aws.s3 import JsonStore
from bedrock_governance.aws.sns import SnsPublisher
from bedrock_governance.aws.tagging import TagReader, TagWriter
from bedrock_governance.core.arn import region_of
from bedrock_governance.core.batching import chunks
from bedrock_governance.core.errors import AlertNotPublished, AwsError, Conflict, GovernanceError, NotFound
from bedrock_governance.core.events import utc_now
from bedrock_governance.core.models import IDLE_SINCE_TAG, InferenceProfile, RegionFailure, UsageHistory
from bedrock_governance.core.notify import Notification, fit
from bedrock_governance.core.results import publish
from bedrock_governance.core.sweep import sweep_regions
from bedrock_governance.idle.config import IdleConfig
from bedrock_governance.idle.policy import (
    USAGE_HISTORY_DAYS,
    BreakerTrip,
    IdleAction,
    IdleDecision,
    IdleOutcome,
    IdleSettings,
    OutcomeStatus,
    cap_deletions,
    decide_all,
    hold_mass_misreads,
    is_exempt,
    parse_mark,
)
from bedrock_governance.idle.records import DeletionRecord, build_record, copy_source_for
from bedrock_governance.idle.render import IdleRunFacts, item_count, render, sort_outcomes
from bedrock_governance.org.policy import OrganizationView

logger = Logger(child=True)

APPLICATION: Final = "APPLICATION"
# Decisions that need no line of their own in the logs (the run's counts cover them).
# Decisions carried out as tag writes in bulk.
MARK_WRITES: Final = frozenset({IdleAction.MARK, IdleAction.UNMARK})
QUIET_ACTIONS: Final = frozenset(
    {IdleAction.LEAVE, IdleAction.YOUNG, IdleAction.EXEMPT, IdleAction.WAIT, IdleAction.NOT_GOVERNED}
)


@dataclass(frozen=True)
class RegionApis:
    """The adapters the sweep uses in one region."""

    bedrock: ports.BedrockProfiles
    tagging: ports.TagReader
    usage: ports.InvocationReader
    tag_writer: ports.TagWriter


def region_apis(clients: ClientFactory) -> Callable[[str], RegionApis]:
    def apis(region: str) -> RegionApis:
        return RegionApis(
            bedrock=BedrockProfiles(clients.bedrock(region)),
            tagging=TagReader(clients.tagging(region)),
            usage=InvocationReader(clients.cloudwatch(region)),
            tag_writer=TagWriter(clients.tagging(region)),
        )

    return apis


# What one target's decisions are made from: its profiles (with tags) and their daily usage, in
# batches. Account scope reads them from AWS; organization scope from the workers' answers.
Evidence = Callable[[str], Iterable[tuple[Sequence[InferenceProfile], Mapping[str, UsageHistory]]]]


def aws_evidence(apis: Callable[[str], RegionApis], now: datetime) -> Evidence:
    def evidence(region: str) -> Iterator[tuple[Sequence[InferenceProfile], Mapping[str, UsageHistory]]]:
        region_apis = apis(region)
        profiles = list_profiles_with_tags(region_apis.bedrock, region_apis.tagging)
        # Usage is read and judged one GetMetricData request (500 profiles) at a time, so a region
        # holds at most 500 daily histories: all 15,000 of a 5,000 x 3 estate at once took about
        # 100 MB of the function's 512 (`make bench`). Same calls, same decisions.
        for batch in chunks(profiles, QUERIES_PER_CALL):
            usage = region_apis.usage.daily_invocations([p.profile_id for p in batch], now=now, days=USAGE_HISTORY_DAYS)
            yield batch, usage

    return evidence


@dataclass(frozen=True)
class IdleRunResult:
    facts: IdleRunFacts
    per_region: dict[str, int]
    notification: Notification | None
    message_id: str | None
    alert_error: str | None = None

    @property
    def outcomes(self) -> tuple[IdleOutcome, ...]:
        return self.facts.outcomes

    @property
    def failures(self) -> tuple[RegionFailure, ...]:
        return self.facts.failures

    def records(self) -> list[str]:
        return [o.record_uri for o in self.outcomes if o.record_uri]

    def metric_counts(self) -> dict[str, int]:
        """Counts for the function's metrics, named so a dashboard reads without a legend."""
        counts = self.facts.counts()
        return {
            "ProfilesChecked": counts["checked"],
            "IdleProfilesNewlyMarked": counts["marked"],
            "IdleMarksRemoved": counts["unmarked"],
            "IdleProfilesWithinGrace": counts["stillIdle"],
            "IdleProfilesDeleted": counts["deleted"],
            "IdleProfilesWouldDelete": counts["wouldDelete"],
            "IdleDeletionsDeferredByCap": counts["deferredByCap"],
            "IdleActionsHeldByCircuitBreaker": counts["heldByBreaker"],
            "IdleCircuitBreakerTrips": len(self.facts.breaker_trips),
            "IdleDeletionsNotDone": counts["deletionsNotDone"],
            "IdleActionsFailed": counts["actionsFailed"],
            "ProfilesWithUnknownUsage": counts["usageUnknown"],
            "RegionsFailed": counts["failedRegions"],
            "IdleAlertsPublished": 1 if self.message_id else 0,
            "IdleAlertsFailed": 1 if self.alert_error else 0,
        }

    def metric_amounts(self) -> dict[str, float]:
        return {}

    def region_counts(self) -> dict[str, dict[str, int]]:
        # Organization scope counts account/region targets: the metrics add them up per region.
        checked: dict[str, int] = {}
        for target, count in self.per_region.items():
            region = target.rpartition("/")[2]
            checked[region] = checked.get(region, 0) + count
        return {"ProfilesCheckedByRegion": checked}

    def raise_if_alert_failed(self) -> None:
        """Fail the invocation when the message could not be sent, so the Errors alarm fires.

        Called after the metrics are recorded; every action is done and logged by then. Lambda
        does not retry the function (MaximumRetryAttempts 0), so no second run deletes anything.
        """
        if self.alert_error:
            raise AlertNotPublished(
                f"Idle profile alert not published (all actions are done and logged): {self.alert_error}"
            )

    def summary(self) -> dict[str, Any]:
        counts = self.facts.counts()
        return {
            "dryRun": self.facts.settings.dry_run,
            "readOnly": self.facts.read_only,
            "profilesChecked": counts["checked"],
            "profilesByRegion": self.per_region,
            "counts": counts,
            "deletionCapReached": self.facts.cap_reached,
            "circuitBreaker": [trip.to_dict() for trip in self.facts.breaker_trips],
            "deleted": [o.decision.profile.arn for o in self.facts.of(IdleAction.DELETE, OutcomeStatus.DONE)],
            "wouldDelete": [o.decision.profile.arn for o in self.facts.of(IdleAction.WOULD_DELETE)],
            "deletionRecords": self.records(),
            "problems": [
                {
                    "arn": o.decision.profile.arn,
                    "action": o.action.value,
                    "status": o.status.value,
                    "errorCode": o.error_code,
                    "detail": o.detail or o.decision.reason,
                }
                for o in self.facts.problems
            ],
            "failedRegions": [failure.describe() for failure in self.failures],
            "messageId": self.message_id,
            "alertError": self.alert_error,
        }


def _failed(decision: IdleDecision, error: Exception, what: str) -> IdleOutcome:
    code = error.code if isinstance(error, AwsError) else type(error).__name__
    message = error.aws_message if isinstance(error, AwsError) else str(error)
    return IdleOutcome(decision, OutcomeStatus.FAILED, f"{what} failed: {code}: {message}", error_code=code)


class _RegionActions:
    """Carries out one region's decisions. Every profile is handled on its own."""

    def __init__(
        self,
        apis: Callable[[], RegionApis],
        records: ports.RecordStore | None,
        now: datetime,
        settings: IdleSettings,
        *,
        read_only: bool = False,
        clock: Callable[[], datetime] = utc_now,
        account: str = "",
    ) -> None:
        # Made on first use: a read-only run (or one with nothing to write) never needs them, which
        # in organization scope saves an AssumeRole per target.
        self._make_apis = apis
        self._region_apis: RegionApis | None = None
        self._account = account
        self._records = records
        self._now = now
        self._settings = settings
        self._read_only = read_only
        # The real clock, not the decision time: the last look before a deletion reaches the present.
        self._clock = clock
        self._system_profiles: list[Mapping[str, Any]] | None = None

    @property
    def _apis(self) -> RegionApis:
        if self._region_apis is None:
            self._region_apis = self._make_apis()
        return self._region_apis

    def run(self, decisions: Sequence[IdleDecision]) -> list[IdleOutcome]:
        marks = [] if self._read_only else [d for d in decisions if d.action in MARK_WRITES]
        outcomes = self._write_marks(marks)
        for decision in decisions:
            if decision.action in MARK_WRITES and not self._read_only:
                continue
            try:
                outcomes.append(self._act(decision))
            except Exception as error:  # one profile's surprise must not cost the others their turn
                logger.exception("Idle action crashed", extra={"arn": decision.profile.arn})
                outcomes.append(_failed(decision, error, decision.action.value))
        return outcomes

    def _act(self, decision: IdleDecision) -> IdleOutcome:
        if self._read_only and decision.action in {IdleAction.MARK, IdleAction.UNMARK, IdleAction.DELETE}:
            return IdleOutcome(decision, OutcomeStatus.NOT_APPLIED, "read-only run: nothing written")
        if decision.action is IdleAction.DELETE:
            return self._delete(decision)
        return IdleOutcome(decision)

    def _write_marks(self, decisions: Sequence[IdleDecision]) -> list[IdleOutcome]:
        """Marks and unmarks through the Tagging API, 20 profiles a call, failures per profile.

        Decisions are grouped by the mark they write (``None``: the mark is removed), so a whole
        group is one bulk write.
        """
        groups: dict[str | None, list[IdleDecision]] = {}
        for decision in decisions:
            groups.setdefault(_mark_value(decision), []).append(decision)
        outcomes: list[IdleOutcome] = []
        for value, group in groups.items():
            arns = [d.profile.arn for d in group]
            what = "removing the idle mark" if value is None else "writing the idle mark"
            if value is None:
                failed = self._apis.tag_writer.untag(arns, [IDLE_SINCE_TAG])
            else:
                failed = self._apis.tag_writer.tag(arns, {IDLE_SINCE_TAG: value})
            for decision in group:
                if decision.profile.arn in failed:
                    # The bulk answer's per-ARN codes are generic: Bedrock's own call says why (gone,
                    # too many tags, denied), and may succeed where the bulk write did not.
                    outcomes.append(self._write_mark(decision, value, what))
                else:
                    outcomes.append(IdleOutcome(decision))
        return outcomes

    def _write_mark(self, decision: IdleDecision, value: str | None, what: str) -> IdleOutcome:
        """One profile's mark written (``value``) or removed (``None``) through Bedrock itself."""
        arn = decision.profile.arn
        try:
            if value is None:
                self._apis.bedrock.untag(arn, [IDLE_SINCE_TAG])
            else:
                self._apis.bedrock.tag(arn, {IDLE_SINCE_TAG: value})
        except NotFound:
            return IdleOutcome(decision, OutcomeStatus.ALREADY_GONE, "the profile no longer exists")
        except AwsError as error:
            return _failed(decision, error, what)
        return IdleOutcome(decision)

    def _system_profile_summaries(self) -> list[Mapping[str, Any]]:
        if self._system_profiles is None:
            self._system_profiles = self._apis.bedrock.list_system_profiles()
        return self._system_profiles

    def _recheck(  # noqa: PLR0911 - one return per reason a deletion is withheld
        self, decision: IdleDecision
    ) -> tuple[Mapping[str, Any], dict[str, str]] | IdleOutcome:
        """The profile and its tags as they are now, or why it must not be deleted.

        The sweep's view may be minutes old and the Tagging API lags behind Bedrock.
        """
        bedrock = self._apis.bedrock
        try:
            details = bedrock.get_profile(decision.profile.arn)
            tags = bedrock.tags_of(decision.profile.arn)
        except NotFound:
            return IdleOutcome(decision, OutcomeStatus.ALREADY_GONE, "already deleted by someone else")
        except AwsError as error:
            return _failed(decision, error, "re-reading the profile before deletion")
        if details.get("type", APPLICATION) != APPLICATION:
            return IdleOutcome(decision, OutcomeStatus.SKIPPED, "not an application profile: never deleted")
        if is_exempt(tags):
            return IdleOutcome(decision, OutcomeStatus.SKIPPED, "exempted (governance:keep=true) since the sweep")
        if parse_mark(tags.get(IDLE_SINCE_TAG)) != decision.idle_since:
            return IdleOutcome(
                decision,
                OutcomeStatus.SKIPPED,
                f"idle mark changed since the sweep ({decision.idle_since} -> {tags.get(IDLE_SINCE_TAG)}): kept",
            )
        used = self._used_since_sweep(decision)
        if used is not None:
            return used
        return details, tags

    def _used_since_sweep(self, decision: IdleDecision) -> IdleOutcome | None:
        """None when the profile's usage, read again up to the real clock, is still none."""
        profile = decision.profile
        now = self._clock()
        try:
            history = self._apis.usage.daily_invocations(
                [profile.profile_id], now=now, days=self._settings.idle_days + 1
            ).get(profile.profile_id)
        except AwsError as error:
            return _failed(decision, error, "re-reading the usage before deletion")
        if history is None or not history.complete:
            problem = history.problem if history else "no answer for this profile"
            return IdleOutcome(decision, OutcomeStatus.SKIPPED, f"usage could not be re-read ({problem}): kept")
        invocations = history.invocations_since(now - timedelta(days=self._settings.idle_days))
        if invocations > 0:
            return IdleOutcome(
                decision, OutcomeStatus.SKIPPED, f"used again since the sweep ({invocations:,.0f} invocations): kept"
            )
        return None

    def _record(
        self, decision: IdleDecision, details: Mapping[str, Any], tags: Mapping[str, str]
    ) -> DeletionRecord | IdleOutcome:
        profile = decision.profile
        models = [str(model["modelArn"]) for model in details.get("models", [])] or list(profile.model_arns)
        try:
            source = copy_source_for(models, profile.region, self._system_profile_summaries())
        except AwsError as error:
            return _failed(decision, error, "listing system-defined profiles to record the source")
        if source is None:
            return IdleOutcome(
                decision,
                OutcomeStatus.SKIPPED,
                "cannot tell which model or system profile it was copied from, so it could not be re-created: kept",
            )
        return build_record(
            profile,
            details,
            tags,
            source,
            last_used=decision.last_used,
            last_use_text=decision.last_use_text(),
            usage_read_since=decision.usage_since,
            idle_since=decision.idle_since.isoformat() if decision.idle_since else None,
            reason=decision.reason,
            deleted_at=self._now,
            account=self._account,
        )

    def _delete(self, decision: IdleDecision) -> IdleOutcome:  # noqa: PLR0911 - one return per outcome
        records = self._records
        if records is None:
            return IdleOutcome(decision, OutcomeStatus.SKIPPED, "no bucket for deletion records: kept")
        current = self._recheck(decision)
        if isinstance(current, IdleOutcome):
            return current
        record = self._record(decision, *current)
        if isinstance(record, IdleOutcome):
            return record
        try:
            if _settled_as_deleted(records, record.key):
                return IdleOutcome(
                    decision, OutcomeStatus.ALREADY_GONE, "already deleted by another run (its record stands)"
                )
            uri = records.put(record.key, record.to_json())
        except AwsError as error:
            return _failed(decision, error, "writing the deletion record (so nothing was deleted)")
        try:
            self._apis.bedrock.delete_profile(decision.profile.arn)
        except Conflict as error:
            detail = f"still in use, not deleted ({error.aws_message})"
            outcome = IdleOutcome(decision, OutcomeStatus.IN_USE, detail, uri, error.code)
        except NotFound as error:
            # Someone else deleted it between the re-check and now; if that was another run, its
            # record says "deleted" and must stay so.
            outcome = IdleOutcome(
                decision, OutcomeStatus.ALREADY_GONE, "already deleted by someone else", uri, error.code
            )
            self._settle(record.with_status("already-gone", outcome.detail))
            return outcome
        except AwsError as error:
            failed = _failed(decision, error, "deleting")
            outcome = IdleOutcome(decision, failed.status, failed.detail, uri, failed.error_code)
        else:
            self._settle(record.with_status("deleted"))
            return IdleOutcome(decision, OutcomeStatus.DONE, "deleted", record_uri=uri)
        self._settle(record.with_status("not-deleted", outcome.detail))
        return outcome

    def _settle(self, record: DeletionRecord) -> None:
        """Write the record's final status. The first write already holds all that restoring needs,
        so a failure here is logged, not reported as a failed deletion. A record another run has
        settled as deleted is never downgraded."""
        records = self._records
        if records is None:
            return
        try:
            if record.status != "deleted" and _settled_as_deleted(records, record.key):
                logger.info("Deletion record settled by another run: left as it is", extra={"key": record.key})
                return
            records.put(record.key, record.to_json())
        except AwsError:
            logger.exception("Could not update a deletion record's status", extra={"key": record.key})


def _mark_value(decision: IdleDecision) -> str | None:
    """The idle mark a MARK decision writes, or None for an UNMARK (the mark is removed)."""
    if decision.action is IdleAction.UNMARK:
        return None
    if decision.idle_since is None:
        raise GovernanceError(f"a mark decision without a date for {decision.profile.arn}")
    return decision.idle_since.isoformat()


def _settled_as_deleted(records: ports.RecordStore, key: str) -> bool:
    """Whether the record at ``key`` says its profile was deleted (by this run or another)."""
    try:
        existing = records.get(key)
    except (ValueError, TypeError):  # an unreadable record is not a settled one
        return False
    return isinstance(existing, dict) and existing.get("status") == "deleted"


class IdleProfileJob:
    """Finds idle application profiles, marks and warns, and deletes after the grace period."""

    def __init__(
        self,
        config: IdleConfig,
        *,
        apis: Callable[[str], RegionApis],
        publisher: ports.Publisher | None,
        records: ports.RecordStore | None,
        dry_run: bool | None = None,
        read_only: bool = False,
        evidence: Callable[[datetime], Evidence] | None = None,
        targets: Sequence[str] | None = None,
        target_of: Callable[[str], str] = region_of,
        organization: OrganizationView | None = None,
    ) -> None:
        """``targets`` are what ``apis`` and ``evidence`` are asked for: the governed regions
        (account scope, the default) or ``account/region`` labels (organization scope: ``target_of``
        maps an ARN to its label, ``evidence`` yields the workers' answers, the circuit breaker also
        looks at the whole organization and deletion records carry the account)."""
        self._config = config
        self._apis = apis
        self._publisher = publisher
        self._records = records
        self._read_only = read_only
        self._evidence = evidence or (lambda now: aws_evidence(apis, now))
        self._targets = tuple(targets) if targets is not None else config.regions
        self._target_of = target_of
        self._organization = organization
        # A caller may force a dry run, never force deletion on against the stack's setting.
        self._settings = IdleSettings(
            idle_days=config.idle_days,
            grace_days=config.grace_days,
            dry_run=config.cleanup_dry_run or bool(dry_run) or read_only,
        )

    @classmethod
    def from_config(
        cls,
        config: IdleConfig,
        clients: ClientFactory,
        *,
        dry_run: bool | None = None,
        read_only: bool = False,
        publish: bool = True,
    ) -> IdleProfileJob:
        """``dry_run`` True forces a dry run (None or False: the config decides); ``read_only``
        writes nothing at all (no marks either: a report); ``publish`` False renders the message
        without sending it. The function uses the defaults; the command line the options."""
        home = clients.default_region or config.regions[0]
        return cls(
            config,
            apis=region_apis(clients),
            publisher=SnsPublisher(clients.sns(region_of(config.alert_topic_arn))) if publish else None,
            records=None if read_only else JsonStore(clients.s3(home), config.records_bucket),
            dry_run=dry_run,
            read_only=read_only,
        )

    @property
    def settings(self) -> IdleSettings:
        return self._settings

    def _assess(self, now: datetime) -> Callable[[str], tuple[tuple[IdleDecision, ...], BreakerTrip | None]]:
        evidence = self._evidence(now)

        def assess(target: str) -> tuple[tuple[IdleDecision, ...], BreakerTrip | None]:
            decisions: list[IdleDecision] = []
            for profiles, usage in evidence(target):
                decisions += decide_all(profiles, usage, self._settings, now)
            return hold_mass_misreads(target, decisions, self._config.max_newly_idle_percent)

        return assess

    def _act(
        self, now: datetime, by_target: Mapping[str, Sequence[IdleDecision]]
    ) -> Callable[[str], list[IdleOutcome]]:
        def act(target: str) -> list[IdleOutcome]:
            account = target.partition("/")[0] if self._organization is not None else ""
            actions = _RegionActions(
                lambda: self._apis(target),
                self._records,
                now,
                self._settings,
                read_only=self._read_only,
                account=account,
            )
            return actions.run(by_target[target])

        return act

    def run(self, now: datetime) -> IdleRunResult:
        now = now.astimezone(UTC)
        config = self._config
        assessed = sweep_regions(self._targets, self._assess(now))
        held = {target: assessed.by_region[target] for target in self._targets if target in assessed.by_region}
        trips = tuple(trip for _, trip in held.values() if trip is not None)
        swept = [d for target_decisions, _ in held.values() for d in target_decisions]
        if self._organization is not None:
            # A misread that spreads thin over many accounts trips no single target: the whole
            # organization is held to the same share.
            swept_list, organization_trip = hold_mass_misreads(
                f"organization {self._organization.organization_id}", swept, config.max_newly_idle_percent
            )
            swept = list(swept_list)
            trips += (organization_trip,) if organization_trip else ()
        decisions = cap_deletions(swept, config.max_deletions_per_run)
        by_region: dict[str, list[IdleDecision]] = {}
        for decision in decisions:
            by_region.setdefault(self._target_of(decision.profile.arn), []).append(decision)
        acted = sweep_regions(list(by_region), self._act(now, by_region))
        outcomes: list[IdleOutcome] = [o for outcomes in acted.by_region.values() for o in outcomes]
        for failure in acted.failures:  # not expected: actions catch per profile
            outcomes += [
                IdleOutcome(
                    d,
                    OutcomeStatus.FAILED,
                    f"could not act there: {failure.error_code}: {failure.message}",
                    error_code=failure.error_code,
                )
                for d in by_region[failure.region]
            ]
        facts = IdleRunFacts(
            now=now,
            regions=config.regions,
            settings=self._settings,
            max_deletions=config.max_deletions_per_run,
            checked=len(decisions),
            outcomes=sort_outcomes(outcomes),
            failures=assessed.failures,
            read_only=self._read_only,
            breaker_trips=trips,
            organization=self._organization,
        )
        for trip in trips:
            logger.error("Circuit breaker held a region: nothing marked or deleted there", extra=trip.to_dict())
        if facts.cap_reached:
            logger.warning(
                "Deletion cap reached: eligible profiles were not deleted in this run",
                extra={
                    "max_deletions_per_run": config.max_deletions_per_run,
                    "deferred": facts.counts()["deferredByCap"],
                },
            )
        for outcome in facts.outcomes:
            # One line per profile something happened to: the audit trail, complete even when the
            # message has to leave profiles out to fit SNS.
            if outcome.action not in QUIET_ACTIONS or not outcome.succeeded:
                logger.info("Idle profile action", extra={"profile": outcome.to_dict()})
        logger.info("Idle profile sweep finished", extra={"counts": facts.counts(), "dry_run": self._settings.dry_run})

        notification: Notification | None = None
        message_id: str | None = None
        alert_error: str | None = None
        if facts.worth_a_message:
            notification = fit(lambda limit: render(facts, limit), item_count(facts))
            logger.info("Idle profile alert", extra={"alert": dict(notification.document)})
            if self._publisher:
                # Not raised here: the result (and its metrics) must get out first. The handler raises
                # after recording them; the logs above hold the whole message.
                message_id, alert_error = publish(
                    self._publisher, config.alert_topic_arn, notification, "Idle profile alert"
                )
        return IdleRunResult(
            facts=facts,
            per_region={region: len(items) for region, (items, _) in held.items()},
            notification=notification,
            message_id=message_id,
            alert_error=alert_error,
        )
