"""BudgetFunction as deployed: budgets per project, kept in step, and only this stack's touched."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from bedrock_governance.core.errors import ConfigError
from embedded_aws.calls import ApiCalls
from embedded_aws.costexplorer import CostRow, seed_ledger, set_cost_allocation_tags, set_member_account
from embedded_aws.inbox import sent_messages

if TYPE_CHECKING:
    from stack_harness import DeployedStack

ACCOUNT = "123456789012"
REGIONS = "us-east-1,eu-central-1"
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
MARKETPLACE = "Claude 3 Haiku (Amazon Bedrock Edition)"
SAMPLE_EVENT = json.loads((Path(__file__).resolve().parents[2] / "events" / "budgets.json").read_text())


def scheduled(when: datetime) -> dict[str, Any]:
    event: dict[str, Any] = SAMPLE_EVENT | {"scheduledTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return event


def invoke_at(stack: DeployedStack, when: datetime, **extra: Any) -> Any:
    """The scheduled run at ``when``: the event the scheduler sends then, on a clock reading ``when``."""
    return stack.invoke("BudgetFunction", scheduled(when) | extra, now=when)


def budgets_client() -> Any:
    return boto3.client("budgets", region_name="us-east-1")


def add_profile(region: str, name: str, project: str | None) -> str:
    bedrock = boto3.client("bedrock", region_name=region)
    models = bedrock.list_foundation_models(byInferenceType="ON_DEMAND")["modelSummaries"]
    tags = [{"key": "Project", "value": project}, {"key": "Owner", "value": "ops@example.com"}] if project else []
    request: dict[str, Any] = {"inferenceProfileName": name, "modelSource": {"copyFrom": models[0]["modelArn"]}}
    if tags:
        request["tags"] = tags
    return str(bedrock.create_inference_profile(**request)["inferenceProfileArn"])


def seed_estate() -> dict[str, str]:
    """Alpha in two regions, Beta in one, one untagged profile; Bedrock spend under a Marketplace name."""
    arns = {
        "alpha-use1": add_profile("us-east-1", "alpha-use1", "Alpha"),
        "alpha-euc1": add_profile("eu-central-1", "alpha-euc1", "Alpha"),
        "beta-euc1": add_profile("eu-central-1", "beta-euc1", "Beta"),
        "untagged": add_profile("us-east-1", "untagged", None),
    }
    seed_ledger(
        [
            CostRow(date(2026, 11, 20), MARKETPLACE, Decimal("3.25"), tags={"Project": "Alpha"}),
            CostRow(date(2026, 11, 21), "Amazon Bedrock", Decimal("1.10"), tags={"Project": "Beta"}),
            CostRow(
                date(2026, 11, 21), "Amazon Elastic Compute Cloud - Compute", Decimal("9"), tags={"Project": "Beta"}
            ),
        ]
    )
    set_cost_allocation_tags({"Project": "Active", "Owner": "Active", "Environment": "Active", "CostCenter": "Active"})
    return arns


def budgets_by_name() -> dict[str, dict[str, Any]]:
    return {b["BudgetName"]: b for b in budgets_client().describe_budgets(AccountId=ACCOUNT).get("Budgets", [])}


def notifications_of(name: str) -> dict[tuple[str, float], set[tuple[str, str]]]:
    client = budgets_client()
    found: dict[tuple[str, float], set[tuple[str, str]]] = {}
    for notification in client.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=name)["Notifications"]:
        subscribers = client.describe_subscribers_for_notification(
            AccountId=ACCOUNT, BudgetName=name, Notification=notification
        )["Subscribers"]
        assert notification["ComparisonOperator"] == "GREATER_THAN"
        assert notification["ThresholdType"] == "PERCENTAGE"
        key = (notification["NotificationType"], notification["Threshold"])
        found[key] = {(s["SubscriptionType"], s["Address"]) for s in subscribers}
    return found


def tags_of(name: str) -> dict[str, str]:
    arn = f"arn:aws:budgets::{ACCOUNT}:budget/{name}"
    return {t["Key"]: t["Value"] for t in budgets_client().list_tags_for_resource(ResourceARN=arn)["ResourceTags"]}


def set_environment(stack: DeployedStack, **changes: str) -> None:
    """What a redeploy with other parameter values does to the function."""
    name = stack.function_config("BudgetFunction").function_name
    variables = stack.function_environment("BudgetFunction") | changes
    boto3.client("lambda", region_name=stack.region).update_function_configuration(
        FunctionName=name, Environment={"Variables": variables}
    )


def without_volatile(budget: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in budget.items() if k not in {"CalculatedSpend", "LastUpdatedTime"}}


# --------------------------------------------------------------------------- the wiring


def test_the_deployed_function_gets_its_settings_from_the_stack(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(
        GovernedRegions=REGIONS,
        ProjectBudgetsUSD='{"Alpha": 250}',
        DefaultMonthlyBudgetUSD="75",
        BudgetAlertThresholds="ACTUAL:90,FORECASTED:110",
        BudgetCleanup="true",
        ActivateCostAllocationTags="true",
        AlertEmail="ops@example.com",
    )
    env = stack.function_environment("BudgetFunction")
    assert env["ALERT_TOPIC_ARN"] == stack.outputs["AlertTopicArn"]
    assert env["STATE_BUCKET"] == stack.outputs["GovernanceBucketName"]
    assert (env["STACK_NAME"], env["ACCOUNT_ID"]) == ("bedrock-governance", ACCOUNT)
    assert json.loads(env["PROJECT_BUDGETS_USD"]) == {"Alpha": 250}
    assert env["DEFAULT_MONTHLY_BUDGET_USD"] == "75"
    assert env["BUDGET_ALERT_THRESHOLDS"] == "ACTUAL:90,FORECASTED:110"
    assert (env["BUDGET_CLEANUP"], env["ACTIVATE_COST_ALLOCATION_TAGS"]) == ("true", "true")
    assert env["ALERT_EMAIL"] == "ops@example.com"
    assert stack.outputs["ManagedBudgetNamePrefix"] == "bedrock-project-"
    assert stack.scheduled_event("BudgetFunction")["job"] == "budgets"


def test_the_role_allows_only_what_the_function_calls(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy()
    statements = [s for policy in stack.role_policy_documents("BudgetFunction") for s in policy.statements]
    allowed: dict[str, list[Any]] = {}
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        for action in actions:
            allowed.setdefault(action, []).extend(resources)
    assert set(allowed) == {
        "bedrock:ListInferenceProfiles",
        "tag:GetResources",
        "bedrock:ListTagsForResource",  # profiles the Tagging API leaves out are read directly
        "budgets:ViewBudget",
        "budgets:ModifyBudget",
        "budgets:TagResource",
        "budgets:ListTagsForResource",
        "ce:GetDimensionValues",
        "ce:ListCostAllocationTags",
        "ce:UpdateCostAllocationTagsStatus",
        "organizations:DescribeOrganization",  # a member account says where activation must happen
        "sns:Publish",
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        # Powertools and Lambda write logs through the SAM basic execution role.
        *{a for a in allowed if a.startswith("logs:")},
    }
    managed_only = f"arn:aws:budgets::{ACCOUNT}:budget/bedrock-project-*"
    for action in ("budgets:ModifyBudget", "budgets:TagResource", "budgets:ListTagsForResource"):
        assert allowed[action] == [managed_only]
    assert allowed["sns:Publish"] == [stack.outputs["AlertTopicArn"]]


def test_a_malformed_setting_fails_the_invocation_naming_it(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(ProjectBudgetsUSD='{"Alpha": "lots"}')
    with pytest.raises(ConfigError, match="PROJECT_BUDGETS_USD"):
        invoke_at(stack, NOW)


# --------------------------------------------------------------------------- behaviour


def test_the_first_run_creates_the_right_budgets_filters_and_notifications(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy(
        GovernedRegions=REGIONS, ProjectBudgetsUSD='{"Alpha": 250, "Gamma": 40}', AlertEmail="ops@example.com"
    )
    seed_estate()
    topic = stack.outputs["AlertTopicArn"]

    summary = invoke_at(stack, NOW)

    assert summary["projects"] == {"Alpha": 2, "Beta": 1}
    assert summary["created"] == ["bedrock-project-Alpha", "bedrock-project-Beta", "bedrock-project-Gamma"]
    assert summary["errors"] == []
    budgets = budgets_by_name()
    assert set(budgets) == {"bedrock-project-Alpha", "bedrock-project-Beta", "bedrock-project-Gamma"}
    limits = {name: Decimal(b["BudgetLimit"]["Amount"]) for name, b in budgets.items()}
    assert limits == {"bedrock-project-Alpha": 250, "bedrock-project-Beta": 100, "bedrock-project-Gamma": 40}
    alpha = budgets["bedrock-project-Alpha"]
    assert (alpha["TimeUnit"], alpha["BudgetType"], alpha["BudgetLimit"]["Unit"]) == ("MONTHLY", "COST", "USD")
    assert "FilterExpression" not in alpha
    assert {k: sorted(v) for k, v in alpha["CostFilters"].items()} == {
        "Service": ["Amazon Bedrock", MARKETPLACE],
        "TagKeyValue": ["user:Project$Alpha"],
    }
    subscribers = {("SNS", topic), ("EMAIL", "ops@example.com")}
    for name in budgets:
        assert notifications_of(name) == {
            ("ACTUAL", 80.0): subscribers,
            ("ACTUAL", 100.0): subscribers,
            ("FORECASTED", 100.0): subscribers,
        }
    assert tags_of("bedrock-project-Beta") == {
        "governance:managed-by": "bedrock-governance",
        "governance:project": "Beta",
    }

    (message,) = sent_messages(topic)
    assert message.subject == "Bedrock budgets: 3 created"
    assert message.document is not None
    assert [c["name"] for c in message.document["created"]] == sorted(budgets)
    assert "project named in ProjectBudgetsUSD" in message.text


def test_a_run_with_nothing_changed_makes_no_write_calls(
    deploy: Callable[..., DeployedStack], api_calls: ApiCalls
) -> None:
    stack = deploy(GovernedRegions=REGIONS, AlertEmail="ops@example.com")
    seed_estate()
    invoke_at(stack, NOW)
    api_calls.reset()

    summary = invoke_at(stack, NOW + timedelta(days=1))

    assert api_calls.writes() == {}
    # It did look: every managed budget's tags and every notification's subscribers were read.
    assert api_calls.count("budgets", "ListTagsForResource") == 2
    assert api_calls.count("budgets", "DescribeSubscribersForNotification") == 6
    assert summary["budgetsInStep"] == 2
    assert summary["alert"] == "nothing changed and nothing new needs attention"
    assert len(sent_messages(stack.outputs["AlertTopicArn"])) == 1


def test_changing_a_limit_and_a_threshold_updates_only_what_changed(
    deploy: Callable[..., DeployedStack], api_calls: ApiCalls
) -> None:
    stack = deploy(GovernedRegions=REGIONS, ProjectBudgetsUSD='{"Alpha": 250}')
    seed_estate()
    invoke_at(stack, NOW)
    beta_before = budgets_by_name()["bedrock-project-Beta"]

    set_environment(stack, PROJECT_BUDGETS_USD='{"Alpha": 400}')
    api_calls.reset()
    summary = invoke_at(stack, NOW + timedelta(days=1))

    assert api_calls.writes("budgets") == {"budgets:UpdateBudget": 1}
    assert summary["updated"] == {"bedrock-project-Alpha": ["limit $250.00 -> $400.00 (from ProjectBudgetsUSD)"]}
    budgets = budgets_by_name()
    assert Decimal(budgets["bedrock-project-Alpha"]["BudgetLimit"]["Amount"]) == 400
    # The filter survived the update, and the other budget was left as it was.
    assert budgets["bedrock-project-Alpha"]["CostFilters"]["TagKeyValue"] == ["user:Project$Alpha"]
    assert without_volatile(budgets["bedrock-project-Beta"]) == without_volatile(beta_before)
    latest = sent_messages(stack.outputs["AlertTopicArn"])[-1]
    assert latest.subject == "Bedrock budgets: 1 updated"
    assert "limit $250.00 -> $400.00" in latest.text

    set_environment(stack, BUDGET_ALERT_THRESHOLDS="ACTUAL:90,ACTUAL:100,FORECASTED:100")
    api_calls.reset()
    invoke_at(stack, NOW + timedelta(days=2))
    assert api_calls.writes("budgets") == {"budgets:UpdateNotification": 2}
    assert ("ACTUAL", 90.0) in notifications_of("bedrock-project-Beta")
    assert ("ACTUAL", 80.0) not in notifications_of("bedrock-project-Beta")


def test_an_unmanaged_budget_is_never_touched(deploy: Callable[..., DeployedStack], api_calls: ApiCalls) -> None:
    stack = deploy(GovernedRegions=REGIONS, BudgetCleanup="true")
    seed_estate()
    client = budgets_client()
    # A person's budget that happens to carry the managed name of a live project, one for a project
    # that has no profiles, and one that has nothing to do with this stack.
    for name, limit in (("bedrock-project-Alpha", "7"), ("bedrock-project-Vanished", "8"), ("team-ml", "900")):
        client.create_budget(
            AccountId=ACCOUNT,
            Budget={
                "BudgetName": name,
                "BudgetLimit": {"Amount": limit, "Unit": "USD"},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
            },
            NotificationsWithSubscribers=[
                {
                    "Notification": {
                        "NotificationType": "ACTUAL",
                        "ComparisonOperator": "GREATER_THAN",
                        "Threshold": 50,
                    },
                    "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "someone@example.com"}],
                }
            ],
        )
    before = {name: without_volatile(b) for name, b in budgets_by_name().items()}
    notifications_before = {name: notifications_of(name) for name in before}

    api_calls.reset()
    summary = invoke_at(stack, NOW)

    after = budgets_by_name()
    for name, budget in before.items():
        assert without_volatile(after[name]) == budget
        assert notifications_of(name) == notifications_before[name]
        assert tags_of(name) == {}
    assert summary["created"] == ["bedrock-project-Beta"]
    assert summary["deleted"] == []
    assert api_calls.writes("budgets") == {"budgets:CreateBudget": 1}
    (conflict,) = summary["conflicts"]
    assert conflict.startswith("Alpha: a budget named bedrock-project-Alpha exists but is not tagged")
    message = sent_messages(stack.outputs["AlertTopicArn"])[-1]
    assert "Project 'Alpha' has no managed budget" in message.text


def test_a_vanished_project_is_reported_once_while_cleanup_is_off_and_deleted_when_on(
    deploy: Callable[..., DeployedStack], api_calls: ApiCalls
) -> None:
    stack = deploy(GovernedRegions=REGIONS)
    arns = seed_estate()
    topic = stack.outputs["AlertTopicArn"]
    invoke_at(stack, NOW)
    boto3.client("bedrock", region_name="eu-central-1").delete_inference_profile(
        inferenceProfileIdentifier=arns["beta-euc1"]
    )

    api_calls.reset()
    kept = invoke_at(stack, NOW + timedelta(days=1))
    assert api_calls.writes("budgets") == {}
    assert kept["orphansKept"] == ["bedrock-project-Beta"]
    assert "bedrock-project-Beta" in budgets_by_name()
    report = sent_messages(topic)[-1]
    assert report.subject == "Bedrock budgets: 1 need attention"
    assert "kept because BudgetCleanup is off" in report.text
    assert "aws budgets delete-budget" in report.text

    # Said once: the next run with the same orphan is silent and writes nothing at all.
    api_calls.reset()
    invoke_at(stack, NOW + timedelta(days=2))
    assert api_calls.writes() == {}
    assert len(sent_messages(topic)) == 2

    set_environment(stack, BUDGET_CLEANUP="true")
    deleted = invoke_at(stack, NOW + timedelta(days=3))
    assert deleted["deleted"] == ["bedrock-project-Beta"]
    assert set(budgets_by_name()) == {"bedrock-project-Alpha"}
    assert sent_messages(topic)[-1].subject == "Bedrock budgets: 1 deleted"


def test_a_dry_run_reports_the_plan_and_writes_nothing(
    deploy: Callable[..., DeployedStack], api_calls: ApiCalls
) -> None:
    stack = deploy(GovernedRegions=REGIONS)
    seed_estate()
    api_calls.reset()
    summary = invoke_at(stack, NOW, dryRun=True)
    assert summary["dryRun"] is True
    assert summary["created"] == ["bedrock-project-Alpha", "bedrock-project-Beta"]
    assert api_calls.writes() == {}
    assert budgets_by_name() == {}


def test_inactive_cost_allocation_tags_are_activated_when_allowed(
    deploy: Callable[..., DeployedStack], api_calls: ApiCalls
) -> None:
    stack = deploy(GovernedRegions=REGIONS, ActivateCostAllocationTags="true")
    seed_estate()
    set_cost_allocation_tags({"Project": "Inactive", "Owner": "Inactive"})
    summary = invoke_at(stack, NOW)
    assert summary["activatedTags"] == ["Project", "Owner"]
    assert api_calls.count("ce", "UpdateCostAllocationTagsStatus") == 1
    statuses = boto3.client("ce", region_name="us-east-1").list_cost_allocation_tags(TagKeys=["Project", "Owner"])
    assert {t["TagKey"]: t["Status"] for t in statuses["CostAllocationTags"]} == {
        "Project": "Active",
        "Owner": "Active",
    }

    api_calls.reset()
    invoke_at(stack, NOW + timedelta(days=1))
    assert api_calls.writes() == {}


def test_a_member_account_is_told_once_what_to_ask_for_and_nothing_is_attempted(
    deploy: Callable[..., DeployedStack], api_calls: ApiCalls
) -> None:
    stack = deploy(GovernedRegions=REGIONS, ActivateCostAllocationTags="true")
    seed_estate()
    set_member_account(True)
    topic = stack.outputs["AlertTopicArn"]

    first = invoke_at(stack, NOW)
    assert "cost-tags:no-access" in first["attention"]
    assert api_calls.count("ce", "UpdateCostAllocationTagsStatus") == 0
    text = sent_messages(topic)[-1].text
    assert "Member accounts of an AWS Organization cannot see or activate cost allocation tags" in text
    assert "aws ce update-cost-allocation-tags-status" in text

    api_calls.reset()
    invoke_at(stack, NOW + timedelta(days=1))
    assert api_calls.writes() == {}
    assert len(sent_messages(topic)) == 1
