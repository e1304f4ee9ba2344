"""The embedded AWS Budgets: the flows a reconciling budget function goes through, with AWS's errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from embedded_aws import budgets, embedded_aws, install

ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:budget-alerts"
OTHER_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:other-alerts"
AT_80 = {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN", "Threshold": 80.0}
FORECAST_100 = {
    "NotificationType": "FORECASTED",
    "ComparisonOperator": "GREATER_THAN",
    "Threshold": 100.0,
    "ThresholdType": "PERCENTAGE",
}
PROJECT_A_FILTER = {"Tags": {"Key": "Project", "Values": ["ProjectA"], "MatchOptions": ["EQUALS"]}}


@pytest.fixture
def client() -> Iterator[Any]:
    with embedded_aws():
        yield boto3.client("budgets", region_name="us-east-1")


def _budget(name: str = "bedrock-ProjectA", amount: str = "100", **extra: Any) -> dict[str, Any]:
    return {
        "BudgetName": name,
        "BudgetLimit": {"Amount": amount, "Unit": "USD"},
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
        **extra,
    }


def _error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _subscribers(client: Any, name: str, notification: dict[str, Any]) -> list[dict[str, str]]:
    response = client.describe_subscribers_for_notification(
        AccountId=ACCOUNT, BudgetName=name, Notification=notification
    )
    return list(response["Subscribers"])


# --------------------------------------------------------------------------- budgets


def test_create_and_describe_a_filter_expression_budget(client: Any) -> None:
    client.create_budget(
        AccountId=ACCOUNT,
        Budget=_budget(FilterExpression=PROJECT_A_FILTER, Metrics=["UnblendedCost"]),
        NotificationsWithSubscribers=[
            {"Notification": AT_80, "Subscribers": [{"SubscriptionType": "SNS", "Address": TOPIC}]}
        ],
        ResourceTags=[{"Key": "Project", "Value": "ProjectA"}],
    )

    budget = client.describe_budget(AccountId=ACCOUNT, BudgetName="bedrock-ProjectA")["Budget"]
    # AWS renders the limit as a double: compare amounts as decimals, not strings.
    assert budget["BudgetLimit"] == {"Amount": "100.0", "Unit": "USD"}
    assert budget["Metrics"] == ["UnblendedCost"]
    assert "CostTypes" not in budget
    assert "CostFilters" not in budget
    # Only described on request.
    assert "FilterExpression" not in budget
    shown = client.describe_budget(AccountId=ACCOUNT, BudgetName="bedrock-ProjectA", ShowFilterExpression=True)
    assert shown["Budget"]["FilterExpression"] == PROJECT_A_FILTER
    assert budget["CalculatedSpend"] == {
        "ActualSpend": {"Amount": "0.0", "Unit": "USD"},
        "ForecastedSpend": {"Amount": "0.0", "Unit": "USD"},
    }
    now = datetime.now(UTC)
    assert budget["TimePeriod"]["Start"] == datetime(now.year, now.month, 1, tzinfo=UTC)
    assert budget["TimePeriod"]["End"] == datetime(2087, 6, 15, tzinfo=UTC)


def test_legacy_cost_filter_budget_gets_default_cost_types(client: Any) -> None:
    cost_filters = {"TagKeyValue": ["user:Project$ProjectA"]}
    client.create_budget(
        AccountId=ACCOUNT,
        Budget=_budget(amount="12.50", CostFilters=cost_filters, CostTypes={"IncludeTax": False}),
    )
    (budget,) = client.describe_budgets(AccountId=ACCOUNT)["Budgets"]
    assert budget["CostFilters"] == cost_filters
    assert budget["BudgetLimit"]["Amount"] == "12.5"
    assert budget["CostTypes"]["IncludeTax"] is False
    assert budget["CostTypes"]["IncludeCredit"] is True
    assert budget["CostTypes"]["UseBlended"] is False


def test_create_on_an_existing_name_is_a_duplicate(client: Any) -> None:
    client.create_budget(AccountId=ACCOUNT, Budget=_budget())
    with pytest.raises(ClientError) as error:
        client.create_budget(AccountId=ACCOUNT, Budget=_budget(amount="200"))
    assert _error_code(error) == "DuplicateRecordException"


def test_update_replaces_the_budget_but_keeps_notifications_and_tags(client: Any) -> None:
    client.create_budget(
        AccountId=ACCOUNT,
        Budget=_budget(FilterExpression=PROJECT_A_FILTER),
        NotificationsWithSubscribers=[
            {"Notification": AT_80, "Subscribers": [{"SubscriptionType": "SNS", "Address": TOPIC}]}
        ],
        ResourceTags=[{"Key": "Owner", "Value": "finops"}],
    )
    budgets.set_calculated_spend(ACCOUNT, "bedrock-ProjectA", Decimal("42.5"), Decimal("90"))

    client.update_budget(AccountId=ACCOUNT, NewBudget=_budget(amount="250.75", FilterExpression=PROJECT_A_FILTER))

    budget = client.describe_budget(AccountId=ACCOUNT, BudgetName="bedrock-ProjectA")["Budget"]
    assert budget["BudgetLimit"]["Amount"] == "250.75"
    # AWS: spend drops to zero after an update until new usage data arrives.
    assert budget["CalculatedSpend"]["ActualSpend"]["Amount"] == "0.0"
    notifications = client.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="bedrock-ProjectA")
    assert len(notifications["Notifications"]) == 1
    tags = client.list_tags_for_resource(ResourceARN=f"arn:aws:budgets::{ACCOUNT}:budget/bedrock-ProjectA")
    assert tags["ResourceTags"] == [{"Key": "Owner", "Value": "finops"}]


def test_update_of_a_missing_budget_is_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as error:
        client.update_budget(AccountId=ACCOUNT, NewBudget=_budget("missing"))
    assert _error_code(error) == "NotFoundException"


def test_describe_and_delete_of_a_missing_budget_are_not_found(client: Any) -> None:
    calls: list[Callable[[], object]] = [
        lambda: client.describe_budget(AccountId=ACCOUNT, BudgetName="missing"),
        lambda: client.delete_budget(AccountId=ACCOUNT, BudgetName="missing"),
        lambda: client.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="missing"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as error:
            call()
        assert _error_code(error) == "NotFoundException"


@pytest.mark.parametrize("name", ["x" * 101, "team:ProjectA", "team\\ProjectA", "a/action/b"])
def test_invalid_budget_names(client: Any, name: str) -> None:
    with pytest.raises(ClientError) as error:
        client.create_budget(AccountId=ACCOUNT, Budget=_budget(name))
    assert _error_code(error) == "InvalidParameterException"


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"CostFilters": {"Service": ["Amazon Bedrock"]}, "FilterExpression": PROJECT_A_FILTER}, "both filters"),
        ({"CostTypes": {"IncludeTax": True}, "FilterExpression": PROJECT_A_FILTER}, "legacy and new mixed"),
        ({"PlannedBudgetLimits": {"1735689600": {"Amount": "10", "Unit": "USD"}}}, "two kinds of limit"),
        ({"BudgetLimit": {"Amount": "-5", "Unit": "USD"}}, "negative amount"),
        ({"TimePeriod": {"Start": datetime(2030, 1, 1), "End": datetime(2029, 1, 1)}}, "start after end"),
        (
            {
                "FilterExpression": {
                    "Tags": {"Key": "Project", "Values": ["A"]},
                    "Dimensions": {"Key": "SERVICE", "Values": ["x"]},
                }
            },
            "two roots",
        ),
    ],
)
def test_invalid_budgets(client: Any, extra: dict[str, Any], why: str) -> None:
    with pytest.raises(ClientError) as error:
        client.create_budget(AccountId=ACCOUNT, Budget=_budget(**extra))
    assert _error_code(error) == "InvalidParameterException", why


def test_cost_budget_needs_a_limit(client: Any) -> None:
    budget = _budget()
    del budget["BudgetLimit"]
    with pytest.raises(ClientError) as error:
        client.create_budget(AccountId=ACCOUNT, Budget=budget)
    assert _error_code(error) == "InvalidParameterException"


def test_creation_limit(client: Any) -> None:
    budgets.set_max_budgets(1)
    client.create_budget(AccountId=ACCOUNT, Budget=_budget("first"))
    with pytest.raises(ClientError) as error:
        client.create_budget(AccountId=ACCOUNT, Budget=_budget("second"))
    assert _error_code(error) == "CreationLimitExceededException"


def test_another_accounts_budgets_are_off_limits(client: Any) -> None:
    with pytest.raises(ClientError) as error:
        client.create_budget(AccountId="111122223333", Budget=_budget())
    assert _error_code(error) == "AccessDeniedException"


def test_describe_budgets_pages(client: Any) -> None:
    for index in range(5):
        client.create_budget(AccountId=ACCOUNT, Budget=_budget(f"budget-{index}"))
    first = client.describe_budgets(AccountId=ACCOUNT, MaxResults=2)
    assert len(first["Budgets"]) == 2
    assert "NextToken" in first
    pages = client.get_paginator("describe_budgets").paginate(AccountId=ACCOUNT, PaginationConfig={"PageSize": 2})
    names = [budget["BudgetName"] for page in pages for budget in page["Budgets"]]
    assert names == [f"budget-{index}" for index in range(5)]


def test_calculated_spend_is_seeded(client: Any) -> None:
    client.create_budget(AccountId=ACCOUNT, Budget=_budget())
    budgets.set_calculated_spend(ACCOUNT, "bedrock-ProjectA", Decimal("12.3456789"), Decimal("130"))
    (budget,) = client.describe_budgets(AccountId=ACCOUNT)["Budgets"]
    assert budget["CalculatedSpend"] == {
        "ActualSpend": {"Amount": "12.3456789", "Unit": "USD"},
        "ForecastedSpend": {"Amount": "130.0", "Unit": "USD"},
    }
    budgets.set_calculated_spend(ACCOUNT, "bedrock-ProjectA", Decimal(5))
    (budget,) = client.describe_budgets(AccountId=ACCOUNT)["Budgets"]
    assert "ForecastedSpend" not in budget["CalculatedSpend"]
    with pytest.raises(KeyError):
        budgets.set_calculated_spend(ACCOUNT, "missing", Decimal(1))


def test_delete_budget(client: Any) -> None:
    client.create_budget(AccountId=ACCOUNT, Budget=_budget())
    client.delete_budget(AccountId=ACCOUNT, BudgetName="bedrock-ProjectA")
    assert client.describe_budgets(AccountId=ACCOUNT)["Budgets"] == []


# --------------------------------------------------------------------------- notifications


def test_notification_flow(client: Any) -> None:
    client.create_budget(AccountId=ACCOUNT, Budget=_budget())
    name = "bedrock-ProjectA"
    email = [{"SubscriptionType": "EMAIL", "Address": "finops@example.com"}]
    client.create_notification(AccountId=ACCOUNT, BudgetName=name, Notification=AT_80, Subscribers=email)

    with pytest.raises(ClientError) as duplicate:
        client.create_notification(AccountId=ACCOUNT, BudgetName=name, Notification=AT_80, Subscribers=email)
    assert _error_code(duplicate) == "DuplicateRecordException"

    (stored,) = client.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=name)["Notifications"]
    assert stored == {**AT_80, "ThresholdType": "PERCENTAGE", "NotificationState": "OK"}

    client.update_notification(AccountId=ACCOUNT, BudgetName=name, OldNotification=AT_80, NewNotification=FORECAST_100)
    (updated,) = client.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=name)["Notifications"]
    assert updated["NotificationType"] == "FORECASTED"
    # Subscribers stay with the notification through an update.
    assert _subscribers(client, name, FORECAST_100) == email

    with pytest.raises(ClientError) as missing:
        client.update_notification(AccountId=ACCOUNT, BudgetName=name, OldNotification=AT_80, NewNotification=AT_80)
    assert _error_code(missing) == "NotFoundException"

    client.create_notification(AccountId=ACCOUNT, BudgetName=name, Notification=AT_80, Subscribers=email)
    with pytest.raises(ClientError) as clash:
        client.update_notification(
            AccountId=ACCOUNT, BudgetName=name, OldNotification=AT_80, NewNotification=FORECAST_100
        )
    assert _error_code(clash) == "DuplicateRecordException"

    client.delete_notification(AccountId=ACCOUNT, BudgetName=name, Notification=AT_80)
    with pytest.raises(ClientError) as gone:
        client.delete_notification(AccountId=ACCOUNT, BudgetName=name, Notification=AT_80)
    assert _error_code(gone) == "NotFoundException"


def test_notification_on_a_missing_budget(client: Any) -> None:
    with pytest.raises(ClientError) as error:
        client.create_notification(
            AccountId=ACCOUNT,
            BudgetName="missing",
            Notification=AT_80,
            Subscribers=[{"SubscriptionType": "SNS", "Address": TOPIC}],
        )
    assert _error_code(error) == "NotFoundException"


def test_at_most_one_sns_and_ten_email_subscribers(client: Any) -> None:
    client.create_budget(AccountId=ACCOUNT, Budget=_budget())
    two_topics = [{"SubscriptionType": "SNS", "Address": TOPIC}, {"SubscriptionType": "SNS", "Address": OTHER_TOPIC}]
    with pytest.raises(ClientError) as sns:
        client.create_notification(
            AccountId=ACCOUNT, BudgetName="bedrock-ProjectA", Notification=AT_80, Subscribers=two_topics
        )
    assert _error_code(sns) == "CreationLimitExceededException"

    eleven = [{"SubscriptionType": "EMAIL", "Address": f"person{i}@example.com"} for i in range(11)]
    with pytest.raises(ClientError) as email:
        client.create_notification(
            AccountId=ACCOUNT, BudgetName="bedrock-ProjectA", Notification=AT_80, Subscribers=eleven
        )
    assert _error_code(email) == "CreationLimitExceededException"

    # One topic and ten addresses is the most a notification takes.
    client.create_notification(
        AccountId=ACCOUNT, BudgetName="bedrock-ProjectA", Notification=AT_80, Subscribers=[two_topics[0], *eleven[:10]]
    )
    assert len(_subscribers(client, "bedrock-ProjectA", AT_80)) == 11


def test_create_budget_checks_subscriber_limits_too(client: Any) -> None:
    two_topics = [{"SubscriptionType": "SNS", "Address": TOPIC}, {"SubscriptionType": "SNS", "Address": OTHER_TOPIC}]
    with pytest.raises(ClientError) as error:
        client.create_budget(
            AccountId=ACCOUNT,
            Budget=_budget(),
            NotificationsWithSubscribers=[{"Notification": AT_80, "Subscribers": two_topics}],
        )
    assert _error_code(error) == "CreationLimitExceededException"
    # Nothing was created.
    assert client.describe_budgets(AccountId=ACCOUNT)["Budgets"] == []


# --------------------------------------------------------------------------- subscribers


def test_subscriber_flow(client: Any) -> None:
    name = "bedrock-ProjectA"
    client.create_budget(
        AccountId=ACCOUNT,
        Budget=_budget(),
        NotificationsWithSubscribers=[
            {"Notification": AT_80, "Subscribers": [{"SubscriptionType": "SNS", "Address": TOPIC}]}
        ],
    )
    alice = {"SubscriptionType": "EMAIL", "Address": "alice@example.com"}
    bob = {"SubscriptionType": "EMAIL", "Address": "bob@example.com"}
    topic = {"SubscriptionType": "SNS", "Address": TOPIC}

    client.create_subscriber(AccountId=ACCOUNT, BudgetName=name, Notification=AT_80, Subscriber=alice)
    with pytest.raises(ClientError) as duplicate:
        client.create_subscriber(AccountId=ACCOUNT, BudgetName=name, Notification=AT_80, Subscriber=alice)
    assert _error_code(duplicate) == "DuplicateRecordException"
    with pytest.raises(ClientError) as second_topic:
        client.create_subscriber(
            AccountId=ACCOUNT,
            BudgetName=name,
            Notification=AT_80,
            Subscriber={"SubscriptionType": "SNS", "Address": OTHER_TOPIC},
        )
    assert _error_code(second_topic) == "CreationLimitExceededException"
    with pytest.raises(ClientError) as no_notification:
        client.create_subscriber(AccountId=ACCOUNT, BudgetName=name, Notification=FORECAST_100, Subscriber=alice)
    assert _error_code(no_notification) == "NotFoundException"

    client.update_subscriber(
        AccountId=ACCOUNT, BudgetName=name, Notification=AT_80, OldSubscriber=alice, NewSubscriber=bob
    )
    assert _subscribers(client, name, AT_80) == [topic, bob]
    with pytest.raises(ClientError) as missing_old:
        client.update_subscriber(
            AccountId=ACCOUNT, BudgetName=name, Notification=AT_80, OldSubscriber=alice, NewSubscriber=bob
        )
    assert _error_code(missing_old) == "NotFoundException"

    client.delete_subscriber(AccountId=ACCOUNT, BudgetName=name, Notification=AT_80, Subscriber=bob)
    client.delete_subscriber(AccountId=ACCOUNT, BudgetName=name, Notification=AT_80, Subscriber=topic)
    # Deleting the last subscriber deletes the notification.
    assert client.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=name)["Notifications"] == []


def test_invalid_subscriber_addresses(client: Any) -> None:
    client.create_budget(AccountId=ACCOUNT, Budget=_budget())
    for subscriber in (
        {"SubscriptionType": "SNS", "Address": "budget-alerts"},
        {"SubscriptionType": "EMAIL", "Address": "not an address"},
    ):
        with pytest.raises(ClientError) as error:
            client.create_notification(
                AccountId=ACCOUNT, BudgetName="bedrock-ProjectA", Notification=AT_80, Subscribers=[subscriber]
            )
        assert _error_code(error) == "InvalidParameterException"


# --------------------------------------------------------------------------- tags


def test_budget_tags(client: Any) -> None:
    client.create_budget(AccountId=ACCOUNT, Budget=_budget(), ResourceTags=[{"Key": "Project", "Value": "ProjectA"}])
    arn = f"arn:aws:budgets::{ACCOUNT}:budget/bedrock-ProjectA"
    client.tag_resource(ResourceARN=arn, ResourceTags=[{"Key": "Owner", "Value": "finops"}])
    client.untag_resource(ResourceARN=arn, ResourceTagKeys=["Project"])
    assert client.list_tags_for_resource(ResourceARN=arn)["ResourceTags"] == [{"Key": "Owner", "Value": "finops"}]

    with pytest.raises(ClientError) as error:
        client.list_tags_for_resource(ResourceARN=f"arn:aws:budgets::{ACCOUNT}:budget/missing")
    assert _error_code(error) == "NotFoundException"


def test_install_is_idempotent(client: Any) -> None:
    install()
    budgets.install()
    client.create_budget(AccountId=ACCOUNT, Budget=_budget())
    assert len(client.describe_budgets(AccountId=ACCOUNT)["Budgets"]) == 1


# --------------------------------------------------------------------------- server mode


def test_budgets_over_http() -> None:
    install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
        client: Any = boto3.client("budgets", region_name="us-east-1", endpoint_url=endpoint)
        client.create_budget(AccountId=ACCOUNT, Budget=_budget())
        budgets.set_calculated_spend(ACCOUNT, "bedrock-ProjectA", Decimal("61.25"), Decimal("99.5"))
        with pytest.raises(ClientError) as error:
            client.create_budget(AccountId=ACCOUNT, Budget=_budget())
        assert _error_code(error) == "DuplicateRecordException"
        client.update_budget(AccountId=ACCOUNT, NewBudget=_budget(amount="300"))
        budgets.set_calculated_spend(ACCOUNT, "bedrock-ProjectA", Decimal("61.25"), Decimal("99.5"))

        budget = client.describe_budget(AccountId=ACCOUNT, BudgetName="bedrock-ProjectA")["Budget"]
        assert budget["BudgetLimit"]["Amount"] == "300.0"
        assert budget["CalculatedSpend"]["ActualSpend"]["Amount"] == "61.25"
    finally:
        requests.post(f"{endpoint}/moto-api/reset", timeout=10)
        server.stop()
