"""Metrics the functions publish, named so a dashboard reads without a legend: one :func:`record` for every job.

Each job's result says what to count (:class:`bedrock_governance.core.results.RunResult`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

if TYPE_CHECKING:
    from bedrock_governance.core.results import RunResult


def add_counts(metrics: Metrics, counts: Mapping[str, int]) -> None:
    for name, value in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def add_region_counts(metrics: Metrics, name: str, by_region: Mapping[str, int], namespace: str | None) -> None:
    """One datapoint per region, with a Region dimension that does not leak into other metrics."""
    for region, value in by_region.items():
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=namespace) as metric:
            metric.add_dimension(name="Region", value=region)


def record(metrics: Metrics, result: RunResult) -> None:
    """A run's metrics: its counts, its amounts and its per-region counts. A dry run records what
    it would have done under the same names."""
    add_counts(metrics, result.metric_counts())
    for name, amount in result.metric_amounts().items():
        metrics.add_metric(name=name, unit=MetricUnit.NoUnit, value=amount)
    for name, by_region in result.region_counts().items():
        add_region_counts(metrics, name, by_region, metrics.namespace)
