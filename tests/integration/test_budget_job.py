"""The budget job against the embedded AWS: per-budget errors, races, failed lookups and publishes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from bedrock_governance.aws.budgets import BudgetDefinition, Budgets
from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.budgets.config import BudgetConfig
from bedrock_governance.budgets.job import STATE_KEY, BudgetJob, BudgetRunResult
from bedrock_governance.core.errors import AlertNotPublished, Throttled
from bedrock_governance.core.models import NotificationSpec, Subscriber
from embedded_aws import embedded_aws
from embedded_aws.budgets import set_max_budgets
from embedded_aws.calls import count_api_calls
from embedded_aws.costexplorer import CostRow, seed_ledger, set_cost_allocation_tags
from embedded_aws.faults import Fault, inject_faults
from embedded_aws.inbox import sent_messages
from embedded_aws.organization import member_session

ACCOUNT = "123456789012"
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
REGIONS = ("us-east-1", "eu-central-1")
BUCKET = "governance-state"
MARKETPLACE = "Claude 3 Haiku (Amazon Bedrock Edition)"


@pytest.fixture
def topic() -> Iterator[str]:
    with embedded_aws():
        arn = boto3.client("sns", region_name="us-east-1").create_topic(Name="alerts")["TopicArn"]
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        set_cost_allocation_tags(
            {"Project": "Active", "Environment": "Active", "CostCenter": "Active", "Owner": "Active"}
        )
        yield str(arn)


def add_profile(region: str, name: str, project: str) -> str:
    bedrock = boto3.client("bedrock", region_name=region)
    model = bedrock.list_foundation_models(byInferenceType="ON_DEMAND")["modelSummaries"][0]["modelArn"]
    return str(
        bedrock.create_inference_profile(
            inferenceProfileName=name, modelSource={"copyFrom": model}, tags=[{"key": "Project", "value": project}]
        )["inferenceProfileArn"]
    )


def config(topic: str, **env: str) -> BudgetConfig:
    return BudgetConfig.from_env(
        {
            "ALERT_TOPIC_ARN": topic,
            "STATE_BUCKET": BUCKET,
            "GOVERNED_REGIONS": ",".join(REGIONS),
            "AWS_REGION": "us-east-1",
        }
        | env
    )


def run(topic: str, now: datetime = NOW, **env: str) -> BudgetRunResult:
    return BudgetJob.from_config(config(topic, **env), ClientFactory()).run(now)


def budget_names() -> set[str]:
    return {
        b["BudgetName"]
        for b in boto3.client("budgets", region_name="us-east-1").describe_budgets(AccountId=ACCOUNT)["Budgets"]
    }


def limit_of(name: str) -> Decimal:
    budget = boto3.client("budgets", region_name="us-east-1").describe_budget(AccountId=ACCOUNT, BudgetName=name)
    return Decimal(budget["Budget"]["BudgetLimit"]["Amount"])


class ThrottledBudgets(Budgets):
    """AWS throttling one budget's create past the client's retries. (A fault injected at
    before-send would not do: the embedded AWS still executes the call it answers for.)"""

    def __init__(self, base: Budgets, throttled: str) -> None:
        super().__init__(boto3.client("budgets", region_name="us-east-1"), base.account_id, base.partition)
        self.throttled = throttled

    def create_budget(
        self,
        definition: BudgetDefinition,
        notifications: Sequence[tuple[NotificationSpec, Sequence[Subscriber]]],
        tags: Mapping[str, str],
    ) -> None:
        if definition.name == self.throttled:
            raise Throttled("budgets", "CreateBudget", "ThrottlingException", "Rate exceeded")
        super().create_budget(definition, notifications, tags)


def test_a_budget_that_cannot_be_created_is_reported_and_the_rest_go_on(topic: str) -> None:
    for name, project in (("a", "Alpha"), ("b", "Beta"), ("c", "Gamma")):
        add_profile("us-east-1", name, project)
    set_max_budgets(1)
    job = BudgetJob.from_config(config(topic), ClientFactory())
    assert isinstance(job._budgets, Budgets)
    job._budgets = ThrottledBudgets(job._budgets, "bedrock-project-Alpha")
    result = job.run(NOW)

    assert budget_names() == {"bedrock-project-Beta"}
    assert [error.code for error in result.facts.errors] == ["ThrottlingException", "CreationLimitExceededException"]
    assert [error.budget for error in result.facts.errors] == ["bedrock-project-Alpha", "bedrock-project-Gamma"]
    (message,) = sent_messages(topic)
    assert "bedrock-project-Gamma: CreateBudget failed with CreationLimitExceededException" in message.text

    # The next run tries again; the limit still holds for Gamma, and that is not news any more.
    set_max_budgets(2)
    again = run(topic, NOW + timedelta(days=1))
    assert again.summary()["created"] == ["bedrock-project-Alpha"]
    assert [error.budget for error in again.facts.errors] == ["bedrock-project-Gamma"]
    assert len(sent_messages(topic)) == 2
    assert "[new]" not in sent_messages(topic)[-1].text.split("NEEDS ATTENTION")[1]


class RacingBudgets(Budgets):
    """Someone creates the budget between this run's read and its create."""

    def __init__(self, base: Budgets, tags: Mapping[str, str]) -> None:
        super().__init__(boto3.client("budgets", region_name="us-east-1"), base.account_id, base.partition)
        self.rival_tags = dict(tags)

    def create_budget(
        self,
        definition: BudgetDefinition,
        notifications: Sequence[tuple[NotificationSpec, Sequence[Subscriber]]],
        tags: Mapping[str, str],
    ) -> None:
        rival = BudgetDefinition(definition.name, Decimal(1), {"TagKeyValue": ("user:Project$Alpha",)})
        super().create_budget(rival, [], self.rival_tags)
        super().create_budget(definition, notifications, tags)


