"""Metrics the functions publish, named so a dashboard reads without a legend."""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from bedrock_governance.tag_compliance import TagComplianceResult


def add_counts(metrics: Metrics, counts: Mapping[str, int]) -> None:
    for name, value in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def add_region_counts(metrics: Metrics, name: str, by_region: Mapping[str, int], namespace: str | None) -> None:
    """One datapoint per region, with a Region dimension that does not leak into other metrics."""
    for region, value in by_region.items():
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=namespace) as metric:
            metric.add_dimension(name="Region", value=region)


def record_tag_compliance(metrics: Metrics, result: TagComplianceResult) -> None:
    add_counts(
        metrics,
        {
            "ProfilesChecked": result.facts.checked,
            "NonCompliantProfiles": len(result.findings),
            "TagViolations": sum(len(f.violations) for f in result.findings),
            "NewOrChangedViolations": len(result.decision.new) + len(result.decision.changed),
            "RegionsFailed": len(result.failures),
            "AlertsPublished": 1 if result.message_id else 0,
        },
    )
    non_compliant: dict[str, int] = dict.fromkeys(result.per_region, 0)
    for finding in result.findings:
        non_compliant[finding.profile.region] = non_compliant.get(finding.profile.region, 0) + 1
    add_region_counts(metrics, "ProfilesCheckedByRegion", result.per_region, metrics.namespace)
    add_region_counts(metrics, "NonCompliantProfilesByRegion", non_compliant, metrics.namespace)
