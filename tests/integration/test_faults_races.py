"""Races: the world changes between a function's read and its next call.

A hook runs the other party's action just before the function's own call reaches the embedded AWS,
so the function meets exactly the answer AWS gives in that window: ``ResourceNotFoundException``
for a profile deleted since the listing, stale tags, ``ConflictException`` for a profile in use,
``DuplicateRecordException`` for a budget created since the budgets were read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from bedrock_governance.core.models import IDLE_SINCE_TAG, KEEP_TAG
from embedded_aws.bedrock import set_profile_created_at, set_profile_in_use
from embedded_aws.faults import Fault, inject_faults
from embedded_aws.seed import ALLOWED_TAG_VALUES
from tests.integration.support import (
    ACCOUNT,
    REGION,
    alerts,
    before_call,
    create_profile,
    exists,
    run,
    tags_of,
)

if TYPE_CHECKING:
    from stack_harness import DeployedStack

pytestmark = pytest.mark.deployment

NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
COMPLETE_TAGS = {"Project": "Chatbot", "Environment": "prod", "CostCenter": "CC-1", "Owner": "ana@example.com"}


def old_idle_profile(name: str, **tags: str) -> str:
    """A profile nobody used, marked idle long enough ago to be deleted now."""
    arn = create_profile(name, {IDLE_SINCE_TAG: (NOW - timedelta(days=30)).date().isoformat(), **tags})
    set_profile_created_at(ACCOUNT, REGION, arn, NOW - timedelta(days=200))
    return arn


def deleting_stack(deploy: Callable[..., DeployedStack]) -> DeployedStack:
    return deploy(CleanupDryRun="false")


def outcome_of(summary: Mapping[str, Any], arn: str) -> dict[str, Any]:
    (problem,) = [p for p in summary["problems"] if p["arn"] == arn]
    return dict(problem)


def delete_now(params: Mapping[str, Any]) -> None:
    identifier = params.get("inferenceProfileIdentifier") or params["resourceARN"]
    boto3.client("bedrock", region_name=REGION).delete_inference_profile(inferenceProfileIdentifier=identifier)


def test_a_profile_deleted_after_the_listing_is_reported_gone_not_failed(deploy: Callable[..., DeployedStack]) -> None:
    stack = deleting_stack(deploy)
    gone = old_idle_profile("gone-before-the-check")
    with before_call("bedrock", "GetInferenceProfile", delete_now) as raced:
        summary = run(stack, "IdleProfileFunction", NOW)

    assert raced, "the race happened"
    assert outcome_of(summary, gone)["status"] == "already-gone"
    assert summary["deleted"] == []
    assert summary["deletionRecords"] == [], "no record for a profile this run did not delete"
    assert summary["counts"]["actionsFailed"] == 0


def test_a_profile_deleted_between_the_check_and_the_delete_keeps_its_record(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deleting_stack(deploy)
    gone = old_idle_profile("gone-before-the-delete")
    with before_call("bedrock", "DeleteInferenceProfile", delete_now):
        summary = run(stack, "IdleProfileFunction", NOW)

    problem = outcome_of(summary, gone)
    assert problem["status"] == "already-gone"
    assert problem["errorCode"] == "ResourceNotFoundException"
    # The record was written before the delete was tried: it says what happened (someone else deleted it).
    (uri,) = summary["deletionRecords"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    record = json.loads(boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read())
    assert record["status"] == "already-gone"


def test_a_profile_exempted_after_the_listing_is_not_deleted(deploy: Callable[..., DeployedStack]) -> None:
    stack = deleting_stack(deploy)
    kept = old_idle_profile("exempted-just-in-time")

    def exempt(params: Mapping[str, Any]) -> None:
        boto3.client("bedrock", region_name=REGION).tag_resource(
            resourceARN=params["inferenceProfileIdentifier"], tags=[{"key": KEEP_TAG, "value": "true"}]
        )

    with before_call("bedrock", "GetInferenceProfile", exempt):
        summary = run(stack, "IdleProfileFunction", NOW)

    assert exists(kept)
    problem = outcome_of(summary, kept)
    assert problem["status"] == "skipped"
    assert "exempted" in problem["detail"]


def test_a_profile_whose_mark_was_renewed_after_the_listing_is_not_deleted(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deleting_stack(deploy)
    kept = old_idle_profile("mark-renewed")

    def renew(params: Mapping[str, Any]) -> None:
        boto3.client("bedrock", region_name=REGION).tag_resource(
            resourceARN=params["inferenceProfileIdentifier"],
            tags=[{"key": IDLE_SINCE_TAG, "value": NOW.date().isoformat()}],
        )

    with before_call("bedrock", "GetInferenceProfile", renew):
        summary = run(stack, "IdleProfileFunction", NOW)

    assert exists(kept)
    assert "idle mark changed" in outcome_of(summary, kept)["detail"]


@pytest.mark.parametrize("how", ["in use", "injected"])
def test_a_conflict_on_delete_keeps_the_profile_and_says_why(deploy: Callable[..., DeployedStack], how: str) -> None:
    stack = deleting_stack(deploy)
    busy = old_idle_profile("still-referenced")
    other = old_idle_profile("really-idle")
    faults = []
    if how == "in use":
        set_profile_in_use(ACCOUNT, REGION, busy)
    else:
        faults.append(Fault("bedrock", "DeleteInferenceProfile", "ConflictException", 400, "profile in use", times=1))
    with inject_faults(*faults):
        summary = run(stack, "IdleProfileFunction", NOW)

    # The first profile in the run's order meets the conflict; the other one is deleted all the same.
    (problem,) = summary["problems"]
    conflicted = problem["arn"]
    assert problem["status"] == "in-use"
    assert problem["errorCode"] == "ConflictException"
    assert exists(conflicted)
    assert summary["deleted"] == [arn for arn in (busy, other) if arn != conflicted]
    if how == "in use":
        assert conflicted == busy
    (alert,) = alerts(stack)
    assert "still in use" in alert.text


def test_a_profile_deleted_before_it_is_marked_is_reported_gone(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy()
    arn = create_profile("vanishing", {"Owner": "ana@example.com"})
    set_profile_created_at(ACCOUNT, REGION, arn, NOW - timedelta(days=200))

    def delete_target(params: Mapping[str, Any]) -> None:
        (target,) = params["ResourceARNList"]
        boto3.client("bedrock", region_name=REGION).delete_inference_profile(inferenceProfileIdentifier=target)

    # Marks are written through the Tagging API, 20 profiles a call.
    with before_call("resourcegroupstaggingapi", "TagResources", delete_target):
        summary = run(stack, "IdleProfileFunction", NOW)

    assert outcome_of(summary, arn)["status"] == "already-gone"
    assert summary["counts"]["actionsFailed"] == 0


def test_stale_tags_are_reported_as_read_and_resolved_by_the_next_run(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(AllowedTagValues=json.dumps(ALLOWED_TAG_VALUES))
    arn = create_profile("fixed-mid-sweep", {"Project": "Chatbot"})

    def fix_tags(params: Mapping[str, Any]) -> None:
        # The owner fixes the tags right after the sweep listed the profile, before its tags are read.
        boto3.client("bedrock", region_name=REGION).tag_resource(
            resourceARN=arn, tags=[{"key": k, "value": v} for k, v in COMPLETE_TAGS.items()]
        )

    with before_call("resourcegroupstaggingapi", "GetResources", fix_tags):
        first = run(stack, "TagComplianceFunction", NOW)
    # The tags were read after the fix: what the alert says is what AWS said at that moment.
    assert first["nonCompliantProfiles"] == 0
    assert tags_of(arn) == COMPLETE_TAGS

    # The other way round: broken after the read. The next run sees it and says so.
    boto3.client("bedrock", region_name=REGION).untag_resource(resourceARN=arn, tagKeys=["Owner"])
    second = run(stack, "TagComplianceFunction", NOW + timedelta(hours=1))
    assert second["nonCompliantProfiles"] == 1
    assert second["newOrChanged"] == 1


def managed_budget(name: str, project: str, stack_name: str) -> dict[str, Any]:
    return {
        "AccountId": ACCOUNT,
        "Budget": {
            "BudgetName": name,
            "BudgetLimit": {"Amount": "100", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "CostFilters": {"TagKeyValue": [f"user:Project${project}"]},
        },
        "ResourceTags": [
            {"Key": "governance:managed-by", "Value": stack_name},
            {"Key": "governance:project", "Value": project},
        ],
    }


@pytest.mark.parametrize("managed", [True, False])
def test_a_budget_created_concurrently_is_adopted_if_ours_and_left_alone_if_not(
    deploy: Callable[..., DeployedStack], managed: bool
) -> None:
    stack = deploy()
    create_profile("chatbot", COMPLETE_TAGS)
    budgets = boto3.client("budgets", region_name="us-east-1")

    def someone_else_creates_it(params: Mapping[str, Any]) -> None:
        request = managed_budget(params["Budget"]["BudgetName"], "Chatbot", stack.stack_name)
        if not managed:
            request.pop("ResourceTags")
        budgets.create_budget(**request)

    with before_call("budgets", "CreateBudget", someone_else_creates_it):
        summary = run(stack, "BudgetFunction", NOW)

    names = [b["BudgetName"] for b in budgets.describe_budgets(AccountId=ACCOUNT)["Budgets"]]
    assert names == ["bedrock-project-Chatbot"], "one budget, never two"
    notifications = budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=names[0])
    if managed:
        # Ours: brought in step (its notifications were missing) instead of failing the project.
        assert summary["errors"] == []
        assert len(notifications["Notifications"]) == 3
        assert summary["updated"]
    else:
        assert notifications["Notifications"] == []
        assert any("not managed by this stack" in conflict for conflict in summary["conflicts"])
