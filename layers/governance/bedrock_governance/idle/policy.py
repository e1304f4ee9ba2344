"""When an application inference profile is idle, and what to do about it: pure policy, time passed in.

Life cycle, with the state kept on the profile itself as the tag ``governance:idle-since=YYYY-MM-DD``
(the UTC date the profile was first found idle):

* busy (invocations in the last ``idle_days``): left alone; a mark is removed ("used again");
* idle and unmarked: marked today and its owner warned;
* marked and still idle: deleted once it has been marked for ``grace_days`` (or reported as
  "would delete" in a dry run), at most ``max_deletions`` a run;
* ``governance:keep=true``, or created less than ``idle_days`` ago: never marked or deleted, and a
  stale mark is removed, so lifting the exemption later restarts the warning instead of deleting
  at once on an old date.

A profile whose usage could not be read is never judged: no data from a failed read is not zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from bedrock_governance.core.events import as_utc
from bedrock_governance.core.models import IDLE_SINCE_TAG, KEEP_TAG, InferenceProfile, UsageHistory

# How far back usage is read. Costs nothing extra (GetMetricData is priced per metric, not per
# datapoint) and keeps one call per 500 profiles: 500 queries x 180 daily datapoints stays
# under the 100,800 datapoints one GetMetricData response may carry. IdleDays may not exceed it.
USAGE_HISTORY_DAYS: Final = 180
APPLICATION_ARN_MARKER: Final = ":application-inference-profile/"


class IdleAction(StrEnum):
    LEAVE = "leave"  # in use: nothing to do
    YOUNG = "young"  # created less than idle_days ago: never idle
    EXEMPT = "exempt"  # governance:keep=true
    UNKNOWN = "unknown"  # usage could not be read: nothing decided
    NOT_GOVERNED = "not-governed"  # not an application profile: never touched
    MARK = "mark"  # newly idle: write the mark and warn
    UNMARK = "unmark"  # remove the mark: used again, exempt or young
    WAIT = "wait"  # marked, grace period still running
    DELETE = "delete"
    WOULD_DELETE = "would-delete"  # dry run: what a real run would delete
    DEFERRED = "deferred"  # eligible, but MaxDeletionsPerRun was reached
    HELD = "held"  # a mark or deletion withheld by the circuit breaker: too many looked idle at once


# Decisions that mean "this profile is idle": what a person (or a CI check) is told about.
IDLE_ACTIONS: Final = frozenset(
    {IdleAction.MARK, IdleAction.WAIT, IdleAction.DELETE, IdleAction.WOULD_DELETE, IdleAction.DEFERRED}
)
# The circuit breaker judges a share only when at least this many profiles could have become
# newly idle: below it one idle profile is already 20% and the share says nothing.
BREAKER_MIN_CANDIDATES: Final = 5


@dataclass(frozen=True)
class IdleSettings:
    idle_days: int
    grace_days: int
    dry_run: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.idle_days <= USAGE_HISTORY_DAYS:
            raise ValueError(f"idle_days must be 1..{USAGE_HISTORY_DAYS}, got {self.idle_days}")
        if self.grace_days < 1:
            raise ValueError(f"grace_days must be at least 1, got {self.grace_days}")


@dataclass(frozen=True)
class IdleDecision:
    """What to do with one profile, and why."""

    profile: InferenceProfile
    action: IdleAction
    reason: str
    invocations: float | None = None  # in the last idle_days; None when unknown
    last_used: datetime | None = None  # start of the latest day with traffic
    usage_since: datetime | None = None  # how far back usage was read
    idle_since: date | None = None  # the mark's date (existing, or written by this decision)
    eligible_on: date | None = None  # first day the profile may be deleted

    @property
    def owner(self) -> str | None:
        return self.profile.tags.get("Owner")

    @property
    def project(self) -> str | None:
        return self.profile.tags.get("Project")

    def last_use_text(self) -> str:
        """The last use as a person reads it; usage is known to the day."""
        if self.last_used is not None:
            since = as_utc(self.last_used)
            until = since + timedelta(days=1)
            return f"between {since:%Y-%m-%d %H:%M} and {until:%Y-%m-%d %H:%M} UTC"
        if self.usage_since is None:
            return "unknown"
        if self.profile.created_at >= self.usage_since:
            return f"never (no invocations since it was created on {self.profile.created_at:%Y-%m-%d})"
        return f"none since {self.usage_since:%Y-%m-%d} (as far back as usage is read)"

    def to_dict(self) -> dict[str, Any]:
        profile = self.profile
        return {
            "action": self.action.value,
            "reason": self.reason,
            "name": profile.name,
            "id": profile.profile_id,
            "arn": profile.arn,
            "region": profile.region,
            "owner": self.owner,
            "project": self.project,
            "createdAt": profile.created_at.isoformat(),
            "invocationsInWindow": self.invocations,
            "lastUse": (
                {
                    "from": self.last_used.isoformat(),
                    "to": (self.last_used + timedelta(days=1)).isoformat(),
                }
                if self.last_used
                else None
            ),
            "lastUseText": self.last_use_text(),
            "usageReadSince": self.usage_since.isoformat() if self.usage_since else None,
            "idleSince": self.idle_since.isoformat() if self.idle_since else None,
            "eligibleForDeletionOn": self.eligible_on.isoformat() if self.eligible_on else None,
        }


def is_exempt(tags: Mapping[str, str]) -> bool:
    """``governance:keep=true`` exempts a profile. The value is read leniently ("True", " true "):
    erring towards keeping a profile is the safe side."""
    return tags.get(KEEP_TAG, "").strip().lower() == "true"


def parse_mark(value: str | None) -> date | None:
    """The date in an idle mark, or None when the value is not a ``YYYY-MM-DD`` date."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC)


