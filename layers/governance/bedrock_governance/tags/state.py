"""When to alert about tag violations: pure decisions, time passed in.

New or changed violations alert at once; unchanged ones only in the digest, at most once per
digest interval. The state that makes this possible is a small JSON document (fingerprints per
profile) that the caller loads and saves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from bedrock_governance.core.arn import region_of
from bedrock_governance.core.errors import UnreadableState
from bedrock_governance.core.models import RegionFailure
from bedrock_governance.tags.policy import ProfileFinding

STATE_VERSION = 1
# The sweep runs at a local time (ScheduleTimezone), so across a daylight-saving change the same
# local hour a week later is 7 days +/- 1 hour away (2 hours in Antarctica/Troll). Without slack
# the digest would slip a whole day at every spring change. 2 hours stays far below the default
# daily schedule, so it never brings the digest forward by a run; a schedule that runs more often
# than every 2 hours moves the digest up to 2 hours earlier each week.
DIGEST_SLACK: Final = timedelta(hours=2)
# A state key must be a profile ARN: its region (4th field) decides what a failed region keeps.
_PROFILE_ARN: Final = re.compile(r"arn:aws[a-z-]*:bedrock:[a-z0-9-]+:[0-9]{12}:application-inference-profile/[^\s/]+")


def _text_map(document: Mapping[str, Any], name: str) -> dict[str, str]:
    value = document.get(name, {})
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise UnreadableState(f"{name} is not an object of strings")
    return value


def _aware_time(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise UnreadableState(f"{name} is not a time: {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise UnreadableState(f"{name} is not a time: {value!r}") from error
    if moment.tzinfo is None:
        # A naive time cannot be compared with the run's time: it would crash every run.
        raise UnreadableState(f"{name} has no time zone: {value!r}")
    return moment


@dataclass(frozen=True)
class AlertState:
    last_digest_at: datetime | None = None
    fingerprints: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    region_errors: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "lastDigestAt": self.last_digest_at.isoformat() if self.last_digest_at else None,
            "fingerprints": dict(sorted(self.fingerprints.items())),
            "regionErrors": dict(sorted(self.region_errors.items())),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any] | None) -> AlertState:
        """The state saved by :meth:`to_json`; another version counts as none. Raises
        :class:`UnreadableState` for content this code did not write (wrong types, naive times,
        keys that are not profile ARNs)."""
        if not document or document.get("version") != STATE_VERSION:
            return cls()
        fingerprints = _text_map(document, "fingerprints")
        strangers = [key for key in fingerprints if not _PROFILE_ARN.fullmatch(key)]
        if strangers:
            raise UnreadableState(f"fingerprints has a key that is not a profile ARN: {strangers[0]!r}")
        return cls(
            last_digest_at=_aware_time(document.get("lastDigestAt"), "lastDigestAt"),
            fingerprints=MappingProxyType(fingerprints),
            region_errors=MappingProxyType(_text_map(document, "regionErrors")),
        )


class AlertReason(StrEnum):
    DIGEST = "digest"
    CHANGES = "changes"
    NOTHING_NEW = "nothing-new"


@dataclass(frozen=True)
class AlertDecision:
    reason: AlertReason
    explanation: str
    new: tuple[ProfileFinding, ...]
    changed: tuple[ProfileFinding, ...]
    unchanged: tuple[ProfileFinding, ...]
    resolved: tuple[str, ...]
    new_failures: tuple[RegionFailure, ...]
    next_state: AlertState
    ungoverned: tuple[str, ...] = ()
    """Earlier findings in regions no longer governed: dropped from the state, never "resolved"."""

    @property
    def should_publish(self) -> bool:
        return self.reason is not AlertReason.NOTHING_NEW


def digest_due(last_digest_at: datetime | None, now: datetime, interval: timedelta) -> bool:
    """Whether the digest is due. A last digest later than now (a forged or mistyped run time wrote
    it) would hold the digest back until that date: it counts as no digest at all."""
    if last_digest_at is None or last_digest_at > now:
        return True
    return now - last_digest_at >= interval - DIGEST_SLACK


def decide_alert(
    findings: Sequence[ProfileFinding],
    failures: Sequence[RegionFailure],
    previous: AlertState,
    now: datetime,
    digest_interval: timedelta,
    *,
    governed: Collection[str] | None = None,
    unreadable_state: str | None = None,
    target_of: Callable[[str], str] = region_of,
) -> AlertDecision:
    """Compare this run's findings with the last alerted state and decide what to send.

    ``governed`` are the regions swept now (None: every region of the state): what the state
    remembers of other regions is dropped quietly, as nobody fixed or deleted it. ``unreadable_state``
    names the state that could not be read (``previous`` is then empty): it explains the digest.
    ``target_of`` maps a profile ARN to what a failure names: its region (account scope) or its
    ``account/region`` (organization scope)."""
    failed_regions = {failure.region for failure in failures}
    ungoverned = tuple(
        sorted(arn for arn in previous.fingerprints if governed is not None and target_of(arn) not in governed)
    )
    remembered = {arn: fp for arn, fp in previous.fingerprints.items() if arn not in ungoverned}
    current = {finding.profile.arn: finding for finding in findings}
    new = tuple(f for arn, f in current.items() if arn not in remembered)
    changed = tuple(f for arn, f in current.items() if arn in remembered and remembered[arn] != f.fingerprint)
    unchanged = tuple(f for arn, f in current.items() if remembered.get(arn) == f.fingerprint)
    # A region we could not read says nothing about its profiles: keep what we knew of them.
    resolved = tuple(sorted(arn for arn in remembered if arn not in current and target_of(arn) not in failed_regions))
    carried = {arn: fp for arn, fp in remembered.items() if target_of(arn) in failed_regions}
    fingerprints = carried | {arn: finding.fingerprint for arn, finding in current.items()}
    region_errors = {failure.region: failure.error_code for failure in failures}
    new_failures = tuple(f for f in failures if previous.region_errors.get(f.region) != f.error_code)

    last = previous.last_digest_at
    if digest_due(last, now, digest_interval):
        reason = AlertReason.DIGEST
        if unreadable_state is not None:
            explanation = f"saved state {unreadable_state} unreadable: full digest"
        elif last is None:
            explanation = "first run: full digest"
        elif last > now:
            explanation = f"digest due (the last one is dated {last.isoformat()}, after this run)"
        else:
            explanation = f"digest due (last one {last.date().isoformat()})"
        last_digest_at: datetime | None = now
    elif new or changed or resolved or new_failures:
        reason = AlertReason.CHANGES
        explanation = (
            f"{len(new)} new, {len(changed)} changed, {len(resolved)} resolved violation(s), "
            f"{len(new_failures)} new region failure(s)"
        )
        last_digest_at = last
    else:
        reason = AlertReason.NOTHING_NEW
        explanation = "no new, changed or resolved violations since the last alert"
        last_digest_at = last
    return AlertDecision(
        reason=reason,
        explanation=explanation,
        new=new,
        changed=changed,
        unchanged=unchanged,
        resolved=resolved,
        new_failures=new_failures,
        next_state=AlertState(
            last_digest_at=last_digest_at,
            fingerprints=MappingProxyType(fingerprints),
            region_errors=MappingProxyType(region_errors),
        ),
        ungoverned=ungoverned,
    )