@pytest.mark.parametrize("ours", [True, False])
def test_a_budget_created_during_the_run_is_adopted_only_if_it_is_ours(topic: str, ours: bool) -> None:
    add_profile("us-east-1", "a", "Alpha")
    settings = config(topic)
    job = BudgetJob.from_config(settings, ClientFactory())
    rival_tags = {"governance:managed-by": "bedrock-governance", "governance:project": "Alpha"} if ours else {}
    assert isinstance(job._budgets, Budgets)
    job._budgets = RacingBudgets(job._budgets, rival_tags)

    result = job.run(NOW)

    assert result.facts.errors == ()
    if ours:
        (change,) = result.facts.applied
        assert change.action == "updated"
        assert change.reasons[0].startswith("created by someone else while this run was reading")
        assert limit_of("bedrock-project-Alpha") == 100
        assert (
            len(
                boto3.client("budgets", region_name="us-east-1").describe_notifications_for_budget(
                    AccountId=ACCOUNT, BudgetName="bedrock-project-Alpha"
                )["Notifications"]
            )
            == 3
        )
    else:
        assert result.facts.applied == ()
        assert [c.project for c in result.facts.conflicts] == ["Alpha"]
        assert limit_of("bedrock-project-Alpha") == 1


def test_a_failed_region_keeps_its_projects_budgets_even_with_cleanup_on(topic: str) -> None:
    add_profile("us-east-1", "a", "Alpha")
    add_profile("eu-central-1", "b", "Beta")
    run(topic)
    with inject_faults(Fault("bedrock", "ListInferenceProfiles", "AccessDeniedException", region="eu-central-1")):
        result = run(topic, NOW + timedelta(days=1), BUDGET_CLEANUP="true")
    assert budget_names() == {"bedrock-project-Alpha", "bedrock-project-Beta"}
    assert [f.region for f in result.failures] == ["eu-central-1"]
    assert "region:eu-central-1:AccessDeniedException" in result.summary()["attention"]
    assert result.summary()["orphansKept"] == ["bedrock-project-Beta"]


def test_a_failed_service_lookup_still_scopes_to_bedrock_and_the_filter_grows_later(topic: str) -> None:
    add_profile("us-east-1", "a", "Alpha")
    seed_ledger([CostRow(date(2026, 11, 20), MARKETPLACE, Decimal(2), tags={"Project": "Alpha"})])
    with inject_faults(Fault("ce", "GetDimensionValues", "DataUnavailableException")):
        first = run(topic)
    assert first.facts.service_names == ("Amazon Bedrock",)
    assert first.facts.errors[0].operation == "GetDimensionValues"

    second = run(topic, NOW + timedelta(days=1))
    assert second.summary()["updated"] == {"bedrock-project-Alpha": [f"filter Service adds '{MARKETPLACE}'"]}
    # A later failure does not shrink the filter back.
    with count_api_calls() as calls, inject_faults(Fault("ce", "GetDimensionValues", "DataUnavailableException")):
        third = run(topic, NOW + timedelta(days=2))
    assert calls.writes("budgets") == {}
    assert third.facts.service_names == ("Amazon Bedrock", MARKETPLACE)


