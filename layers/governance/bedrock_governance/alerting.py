"""When to alert about tag violations: pure decisions, time passed in.

New or changed violations alert at once; unchanged ones only in the digest, at most once per
digest interval. The state that makes this possible is a small JSON document (fingerprints per
profile) that the caller loads and saves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from bedrock_governance.models import RegionFailure
from bedrock_governance.tag_policy import ProfileFinding

STATE_VERSION = 1


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
        if not document or document.get("version") != STATE_VERSION:
            return cls()
        last = document.get("lastDigestAt")
        return cls(
            last_digest_at=datetime.fromisoformat(last) if last else None,
            fingerprints=MappingProxyType(dict(document.get("fingerprints", {}))),
            region_errors=MappingProxyType(dict(document.get("regionErrors", {}))),
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

    @property
    def should_publish(self) -> bool:
        return self.reason is not AlertReason.NOTHING_NEW


def _region_of(arn: str) -> str:
    return arn.split(":")[3]


def decide_alert(
    findings: Sequence[ProfileFinding],
    failures: Sequence[RegionFailure],
    previous: AlertState,
    now: datetime,
    digest_interval: timedelta,
) -> AlertDecision:
    """Compare this run's findings with the last alerted state and decide what to send."""
    failed_regions = {failure.region for failure in failures}
    current = {finding.profile.arn: finding for finding in findings}
    new = tuple(f for arn, f in current.items() if arn not in previous.fingerprints)
    changed = tuple(
        f for arn, f in current.items() if arn in previous.fingerprints and previous.fingerprints[arn] != f.fingerprint
    )
    unchanged = tuple(f for arn, f in current.items() if previous.fingerprints.get(arn) == f.fingerprint)
    # A region we could not read says nothing about its profiles: keep what we knew of them.
    resolved = tuple(
        sorted(arn for arn in previous.fingerprints if arn not in current and _region_of(arn) not in failed_regions)
    )
    carried = {arn: fp for arn, fp in previous.fingerprints.items() if _region_of(arn) in failed_regions}
    fingerprints = carried | {arn: finding.fingerprint for arn, finding in current.items()}
    region_errors = {failure.region: failure.error_code for failure in failures}
    new_failures = tuple(f for f in failures if previous.region_errors.get(f.region) != f.error_code)

    digest_due = previous.last_digest_at is None or now - previous.last_digest_at >= digest_interval
    if digest_due:
        reason = AlertReason.DIGEST
        last = previous.last_digest_at
        explanation = "first run: full digest" if last is None else f"digest due (last one {last.date().isoformat()})"
        last_digest_at: datetime | None = now
    elif new or changed or resolved or new_failures:
        reason = AlertReason.CHANGES
        explanation = (
            f"{len(new)} new, {len(changed)} changed, {len(resolved)} resolved violation(s), "
            f"{len(new_failures)} new region failure(s)"
        )
        last_digest_at = previous.last_digest_at
    else:
        reason = AlertReason.NOTHING_NEW
        explanation = "no new, changed or resolved violations since the last alert"
        last_digest_at = previous.last_digest_at
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
    )
