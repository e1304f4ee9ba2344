"""One rule for every job's publishing: a failed publish never loses the run's metrics or its findings.

A job logs what it found, then publishes with :func:`publish`, which returns the error instead of
raising. Its result carries that error next to its counts (:class:`RunResult`); the handler
records the metrics (:func:`bedrock_governance.core.metrics.record`), then calls
``result.raise_if_alert_failed()``, which fails the invocation so the Errors alarm fires.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from aws_lambda_powertools import Logger

from bedrock_governance.core.errors import AlertNotPublished, AwsError

if TYPE_CHECKING:
    from bedrock_governance.aws.ports import Publisher
    from bedrock_governance.core.notify import Notification

logger = Logger(child=True)


class RunResult(Protocol):
    """What :func:`bedrock_governance.core.metrics.record` and the handlers need from a job's result."""

    @property
    def alert_error(self) -> str | None: ...

    def metric_counts(self) -> Mapping[str, int]:
        """Counts (unit Count), one datapoint each."""
        ...

    def metric_amounts(self) -> Mapping[str, float]:
        """Amounts without a unit (spend in USD), one datapoint each."""
        ...

    def region_counts(self) -> Mapping[str, Mapping[str, int]]:
        """Metric name -> region -> count: one datapoint per region, with a Region dimension."""
        ...

    def raise_if_alert_failed(self) -> None:
        """Raise :class:`AlertNotPublished` when the run's message could not be sent."""
        ...


def publish(
    publisher: Publisher, topic_arn: str, notification: Notification, what: str
) -> tuple[str | None, str | None]:
    """Publish, and on failure say why instead of raising: ``(message id, None)`` or ``(None, error)``.

    The run's findings are in its logs already; the error travels in the result, so the handler
    records the run's metrics before it fails the invocation.
    """
    try:
        return publisher.publish(topic_arn, notification), None
    except AwsError as error:
        logger.error(f"{what} could not be published", extra={"error": str(error), "topic": topic_arn})
        return None, str(error)


def raise_if_alert_failed(what: str, alert_error: str | None) -> None:
    """Fail the invocation when a message could not be sent, so the Errors alarm fires.

    Called by the handler after the metrics are recorded; the run's work is done and its findings
    are in the logs by then. Lambda does not retry the functions (MaximumRetryAttempts 0).
    """
    if alert_error:
        raise AlertNotPublished(f"{what} not published (the run's work is done and logged): {alert_error}")