def test_changes_a_failed_publish_could_not_announce_are_sent_by_the_next_run(topic: str) -> None:
    add_profile("us-east-1", "a", "Alpha")
    sns = boto3.client("sns", region_name="us-east-1")
    sns.delete_topic(TopicArn=topic)  # publishing fails: NotFound
    failed = run(topic)
    # The run's changes are done and its result returned; the handler raises after the metrics.
    assert failed.alert_error is not None
    assert "NotFound" in failed.alert_error
    with pytest.raises(AlertNotPublished, match="NotFound"):
        failed.raise_if_alert_failed()
    assert budget_names() == {"bedrock-project-Alpha"}
    state = boto3.client("s3", region_name="us-east-1").get_object(Bucket=BUCKET, Key=STATE_KEY)
    assert b"bedrock-project-Alpha" in state["Body"].read()

    assert sns.create_topic(Name="alerts")["TopicArn"] == topic
    with count_api_calls() as calls:
        retry = run(topic)
    assert calls.writes("budgets") == {}
    (message,) = sent_messages(topic)
    assert "CREATED (1)\n  bedrock-project-Alpha" in message.text
    assert retry.summary()["created"] == ["bedrock-project-Alpha"]
    # Announced now: the run after that has nothing to say.
    run(topic, NOW + timedelta(days=1))
    assert len(sent_messages(topic)) == 1


def test_hand_edited_notifications_and_subscribers_are_put_back(topic: str) -> None:
    add_profile("us-east-1", "a", "Alpha")
    run(topic, ALERT_EMAIL="ops@example.com")
    client: Any = boto3.client("budgets", region_name="us-east-1")
    name = "bedrock-project-Alpha"
    actual_80 = {
        "NotificationType": "ACTUAL",
        "ComparisonOperator": "GREATER_THAN",
        "Threshold": 80.0,
        "ThresholdType": "PERCENTAGE",
    }
    client.update_subscriber(
        AccountId=ACCOUNT,
        BudgetName=name,
        Notification=actual_80,
        OldSubscriber={"SubscriptionType": "EMAIL", "Address": "ops@example.com"},
        NewSubscriber={"SubscriptionType": "EMAIL", "Address": "intern@example.com"},
    )
    client.create_notification(
        AccountId=ACCOUNT,
        BudgetName=name,
        Notification=actual_80 | {"Threshold": 5.0},
        Subscribers=[{"SubscriptionType": "EMAIL", "Address": "intern@example.com"}],
    )

    with count_api_calls() as calls:
        result = run(topic, NOW + timedelta(days=1), ALERT_EMAIL="ops@example.com")

    assert calls.writes("budgets") == {"budgets:DeleteNotification": 1, "budgets:UpdateSubscriber": 1}
    assert len(result.summary()["updated"][name]) == 2
    with count_api_calls() as calls:
        run(topic, NOW + timedelta(days=2), ALERT_EMAIL="ops@example.com")
    assert calls.writes() == {}


def _member_account() -> tuple[str, boto3.session.Session]:
    """An organization whose management account is the default one, and a member account's session."""
    organizations = boto3.client("organizations", region_name="us-east-1")
    organizations.create_organization(FeatureSet="ALL")
    created = organizations.create_account(Email="team@example.com", AccountName="Team")["CreateAccountStatus"]
    member_id = str(created["AccountId"])
    return member_id, member_session(member_id)


def test_a_member_account_never_tries_to_activate_and_names_the_management_account(topic: str) -> None:
    member_id, session = _member_account()
    member_topic = session.client("sns", region_name="us-east-1").create_topic(Name="alerts")["TopicArn"]
    session.client("s3", region_name="us-east-1").create_bucket(Bucket="member-state")
    member_config = config(member_topic, STATE_BUCKET="member-state", ACTIVATE_COST_ALLOCATION_TAGS="true")
    with count_api_calls() as calls:
        result = BudgetJob.from_config(member_config, ClientFactory(session=session)).run(NOW)
    operations = calls.by_operation()
    assert operations["organizations:DescribeOrganization"] == 1
    assert not {"ce:ListCostAllocationTags", "ce:UpdateCostAllocationTagsStatus"} & set(operations)
    check = result.facts.cost_tags
    assert check is not None
    (problem,) = check.problems
    assert problem.key == f"cost-tags:member-account:{ACCOUNT}"
    assert f"({member_id}) is a member account" in problem.text
    assert result.notification is not None
    assert f"only its management account ({ACCOUNT}) can activate" in result.notification.text


def test_the_management_account_of_an_organization_activates_its_tags(topic: str) -> None:
    _member_account()
    set_cost_allocation_tags(
        {"Project": "Inactive", "Environment": "Active", "CostCenter": "Active", "Owner": "Active"}
    )
    result = run(topic, ACTIVATE_COST_ALLOCATION_TAGS="true")
    check = result.facts.cost_tags
    assert check is not None
    assert check.activated == ("Project",)
    assert not [p for p in check.problems if p.key.startswith("cost-tags:member-account")]
