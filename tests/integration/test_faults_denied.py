"""Access denied in one governed region, or for Cost Explorer / Budgets: the rest completes, and the
message names what failed and why."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from bedrock_governance.core.models import IDLE_SINCE_TAG
from embedded_aws.faults import Fault, inject_faults
from embedded_aws.inbox import sent_messages
from embedded_aws.seed import ALLOWED_TAG_VALUES, Compliance, EstateSpec, Usage, seed_estate
from tests.integration.support import OTHER_REGION, REGION, REGIONS, alerts, run, tags_of

if TYPE_CHECKING:
    from stack_harness import DeployedStack

pytestmark = pytest.mark.deployment

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
WHY = "User: arn:aws:sts::123456789012:assumed-role/governance is not authorized to perform: {action}"


def denied(service: str, operation: str, action: str, region: str | None = None) -> Fault:
    return Fault(service, operation, "AccessDeniedException", 403, WHY.format(action=action), region=region)


def test_tag_compliance_reports_the_denied_region_and_checks_the_others(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(GovernedRegions=",".join(REGIONS), AllowedTagValues=json.dumps(ALLOWED_TAG_VALUES))
    estate = seed_estate(EstateSpec(profiles=20, regions=REGIONS, now=NOW, usage=False, costs=False))
    fault = denied("resourcegroupstaggingapi", "GetResources", "tag:GetResources", OTHER_REGION)
    with inject_faults(fault):
        summary = run(stack, "TagComplianceFunction", NOW)

    expected = {p.arn for p in estate.profiles if p.region == REGION and p.compliance is not Compliance.COMPLIANT}
    assert summary["profilesByRegion"] == {REGION: 10}
    assert summary["failedRegions"] == [
        f"{OTHER_REGION}: AccessDeniedException: {WHY.format(action='tag:GetResources')}"
    ]
    (alert,) = alerts(stack)
    assert alert.document is not None
    assert {f["arn"] for f in alert.document["findings"]} == expected
    assert f"{OTHER_REGION}: AccessDeniedException" in alert.text
    assert "tag:GetResources" in alert.text


def test_the_idle_sweep_acts_in_the_readable_region_and_names_the_denied_one(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy(GovernedRegions=",".join(REGIONS))
    estate = seed_estate(EstateSpec(profiles=24, regions=REGIONS, now=NOW, usage=True, costs=False))
    fault = denied("cloudwatch", "GetMetricData", "cloudwatch:GetMetricData", OTHER_REGION)
    with inject_faults(fault):
        summary = run(stack, "IdleProfileFunction", NOW)

    assert summary["failedRegions"] == [
        f"{OTHER_REGION}: AccessDeniedException: {WHY.format(action='cloudwatch:GetMetricData')}"
    ]
    for profile in estate.where(usage=Usage.IDLE):
        # Marked where usage could be read; never judged where it could not.
        assert (IDLE_SINCE_TAG in tags_of(profile.arn)) is (profile.region == REGION)
    (alert,) = alerts(stack)
    assert f"{OTHER_REGION}: AccessDeniedException" in alert.text
    assert "cloudwatch:GetMetricData" in alert.text


def test_budgets_go_on_without_a_denied_region_and_delete_nothing(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(GovernedRegions=",".join(REGIONS), BudgetCleanup="true")
    seed_estate(EstateSpec(profiles=12, regions=REGIONS, now=NOW, usage=False, costs=True))
    run(stack, "BudgetFunction", NOW)
    before = alerts(stack)
    fault = denied("bedrock", "ListInferenceProfiles", "bedrock:ListInferenceProfiles", OTHER_REGION)
    with inject_faults(fault):
        summary = run(stack, "BudgetFunction", NOW)

    # Projects only seen in the denied region are not orphans: an incomplete inventory deletes nothing.
    assert summary["deleted"] == []
    assert summary["failedRegions"] == [
        f"{OTHER_REGION}: AccessDeniedException: {WHY.format(action='bedrock:ListInferenceProfiles')}"
    ]
    (latest,) = alerts(stack)[len(before) :]
    assert OTHER_REGION in latest.text
    assert "AccessDeniedException" in latest.text


def test_budgets_denied_is_named_and_nothing_is_written(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(GovernedRegions=",".join(REGIONS))
    seed_estate(EstateSpec(profiles=12, regions=REGIONS, now=NOW, usage=False, costs=True))
    with inject_faults(denied("budgets", "DescribeBudgets", "budgets:ViewBudget")):
        summary = run(stack, "BudgetFunction", NOW)

    assert summary["created"] == []
    (alert,) = alerts(stack)
    assert "DescribeBudgets" in alert.text or "budgets:ViewBudget" in alert.text
    assert "AccessDeniedException" in alert.text


def test_cost_explorer_denied_to_the_budget_run_still_keeps_budgets(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(GovernedRegions=",".join(REGIONS))
    seed_estate(EstateSpec(profiles=12, regions=REGIONS, now=NOW, usage=False, costs=True))
    with inject_faults(
        denied("ce", "GetDimensionValues", "ce:GetDimensionValues"),
        denied("ce", "ListCostAllocationTags", "ce:ListCostAllocationTags"),
    ):
        summary = run(stack, "BudgetFunction", NOW)

    assert summary["created"], "budgets are kept without Cost Explorer"
    (alert,) = alerts(stack)
    assert "ce:ListCostAllocationTags" in alert.text or "ListCostAllocationTags" in alert.text


def test_the_cost_report_names_every_denied_source_and_still_goes_out(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy()
    seed_estate(EstateSpec(profiles=12, regions=REGIONS, now=NOW, usage=False, costs=True))
    with inject_faults(
        denied("ce", "ListCostAllocationTags", "ce:ListCostAllocationTags"),
        denied("budgets", "DescribeBudgets", "budgets:ViewBudget"),
    ):
        summary = run(stack, "CostReportFunction", NOW)

    assert summary["projects"] > 0, "the figures come from GetCostAndUsage, which was allowed"
    problems = " ".join(summary["problems"])
    assert "ListCostAllocationTags" in problems
    assert "DescribeBudgets" in problems
    (report,) = sent_messages(stack.outputs["ReportTopicArn"])
    (alert,) = alerts(stack)
    for text in (report.text, alert.text):
        assert "ce:ListCostAllocationTags" in text
        assert "budgets:ViewBudget" in text
