"""Settings of the idle-profile sweep and their bounds, built ``from_env()`` (or from the command line's flags)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from bedrock_governance.core.settings import (
    environ,
    parse_bool,
    parse_bucket,
    parse_int,
    parse_topic_arn,
    regions_from_env,
    require,
)

# Bounds of the idle-profile settings. IDLE_DAYS_MAX equals idle.USAGE_HISTORY_DAYS (how far back
# usage is read); a unit test keeps the two in step.
IDLE_DAYS_MAX: Final = 180
IDLE_GRACE_DAYS_MAX: Final = 365
MAX_DELETIONS_PER_RUN_MAX: Final = 1000
# The circuit breaker's default share (see idle.hold_mass_misreads and the README's safety section).
DEFAULT_MAX_NEWLY_IDLE_PERCENT: Final = 50


@dataclass(frozen=True)
class IdleConfig:
    """Settings of the idle-profile sweep. Deletion is off (dry run) unless CLEANUP_DRY_RUN=false."""

    regions: tuple[str, ...]
    alert_topic_arn: str
    records_bucket: str
    idle_days: int = 30
    grace_days: int = 14
    cleanup_dry_run: bool = True
    max_deletions_per_run: int = 10
    max_newly_idle_percent: int = DEFAULT_MAX_NEWLY_IDLE_PERCENT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IdleConfig:
        values = environ(env)
        return cls(
            regions=regions_from_env(values),
            alert_topic_arn=parse_topic_arn(require(values, "ALERT_TOPIC_ARN"), "ALERT_TOPIC_ARN"),
            records_bucket=parse_bucket(require(values, "GOVERNANCE_BUCKET"), "GOVERNANCE_BUCKET"),
            idle_days=parse_int(values.get("IDLE_DAYS", "30"), "IDLE_DAYS", minimum=1, maximum=IDLE_DAYS_MAX),
            grace_days=parse_int(
                values.get("IDLE_GRACE_DAYS", "14"), "IDLE_GRACE_DAYS", minimum=1, maximum=IDLE_GRACE_DAYS_MAX
            ),
            # Unset means a dry run; a malformed value fails at start instead of being guessed.
            cleanup_dry_run=parse_bool(values.get("CLEANUP_DRY_RUN", "true"), "CLEANUP_DRY_RUN"),
            max_deletions_per_run=parse_int(
                values.get("MAX_DELETIONS_PER_RUN", "10"),
                "MAX_DELETIONS_PER_RUN",
                minimum=0,
                maximum=MAX_DELETIONS_PER_RUN_MAX,
            ),
            max_newly_idle_percent=parse_int(
                values.get("MAX_NEWLY_IDLE_PERCENT", str(DEFAULT_MAX_NEWLY_IDLE_PERCENT)),
                "MAX_NEWLY_IDLE_PERCENT",
                minimum=1,
                maximum=100,
            ),
        )
