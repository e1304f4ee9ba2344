"""The template's operations and least-privilege guarantees, checked on the deployed stack.

Encryption (a customer managed key by default, or one the operator brings), alarms and on-failure
destinations for every function, one run at a time, the dashboard, parameter constraints that
CloudFormation enforces before anything is created, and roles that allow exactly what is called.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.kms.models import kms_backends

from bedrock_governance.core.models import IDLE_SINCE_TAG
from embedded_aws.calls import ApiCalls
from embedded_aws.costexplorer import set_cost_allocation_tags
from embedded_aws.seed import ALLOWED_TAG_VALUES, EstateSpec, Usage, seed_estate
from stack_harness import StackError, deploy_stack
from tests.integration.support import (
    ACCOUNT,
    FUNCTIONS,
    REGION,
    REGIONS,
    TEMPLATE,
    load_template,
    run,
)

if TYPE_CHECKING:
    from stack_harness import DeployedStack

pytestmark = pytest.mark.deployment

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
EXISTING_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# Actions whose service offers no resource-level permissions: the only ones allowed on "*".
NO_RESOURCE_LEVEL = {
    "bedrock:ListInferenceProfiles",
    "tag:GetResources",
    "tag:TagResources",
    "tag:UntagResources",
    "cloudwatch:GetMetricData",
    "ce:GetDimensionValues",
    "ce:GetCostAndUsage",
    "ce:ListCostAllocationTags",
    "ce:UpdateCostAllocationTagsStatus",
    "organizations:DescribeOrganization",
}
# IAM actions behind API operations whose names differ (AWS Budgets authorizes by ViewBudget/ModifyBudget).
IAM_ACTION = {
    "budgets:DescribeBudgets": "budgets:ViewBudget",
    "budgets:DescribeBudget": "budgets:ViewBudget",
    "budgets:DescribeNotificationsForBudget": "budgets:ViewBudget",
    "budgets:DescribeBudgetNotificationsForAccount": "budgets:ViewBudget",
    "budgets:DescribeSubscribersForNotification": "budgets:ViewBudget",
    "budgets:CreateBudget": "budgets:ModifyBudget",
    "budgets:UpdateBudget": "budgets:ModifyBudget",
    "budgets:DeleteBudget": "budgets:ModifyBudget",
    "budgets:CreateNotification": "budgets:ModifyBudget",
    "budgets:UpdateNotification": "budgets:ModifyBudget",
    "budgets:DeleteNotification": "budgets:ModifyBudget",
    "budgets:CreateSubscriber": "budgets:ModifyBudget",
    "budgets:UpdateSubscriber": "budgets:ModifyBudget",
    "budgets:DeleteSubscriber": "budgets:ModifyBudget",
    "s3:HeadObject": "s3:GetObject",
}
IAM_PREFIX = {"resourcegroupstaggingapi": "tag"}
# A Tagging API write is authorized twice: tag:TagResources, and the service's own action per ARN.
IMPLIED_ACTIONS = {
    "tag:TagResources": {"bedrock:TagResource"},
    "tag:UntagResources": {"bedrock:UntagResource"},
}


def statements(stack: DeployedStack, function: str, *, inline_only: bool = True) -> list[dict[str, Any]]:
    return [
        s
        for policy in stack.role_policy_documents(function)
        if policy.kind == "inline" or not inline_only
        for s in policy.statements
        if s.get("Effect") == "Allow"
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed_actions(stack: DeployedStack, function: str) -> set[str]:
    return {action for s in statements(stack, function) for action in as_list(s["Action"])}


# --------------------------------------------------------------------------- encryption


def test_topics_bucket_and_logs_are_encrypted_with_a_retained_customer_managed_key(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy()
    key_arn = stack.outputs["EncryptionKeyArn"]
    # moto's KMS API cannot read a key policy that its CloudFormation stored as a document (it
    # expects the JSON string AWS keeps), so the key is read from the embedded KMS directly.
    key = kms_backends[ACCOUNT][REGION].keys[key_arn.rsplit("/", 1)[1]]
    assert key.key_manager == "CUSTOMER"
    assert key.key_rotation_status is True
    sns = boto3.client("sns", region_name=REGION)
    for topic in ("AlertTopicArn", "ReportTopicArn"):
        assert sns.get_topic_attributes(TopicArn=stack.outputs[topic])["Attributes"]["KmsMasterKeyId"] == key_arn
    rule = boto3.client("s3", region_name=REGION).get_bucket_encryption(Bucket=stack.outputs["GovernanceBucketName"])[
        "ServerSideEncryptionConfiguration"
    ]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
    # moto's CloudFormation drops BucketKeyEnabled; the template must still ask for it.
    declared = stack.expanded_template["Resources"]["GovernanceBucket"]["Properties"]["BucketEncryption"]
    assert declared["ServerSideEncryptionConfiguration"][0]["BucketKeyEnabled"] is True

    resources = stack.expanded_template["Resources"]
    # moto's CloudFormation applies neither the public access block nor (the harness records it) the
    # bucket policy, so both are checked as the template declares them.
    block = resources["GovernanceBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    (tls,) = resources["GovernanceBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (tls["Effect"], tls["Action"], tls["Condition"]) == (
        "Deny",
        "s3:*",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    # Deletion records stay readable after the stack is gone: the key is kept with the bucket.
    assert resources["GovernanceKey"]["DeletionPolicy"] == "Retain"
    for function in FUNCTIONS:
        log_group = resources[function.replace("Function", "LogGroup")]["Properties"]
        assert log_group["KmsKeyId"] == {
            "Fn::If": ["CreateEncryptionKey", {"Fn::GetAtt": ["GovernanceKey", "Arn"]}, {"Ref": "EncryptionKeyArn"}]
        }

    policy = key.policy if isinstance(key.policy, dict) else json.loads(key.policy)
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    # AWS Budgets and CloudWatch alarms can only publish to the encrypted topic if the key lets them.
    services = by_sid["BudgetsAndAlarmsPublishToTheEncryptedAlertTopic"]
    assert set(services["Principal"]["Service"]) == {"budgets.amazonaws.com", "cloudwatch.amazonaws.com"}
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(services["Action"])
    assert services["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    through = by_sid["AccountUsesTheKeyOnlyThroughTopicsAndTheBucket"]["Condition"]["StringEquals"]
    assert through["kms:CallerAccount"] == ACCOUNT
    assert set(through["kms:ViaService"]) == {f"sns.{REGION}.amazonaws.com", f"s3.{REGION}.amazonaws.com"}
    logs = by_sid["LogsEncryptThisAccountsLogGroups"]
    assert logs["Principal"]["Service"] == f"logs.{REGION}.amazonaws.com"
    # Without a KMS statement of their own, the roles use the key only through SNS and S3.
    for function in FUNCTIONS:
        assert not [a for a in allowed_actions(stack, function) if a.startswith("kms:")]


def test_an_existing_key_replaces_the_stack_key_and_the_roles_may_use_only_it(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy(EncryptionKeyArn=EXISTING_KEY)
    assert "GovernanceKey" not in stack.resources
    assert stack.outputs["EncryptionKeyArn"] == EXISTING_KEY
    sns = boto3.client("sns", region_name=REGION)
    assert (
        sns.get_topic_attributes(TopicArn=stack.outputs["AlertTopicArn"])["Attributes"]["KmsMasterKeyId"]
        == EXISTING_KEY
    )
    for function in FUNCTIONS:
        (kms,) = [s for s in statements(stack, function) if any(a.startswith("kms:") for a in as_list(s["Action"]))]
        assert set(as_list(kms["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey"}
        assert kms["Resource"] == EXISTING_KEY
        assert set(kms["Condition"]["StringEquals"]["kms:ViaService"]) == {
            f"sns.{REGION}.amazonaws.com",
            f"s3.{REGION}.amazonaws.com",
        }


# --------------------------------------------------------------------------- operations


def test_every_function_runs_alone_alarms_on_errors_and_sends_failed_runs_to_the_alert_topic(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy()
    topic = stack.outputs["AlertTopicArn"]
    lambda_client = boto3.client("lambda", region_name=REGION)
    alarms = {
        a["Dimensions"][0]["Value"]: a
        for a in boto3.client("cloudwatch", region_name=REGION).describe_alarms()["MetricAlarms"]
        if a["Namespace"] == "AWS/Lambda"
    }
    for function in FUNCTIONS:
        name = stack.function_config(function).function_name
        # Reserved concurrency 1: a second run (schedule, retry or on-demand) waits instead of overlapping.
        assert lambda_client.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 1
        alarm = alarms[name]
        assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == ("Errors", "Sum", 1.0)
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["AlarmActions"] == [topic]
        assert alarm["TreatMissingData"] == "notBreaching"
        invoke = lambda_client.get_function_event_invoke_config(FunctionName=name)
        assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == topic
        expected_retries = 0 if function == "IdleProfileFunction" else 2
        assert invoke["MaximumRetryAttempts"] == expected_retries
        # The destination publishes with the function's role: it may publish to the alert topic.
        publish = [s for s in statements(stack, function) if "sns:Publish" in as_list(s["Action"])]
        assert any(topic in as_list(s["Resource"]) for s in publish)

    topic_policy = json.loads(
        boto3.client("sns", region_name=REGION).get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]
    )
    principals = {
        json.dumps(s["Principal"], sort_keys=True) for s in topic_policy["Statement"] if s["Effect"] == "Allow"
    }
    assert principals == {'{"Service": "budgets.amazonaws.com"}', '{"Service": "cloudwatch.amazonaws.com"}'}


def test_the_dashboard_finds_new_profiles_by_search_and_shows_the_functions(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy()
    name = f"{stack.stack_name}-{REGION}"
    body = json.loads(boto3.client("cloudwatch", region_name=REGION).get_dashboard(DashboardName=name)["DashboardBody"])
    expressions = [
        metric[0]["expression"]
        for widget in body["widgets"]
        for metric in widget.get("properties", {}).get("metrics", [])
        if isinstance(metric[0], dict)
    ]
    bedrock = [e for e in expressions if e.startswith("SEARCH('{AWS/Bedrock,ModelId}")]
    for metric in ("Invocations", "InputTokenCount", "OutputTokenCount", "InvocationThrottles"):
        assert any(f'MetricName="{metric}"' in e for e in bedrock), metric
    own = [e for e in expressions if 'Namespace="BedrockGovernance"' in e]
    for metric in ("NonCompliantProfiles", "IdleProfilesDeleted", "BudgetErrors", "BedrockWeeklySpendUSD"):
        assert any(f'MetricName="{metric}"' in e for e in own), metric
    text = json.dumps(body)
    for function in FUNCTIONS:
        assert stack.function_config(function).function_name in text
    assert stack.outputs["DashboardUrl"].endswith(f"#dashboards:name={name}")


# --------------------------------------------------------------------------- parameters

BAD_VALUES = [
    ("AllowedTagValues", '["Environment"]'),
    ("AlertEmail", "not-an-address"),
    ("ReportEmail", "ops@localhost"),
    ("ScheduleTimezone", "Europe/Berlin; rm -rf"),
    ("TagComplianceSchedule", "every day"),
    ("LogLevel", "TRACE"),
    ("LogRetentionDays", "5"),
    ("EncryptionKeyArn", "alias/aws/sns"),
    ("IdleDays", "0"),
    ("IdleDays", "181"),
    ("IdleGraceDays", "0"),
    ("CleanupDryRun", "maybe"),
    ("MaxDeletionsPerRun", "-1"),
    ("MaxDeletionsPerRun", "1001"),
    ("MaxNewlyIdlePercent", "0"),
    ("MaxNewlyIdlePercent", "101"),
    ("IdleProfileSchedule", "daily"),
    ("CostReportSchedule", "weekly"),
    ("CostReportTagKey", "Project,Team"),
    ("ReportBucket", "Not_A_Bucket"),
    ("ProjectBudgetsUSD", "250"),
    ("DefaultMonthlyBudgetUSD", "0"),
    ("DefaultMonthlyBudgetUSD", "lots"),
    ("BudgetAlertThresholds", "ACTUAL:80,SOMETIMES:100"),
    ("BudgetCleanup", "yes"),
    ("ActivateCostAllocationTags", "1"),
    ("BudgetSchedule", "at dawn"),
    ("GovernanceScope", "ORG"),
    ("MemberRoleName", "role/with/slashes"),
    ("MaxConcurrentAccounts", "0"),
    ("MaxConcurrentAccounts", "1001"),
    ("StackSetCallAs", "ADMIN"),
]


@pytest.mark.parametrize(("parameter", "value"), BAD_VALUES, ids=[f"{p}={v}" for p, v in BAD_VALUES])
def test_cloudformation_rejects_a_malformed_parameter_before_creating_anything(
    aws: None, parameter: str, value: str
) -> None:
    with pytest.raises(StackError, match=f"Parameter {parameter}"):
        deploy_stack(TEMPLATE, stack_name="rejected", parameters={parameter: value}, region=REGION)
    assert boto3.client("cloudformation", region_name=REGION).list_stacks()["StackSummaries"] == []


def test_every_constrained_parameter_has_a_rejection_test() -> None:
    declared = load_template()["Parameters"]
    constrained = {
        name
        for name, spec in declared.items()
        if {"AllowedPattern", "AllowedValues", "MinValue", "MaxValue"} & set(spec)
    }
    assert constrained == {parameter for parameter, _ in BAD_VALUES}


def test_every_skipped_security_check_says_why() -> None:
    resources = load_template()["Resources"]
    skips = [
        (name, skip)
        for name, resource in resources.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for name, skip in skips:
        assert len(skip.get("comment", "")) > 40, f"{name} skips {skip['id']} without a reason"


# --------------------------------------------------------------------------- least privilege


def test_no_role_allows_a_wildcard_action_or_an_unscoped_resource(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(GovernedRegions=",".join(REGIONS), ReportBucket="acme-reports")
    for function in FUNCTIONS:
        for statement in statements(stack, function, inline_only=False):
            actions = as_list(statement["Action"])
            assert not [a for a in actions if "*" in a], f"{function}: wildcard action in {statement}"
            if "*" in as_list(statement["Resource"]):
                if statement.get("Sid") is None:
                    continue  # AWSLambdaBasicExecutionRole (logs) is AWS's managed policy
                assert set(actions) <= NO_RESOURCE_LEVEL, f"{function}: {actions} on '*'"
                if any(a.split(":")[0] in {"bedrock", "tag", "cloudwatch"} for a in actions):
                    regions = statement["Condition"]["StringEquals"]["aws:RequestedRegion"]
                    assert set(REGIONS) <= set(regions), f"{function}: {actions} not scoped to the governed regions"
            for resource in as_list(statement["Resource"]):
                if resource.startswith("arn:aws:sns:"):
                    assert resource in {stack.outputs["AlertTopicArn"], stack.outputs["ReportTopicArn"]}
                if resource.startswith("arn:aws:s3:::"):
                    bucket = resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
                    assert bucket in {stack.outputs["GovernanceBucketName"], "acme-reports"}
                if resource.startswith("arn:aws:bedrock:"):
                    assert f":{ACCOUNT}:application-inference-profile/" in resource


def set_environment(stack: DeployedStack, function: str, **changes: str) -> None:
    name = stack.function_config(function).function_name
    variables = stack.function_environment(function) | changes
    boto3.client("lambda", region_name=REGION).update_function_configuration(
        FunctionName=name, Environment={"Variables": variables}
    )


def called_actions(api_calls: ApiCalls) -> set[str]:
    actions = set()
    for name in api_calls.by_operation():
        service, operation = name.split(":", 1)
        qualified = f"{IAM_PREFIX.get(service, service)}:{operation}"
        action = IAM_ACTION.get(qualified, qualified)
        actions |= {action, *IMPLIED_ACTIONS.get(action, set())}
    return actions


def test_each_role_allows_every_call_its_function_makes(
    deploy: Callable[..., DeployedStack], api_calls: ApiCalls
) -> None:
    stack = deploy(
        GovernedRegions=",".join(REGIONS),
        AllowedTagValues=json.dumps(ALLOWED_TAG_VALUES),
        CleanupDryRun="false",
        BudgetCleanup="true",
        ActivateCostAllocationTags="true",
        ReportBucket="acme-reports",
    )
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="acme-reports")
    estate = seed_estate(EstateSpec(profiles=24, regions=REGIONS, now=NOW, usage=True, costs=True))
    set_cost_allocation_tags({"Project": "Active", "Owner": "Inactive"})
    for profile in estate.where(usage=Usage.IDLE)[:2]:
        boto3.client("bedrock", region_name=profile.region).tag_resource(
            resourceARN=profile.arn, tags=[{"key": IDLE_SINCE_TAG, "value": "2026-10-01"}]
        )
    # A busy profile carrying a stale mark: the sweep removes it (UntagResource).
    busy = estate.where(usage=Usage.BUSY)[0]
    boto3.client("bedrock", region_name=busy.region).tag_resource(
        resourceARN=busy.arn, tags=[{"key": IDLE_SINCE_TAG, "value": "2026-11-01"}]
    )

    scenarios: dict[str, list[Callable[[], object]]] = {
        "TagComplianceFunction": [lambda: run(stack, "TagComplianceFunction", NOW)],
        "IdleProfileFunction": [lambda: run(stack, "IdleProfileFunction", NOW)],
        "CostReportFunction": [lambda: run(stack, "CostReportFunction", NOW)],
        "BudgetFunction": [
            lambda: run(stack, "BudgetFunction", NOW),
            lambda: set_environment(stack, "BudgetFunction", BUDGET_ALERT_THRESHOLDS="ACTUAL:90,FORECASTED:100"),
            lambda: run(stack, "BudgetFunction", NOW + timedelta(days=1)),
        ],
    }
    covered: set[str] = set()
    for function, steps in scenarios.items():
        api_calls.reset()
        for step in steps:
            step()
        # Lambda and Scheduler calls are the harness's and this test's own (reading events, changing settings).
        called = {a for a in called_actions(api_calls) if not a.startswith(("lambda:", "scheduler:"))}
        allowed = allowed_actions(stack, function)
        assert called <= allowed, f"{function} calls {sorted(called - allowed)} without permission"
        covered |= called
    # The scenarios reached the writes, so the comparison above means something.
    assert {"bedrock:DeleteInferenceProfile", "bedrock:TagResource", "bedrock:UntagResource"} <= covered
    assert {"budgets:ModifyBudget", "ce:UpdateCostAllocationTagsStatus", "s3:PutObject", "s3:GetObject"} <= covered


def test_the_template_declares_each_function_role_inline() -> None:
    # A managed policy shared by several functions would widen every role it is attached to.
    template = load_template()
    for function in FUNCTIONS:
        policies = template["Resources"][function]["Properties"]["Policies"]
        assert all(isinstance(policy, dict) and "Statement" in policy for policy in policies)
