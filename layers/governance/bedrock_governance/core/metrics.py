"""Metrics the functions publish, named so a dashboard reads without a legend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

if TYPE_CHECKING:
    # Types only: each handler imports this module, and importing every job here would make each
    # function's cold start pay for the other three (see `make bench`).
    from bedrock_governance.budgets.job import BudgetRunResult
    from bedrock_governance.cost.job import CostReportResult
    from bedrock_governance.idle.job import IdleRunResult
    from bedrock_governance.tags.job import TagComplianceResult


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


def record_cost_report(metrics: Metrics, result: CostReportResult) -> None:
    report = result.report
    add_counts(
        metrics,
        {
            "CostReportsPublished": 1 if result.message_id else 0,
            "CostReportProjectsWithSpend": len(report.projects),
            "CostReportFlags": len(report.flags),
            "CostReportSourcesDenied": len(result.access_problems),
            "CostReportDataUnavailable": 1 if report.status.value == "data-unavailable" else 0,
        },
    )
    if report.has_figures:
        # Whole-account Bedrock spend per week, so a dashboard can chart it without Cost Explorer.
        metrics.add_metric(name="BedrockWeeklySpendUSD", unit=MetricUnit.NoUnit, value=float(report.total.this_week))
        metrics.add_metric(
            name="BedrockWeeklyUntaggedSpendUSD", unit=MetricUnit.NoUnit, value=float(report.untagged.this_week)
        )


# --- idle profiles ---


def record_idle_profiles(metrics: Metrics, result: IdleRunResult) -> None:
    add_counts(metrics, result.metric_counts())
    add_region_counts(metrics, "ProfilesCheckedByRegion", result.per_region, metrics.namespace)


def record_budgets(metrics: Metrics, result: BudgetRunResult) -> None:
    """Counts of one budget run; a dry run publishes what it would have done under the same names."""
    facts = result.facts
    add_counts(
        metrics,
        {
            "BudgetProjects": len(set(facts.projects) | set(facts.configured_projects)),
            "BudgetsInStep": facts.in_step,
            "BudgetsCreated": facts.count("created"),
            "BudgetsUpdated": facts.count("updated"),
            "BudgetsDeleted": facts.count("deleted"),
            "OrphanedBudgetsKept": len(facts.kept_orphans),
            "BudgetConflicts": len(facts.conflicts),
            "BudgetErrors": len(facts.errors),
            "CostAllocationTagsActivated": len(facts.cost_tags.activated) if facts.cost_tags else 0,
            "CostAllocationTagProblems": len(facts.cost_tags.problems) if facts.cost_tags else 0,
            "RegionsFailed": len(facts.failures),
            "BudgetSummariesPublished": 1 if result.message_id else 0,
        },
    )