def _count(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def decide(  # noqa: PLR0911 - a decision table: one return per rule, in order of precedence
    profile: InferenceProfile,
    usage: UsageHistory | None,
    settings: IdleSettings,
    now: datetime,
) -> IdleDecision:
    """The decision for one profile at ``now`` given its usage (None when it could not be read)."""
    now = _utc(now)
    today = now.date()
    tags = profile.tags
    mark_value = tags.get(IDLE_SINCE_TAG)
    marked = mark_value is not None
    mark_date = parse_mark(mark_value)
    window_start = (usage.end if usage else now) - timedelta(days=settings.idle_days)
    invocations = usage.invocations_since(window_start) if usage and usage.complete else None
    known = {
        "invocations": invocations,
        "last_used": usage.last_used if usage and usage.complete else None,
        "usage_since": usage.start if usage and usage.complete else None,
    }

    def decision(action: IdleAction, reason: str, **extra: Any) -> IdleDecision:
        return IdleDecision(profile=profile, action=action, reason=reason, **(known | extra))

    if APPLICATION_ARN_MARKER not in profile.arn:
        return decision(IdleAction.NOT_GOVERNED, "not an application inference profile: never touched")
    if is_exempt(tags):
        if marked:
            return decision(IdleAction.UNMARK, f"exempt ({KEEP_TAG}=true): stale idle mark removed")
        return decision(IdleAction.EXEMPT, f"exempt ({KEEP_TAG}=true)")
    age = now - _utc(profile.created_at)
    if age < timedelta(days=settings.idle_days):
        created = f"created {profile.created_at:%Y-%m-%d}, less than {settings.idle_days} days ago"
        if marked:
            return decision(IdleAction.UNMARK, f"{created}: idle mark removed")
        return decision(IdleAction.YOUNG, created)
    if usage is None or not usage.complete or invocations is None:
        problem = usage.problem if usage and usage.problem else "usage was not read"
        return decision(IdleAction.UNKNOWN, f"usage unknown ({problem}): nothing decided", idle_since=mark_date)
    window = f"in the last {settings.idle_days} days"
    if invocations > 0:
        used = f"{_count(invocations)} invocations {window}"
        if marked:
            return decision(IdleAction.UNMARK, f"used again: {used}; idle mark removed")
        return decision(IdleAction.LEAVE, f"in use: {used}")

    eligible_today = today + timedelta(days=settings.grace_days)
    if not marked:
        return decision(
            IdleAction.MARK,
            f"no invocations {window}",
            idle_since=today,
            eligible_on=eligible_today,
        )
    if mark_date is None or mark_date > today:
        return decision(
            IdleAction.MARK,
            f"no invocations {window}; the idle mark {mark_value!r} is not a valid past date, so the grace period "
            "starts again today",
            idle_since=today,
            eligible_on=eligible_today,
        )
    eligible_on = mark_date + timedelta(days=settings.grace_days)
    if today < eligible_on:
        return decision(
            IdleAction.WAIT,
            f"no invocations {window}; marked idle on {mark_date}, eligible for deletion on {eligible_on}",
            idle_since=mark_date,
            eligible_on=eligible_on,
        )
    action = IdleAction.WOULD_DELETE if settings.dry_run else IdleAction.DELETE
    verb = "would be deleted (CleanupDryRun is on)" if settings.dry_run else "deleted"
    return decision(
        action,
        f"no invocations {window}; marked idle on {mark_date}, {(today - mark_date).days} days ago "
        f"(grace period {settings.grace_days} days): {verb}",
        idle_since=mark_date,
        eligible_on=eligible_on,
    )


def decide_all(
    profiles: Iterable[InferenceProfile],
    usage: Mapping[str, UsageHistory],
    settings: IdleSettings,
    now: datetime,
) -> tuple[IdleDecision, ...]:
    """Decisions for the profiles of one region; ``usage`` is keyed by profile id."""
    return tuple(decide(profile, usage.get(profile.profile_id), settings, now) for profile in profiles)


@dataclass(frozen=True)
class BreakerTrip:
    """The circuit breaker held a region: too large a share of it looked newly idle at once.

    A real estate does not go quiet all at once; a misread does (a CloudWatch answer without data,
    a region's metrics missing, a clock far ahead). Cloud Custodian's ``max-resources-percent``
    refuses such runs the same way.
    """

    region: str
    newly_idle: int
    candidates: int
    max_percent: int
    held: int

    @property
    def percent(self) -> float:
        return 100 * self.newly_idle / self.candidates

    def describe(self) -> str:
        return (
            f"{self.region}: {self.newly_idle} of {self.candidates} profiles in use until now ({self.percent:.0f}%) "
            f"looked newly idle, more than MaxNewlyIdlePercent ({self.max_percent}%): nothing was marked or deleted "
            f"there ({self.held} held). Check that CloudWatch has the AWS/Bedrock Invocations metrics for this "
            "region; if the profiles really are idle, raise MaxNewlyIdlePercent for one run."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "newlyIdle": self.newly_idle,
            "candidates": self.candidates,
            "percent": round(self.percent, 1),
            "maxNewlyIdlePercent": self.max_percent,
            "held": self.held,
        }


def hold_mass_misreads(
    region: str, decisions: Sequence[IdleDecision], max_newly_idle_percent: int
) -> tuple[tuple[IdleDecision, ...], BreakerTrip | None]:
    """The circuit breaker for one region's decisions.

    Candidates are the profiles whose usage was read and that could have become newly idle (in
    use, or newly idle now). When more than ``max_newly_idle_percent`` of at least
    ``BREAKER_MIN_CANDIDATES`` candidates look newly idle, every mark and deletion in the region
    is held; removing marks still goes ahead (it is always safe).
    """
    if not 1 <= max_newly_idle_percent <= 100:
        raise ValueError(f"max_newly_idle_percent must be 1..100, got {max_newly_idle_percent}")
    candidates = [d for d in decisions if d.action in {IdleAction.LEAVE, IdleAction.MARK}]
    newly_idle = sum(1 for d in candidates if d.action is IdleAction.MARK)
    if len(candidates) < BREAKER_MIN_CANDIDATES or newly_idle * 100 <= max_newly_idle_percent * len(candidates):
        return tuple(decisions), None
    withheld = {IdleAction.MARK, IdleAction.DELETE, IdleAction.WOULD_DELETE}
    trip = BreakerTrip(
        region=region,
        newly_idle=newly_idle,
        candidates=len(candidates),
        max_percent=max_newly_idle_percent,
        held=sum(1 for d in decisions if d.action in withheld),
    )
    reason = (
        f"held by the circuit breaker: {newly_idle} of {len(candidates)} profiles in {region} looked newly idle "
        f"at once (more than {max_newly_idle_percent}%), so nothing is marked or deleted there"
    )
    held = tuple(
        replace(d, action=IdleAction.HELD, reason=f"{reason} (would have been: {d.action.value})")
        if d.action in withheld
        else d
        for d in decisions
    )
    return held, trip


def _deletion_priority(decision: IdleDecision) -> tuple[date, str, str, str]:
    # The longest-marked profiles go first; the rest is only there to be deterministic.
    profile = decision.profile
    return (decision.idle_since or date.max, profile.region, profile.name, profile.arn)


def cap_deletions(decisions: Sequence[IdleDecision], max_deletions: int) -> tuple[IdleDecision, ...]:
    """Apply ``MaxDeletionsPerRun`` across all regions: the first ``max_deletions`` eligible
    profiles (longest marked first) keep their deletion, the rest are deferred to a later run.

    A dry run is capped the same way, so it shows what a real run would do. Order is kept.
    """
    if max_deletions < 0:
        raise ValueError("max_deletions must not be negative")
    eligible = [d for d in decisions if d.action in {IdleAction.DELETE, IdleAction.WOULD_DELETE}]
    allowed = {id(d) for d in sorted(eligible, key=_deletion_priority)[:max_deletions]}
    capped: list[IdleDecision] = []
    for item in decisions:
        if item.action in {IdleAction.DELETE, IdleAction.WOULD_DELETE} and id(item) not in allowed:
            would = "would be " if item.action is IdleAction.WOULD_DELETE else ""
            capped.append(
                replace(
                    item,
                    action=IdleAction.DEFERRED,
                    reason=f"eligible for deletion since {item.eligible_on}, but {would}deferred: "
                    f"MaxDeletionsPerRun ({max_deletions}) reached in this run; considered again next run",
                )
            )
        else:
            capped.append(item)
    return tuple(capped)


class OutcomeStatus(StrEnum):
    DONE = "done"  # carried out (or nothing to carry out)
    FAILED = "failed"  # an AWS error; the profile is as it was
    SKIPPED = "skipped"  # a deletion withheld by the last check before it
    IN_USE = "in-use"  # ConflictException on delete: something still uses the profile
    ALREADY_GONE = "already-gone"  # ResourceNotFoundException: deleted by someone else
    NOT_APPLIED = "not-applied"  # a read-only run: decided and reported, nothing written


@dataclass(frozen=True)
class IdleOutcome:
    """A decision and what became of it."""

    decision: IdleDecision
    status: OutcomeStatus = OutcomeStatus.DONE
    detail: str = ""
    record_uri: str | None = None
    error_code: str | None = None

    @property
    def action(self) -> IdleAction:
        return self.decision.action

    @property
    def succeeded(self) -> bool:
        """Nothing went wrong (a read-only run's unapplied decision included)."""
        return self.status in {OutcomeStatus.DONE, OutcomeStatus.NOT_APPLIED}

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.decision.to_dict(),
            "status": self.status.value,
            "detail": self.detail or None,
            "errorCode": self.error_code,
            "deletionRecord": self.record_uri,
        }
