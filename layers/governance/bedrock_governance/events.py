"""What the schedules send: the run time comes from the event when the scheduler provides it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def run_time(event: Mapping[str, Any] | None, fallback: datetime) -> datetime:
    """The scheduled time of this run, so a retried invocation decides as the first one did.

    EventBridge Scheduler fills ``scheduledTime`` from ``<aws.scheduler.scheduled-time>``;
    EventBridge rules send ``time``. On-demand invocations without either run at ``fallback``.
    """
    for key in ("scheduledTime", "time"):
        value = (event or {}).get(key)
        if isinstance(value, str) and value and not value.startswith("<"):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return fallback


def flag(event: Mapping[str, Any] | None, key: str) -> bool | None:
    """An on-demand override such as ``{"dryRun": true}``; None when the event does not say."""
    value = (event or {}).get(key)
    return value if isinstance(value, bool) else None
