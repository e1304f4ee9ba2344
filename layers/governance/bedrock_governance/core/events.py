"""The run time: from the event when the scheduler provides it, but never trusted beyond the clock.

A retried invocation should decide as the first one did, so the scheduled time in the event is
the decision time. But an event is input: anyone allowed to invoke the function can write any
time into it, and a decision time in the future sees no CloudWatch data (everything looks idle)
while one far in the past makes marks that are already "old". So an event's time is accepted
only inside a window around the real clock:

* no later than ``now + MAX_CLOCK_SKEW`` (clocks of two AWS services differ by seconds, not hours);
* no earlier than ``now - MAX_EVENT_AGE``: EventBridge Scheduler retries for at most
  ``SCHEDULER_MAX_EVENT_AGE`` and Lambda keeps an asynchronous event for at most
  ``LAMBDA_MAX_EVENT_AGE`` (template.yaml sets both; a test keeps them in step with these).

Outside the window a run that would write (marks, unmarks, deletions, budgets, alert state)
refuses with :class:`RunTimeOutOfBounds`; a read-only replay (the command line's ``--at``
without a write flag) may look at any time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from bedrock_governance.core.errors import GovernanceError

SCHEDULER_MAX_EVENT_AGE: Final = timedelta(hours=1)
LAMBDA_MAX_EVENT_AGE: Final = timedelta(hours=6)
MAX_EVENT_AGE: Final = SCHEDULER_MAX_EVENT_AGE + LAMBDA_MAX_EVENT_AGE
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)


class RunTimeOutOfBounds(GovernanceError):
    """A decision time too far from the real clock for a run that writes."""


class InvalidRunTime(GovernanceError):
    """A run time that is not an ISO 8601 date and time."""


def _system_clock() -> datetime:
    return datetime.now(UTC)


_clock: Callable[[], datetime] = _system_clock


def utc_now() -> datetime:
    """The real time, timezone-aware. Every run reads the clock here and nowhere else."""
    return _clock()


@contextmanager
def clock_set_to(moment: datetime) -> Iterator[None]:
    """Run with the real clock reading ``moment`` (the embedded AWS's simulated timelines).

    Only code in the same process can do this; no event, flag or setting reaches it.
    """
    global _clock  # noqa: PLW0603 - the one seam for the clock
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    previous, _clock = _clock, (lambda: moment)
    try:
        yield
    finally:
        _clock = previous


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive time is taken as UTC already): what a "UTC" or "Z" label prints."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def given_run_time(value: str | None, source: str, real: datetime | None = None) -> RunTime:
    """The decision time ``value`` (ISO 8601, named ``source`` in errors), or the clock when None."""
    now = as_utc(real or utc_now())
    if value is None:
        return RunTime(now, now, "the clock")
    return RunTime(parse_time(value, source), now, source)


def parse_time(value: str, what: str) -> datetime:
    """An ISO 8601 time (``Z`` allowed; no zone means UTC), or :class:`InvalidRunTime` naming ``what``."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidRunTime(f"{what} {value!r} is not an ISO 8601 time such as 2026-11-26T06:30:00Z") from error
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass(frozen=True)
class RunTime:
    """When a run decides, when it really runs, and where the decision time came from."""

    decision: datetime
    real: datetime
    source: str  # "the event's scheduledTime", "--at", "the clock"...

    @property
    def within_bounds(self) -> bool:
        return self.real - MAX_EVENT_AGE <= self.decision <= self.real + MAX_CLOCK_SKEW

    def problem(self) -> str:
        """Why this decision time may not be used to write, or '' when it may."""
        decision, real = as_utc(self.decision), as_utc(self.real)
        if self.decision > self.real + MAX_CLOCK_SKEW:
            return (
                f"{self.source} {decision:%Y-%m-%dT%H:%M:%SZ} is in the future "
                f"(the clock says {real:%Y-%m-%dT%H:%M:%SZ})"
            )
        if self.decision < self.real - MAX_EVENT_AGE:
            hours = MAX_EVENT_AGE.total_seconds() / 3600
            return (
                f"{self.source} {decision:%Y-%m-%dT%H:%M:%SZ} is more than {hours:g} hours in the past "
                f"(the clock says {real:%Y-%m-%dT%H:%M:%SZ})"
            )
        return ""

    def for_writing(self) -> datetime:
        """The decision time for a run that writes; :class:`RunTimeOutOfBounds` outside the window."""
        problem = self.problem()
        if problem:
            raise RunTimeOutOfBounds(
                f"refused: {problem}; a run that writes marks, deletions, budgets or alert state decides only "
                "within the scheduler's retry window of the real time"
            )
        return self.decision


def run_time(event: Mapping[str, Any] | None, real: datetime | None = None) -> RunTime:
    """The decision time carried by a scheduled event, or the clock for on-demand invocations.

    EventBridge Scheduler fills ``scheduledTime`` from ``<aws.scheduler.scheduled-time>``;
    EventBridge rules send ``time``. A placeholder left unfilled counts as absent.
    """
    now = as_utc(real or utc_now())
    for key in ("scheduledTime", "time"):
        value = (event or {}).get(key)
        if isinstance(value, str) and value and not value.startswith("<"):
            return given_run_time(value, f"the event's {key}", now)
    return given_run_time(None, "the clock", now)


def scheduled_run_time(event: Mapping[str, Any] | None) -> datetime:
    """What a handler decides with: the event's time within bounds, else :class:`RunTimeOutOfBounds`."""
    return run_time(event).for_writing()


def flag(event: Mapping[str, Any] | None, key: str) -> bool | None:
    """An on-demand override such as ``{"dryRun": true}``; None when the event does not say."""
    value = (event or {}).get(key)
    return value if isinstance(value, bool) else None


def dry_run_requested(event: Mapping[str, Any] | None) -> bool:
    """``{"dryRun": true}`` in an on-demand event: the same for every function. The job computes
    and logs as a real run would and changes nothing: no message, no state, no AWS write. An
    event can only ask for a dry run, never turn one off (the idle sweep's CLEANUP_DRY_RUN stays)."""
    return flag(event, "dryRun") is True
