"""AWS Budgets adapter: the read side (budgets with spend) and the writes the budget job makes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from bedrock_governance.aws.errors import aws_call
from bedrock_governance.core.models import BudgetSnapshot, NotificationSpec, Subscriber

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient


def _amount(spend: Mapping[str, Any] | None) -> Decimal | None:
    return Decimal(str(spend["Amount"])) if spend and "Amount" in spend else None


def snapshot_from_api(budget: Mapping[str, Any]) -> BudgetSnapshot:
    limit = budget.get("BudgetLimit", {})
    calculated = budget.get("CalculatedSpend", {})
    return BudgetSnapshot(
        name=str(budget["BudgetName"]),
        limit=Decimal(str(limit.get("Amount", "0"))),
        unit=str(limit.get("Unit", "USD")),
        time_unit=str(budget.get("TimeUnit", "MONTHLY")),
        budget_type=str(budget.get("BudgetType", "COST")),
        actual_spend=_amount(calculated.get("ActualSpend")),
        forecasted_spend=_amount(calculated.get("ForecastedSpend")),
        cost_filters=MappingProxyType({k: tuple(v) for k, v in budget.get("CostFilters", {}).items()}),
        filter_expression=budget.get("FilterExpression"),
        raw=MappingProxyType(dict(budget)),
    )


class Budgets:
    def __init__(self, client: BudgetsClient, account_id: str, partition: str = "aws") -> None:
        self._client = client
        self.account_id = account_id
        self.partition = partition

    def describe_budgets(self) -> list[BudgetSnapshot]:
        """Every budget of the account, with calculated spend."""
        budgets: list[BudgetSnapshot] = []
        with aws_call("budgets", "DescribeBudgets"):
            paginator = self._client.get_paginator("describe_budgets")
            for page in paginator.paginate(AccountId=self.account_id, PaginationConfig={"PageSize": 100}):
                budgets += [snapshot_from_api(budget) for budget in page.get("Budgets", [])]
        return budgets

    def describe_budget(self, budget_name: str) -> BudgetSnapshot:
        with aws_call("budgets", "DescribeBudget"):
            response = self._client.describe_budget(AccountId=self.account_id, BudgetName=budget_name)
        return snapshot_from_api(response["Budget"])

    # ------------------------------------------------------------------ notifications and tags

    def notifications(self, budget_name: str) -> list[NotificationSpec]:
        """One budget's notifications (for a budget met after the account-wide read)."""
        specs: list[NotificationSpec] = []
        with aws_call("budgets", "DescribeNotificationsForBudget"):
            paginator = self._client.get_paginator("describe_notifications_for_budget")
            for page in paginator.paginate(AccountId=self.account_id, BudgetName=budget_name):
                specs += [notification_from_api(n) for n in page.get("Notifications", [])]
        return specs

    def budget_arn(self, name: str) -> str:
        return f"arn:{self.partition}:budgets::{self.account_id}:budget/{name}"

    def notifications_by_budget(self) -> dict[str, list[NotificationSpec]]:
        """Every budget's notifications in one paged call (budgets without any are absent)."""
        found: dict[str, list[NotificationSpec]] = {}
        with aws_call("budgets", "DescribeBudgetNotificationsForAccount"):
            paginator = self._client.get_paginator("describe_budget_notifications_for_account")
            for page in paginator.paginate(AccountId=self.account_id, PaginationConfig={"PageSize": 100}):
                for entry in page.get("BudgetNotificationsForAccount", []):
                    specs = [notification_from_api(n) for n in entry.get("Notifications", [])]
                    found.setdefault(str(entry.get("BudgetName", "")), []).extend(specs)
        return found

    def subscribers(self, budget_name: str, notification: NotificationSpec) -> list[Subscriber]:
        subscribers: list[Subscriber] = []
        request: dict[str, Any] = {
            "AccountId": self.account_id,
            "BudgetName": budget_name,
            "Notification": notification_to_api(notification),
        }
        with aws_call("budgets", "DescribeSubscribersForNotification"):
            paginator = self._client.get_paginator("describe_subscribers_for_notification")
            for page in paginator.paginate(**request):
                subscribers += [Subscriber(str(s["SubscriptionType"]), str(s["Address"])) for s in page["Subscribers"]]
        return subscribers

    def tags(self, budget_name: str) -> dict[str, str]:
        with aws_call("budgets", "ListTagsForResource"):
            response = self._client.list_tags_for_resource(ResourceARN=self.budget_arn(budget_name))
        return {tag["Key"]: tag["Value"] for tag in response.get("ResourceTags", [])}

    # ------------------------------------------------------------------ writes

    def create_budget(
        self,
        definition: BudgetDefinition,
        notifications: Sequence[tuple[NotificationSpec, Sequence[Subscriber]]],
        tags: Mapping[str, str],
    ) -> None:
        """Budget, notifications, subscribers and tags in one call, so a budget never exists half-made.
        Raises ``AlreadyExists`` when the name is taken."""
        request: dict[str, Any] = {
            "AccountId": self.account_id,
            "Budget": definition.to_api(),
            "NotificationsWithSubscribers": [
                {"Notification": notification_to_api(spec), "Subscribers": [subscriber_to_api(s) for s in subs]}
                for spec, subs in notifications
            ],
            "ResourceTags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
        }
        with aws_call("budgets", "CreateBudget"):
            self._client.create_budget(**request)

    def update_budget(self, definition: BudgetDefinition) -> None:
        """Replace limit, period and filters (not the name, notifications or tags)."""
        request: dict[str, Any] = {"AccountId": self.account_id, "NewBudget": definition.to_api()}
        with aws_call("budgets", "UpdateBudget"):
            self._client.update_budget(**request)

    def delete_budget(self, budget_name: str) -> None:
        with aws_call("budgets", "DeleteBudget"):
            self._client.delete_budget(AccountId=self.account_id, BudgetName=budget_name)

    def create_notification(
        self, budget_name: str, notification: NotificationSpec, subscribers: Sequence[Subscriber]
    ) -> None:
        request: dict[str, Any] = {
            "AccountId": self.account_id,
            "BudgetName": budget_name,
            "Notification": notification_to_api(notification),
            "Subscribers": [subscriber_to_api(s) for s in subscribers],
        }
        with aws_call("budgets", "CreateNotification"):
            self._client.create_notification(**request)

    def update_notification(self, budget_name: str, old: NotificationSpec, new: NotificationSpec) -> None:
        request: dict[str, Any] = {
            "AccountId": self.account_id,
            "BudgetName": budget_name,
            "OldNotification": notification_to_api(old),
            "NewNotification": notification_to_api(new),
        }
        with aws_call("budgets", "UpdateNotification"):
            self._client.update_notification(**request)

    def delete_notification(self, budget_name: str, notification: NotificationSpec) -> None:
        request: dict[str, Any] = {
            "AccountId": self.account_id,
            "BudgetName": budget_name,
            "Notification": notification_to_api(notification),
        }
        with aws_call("budgets", "DeleteNotification"):
            self._client.delete_notification(**request)

    def create_subscriber(self, budget_name: str, notification: NotificationSpec, subscriber: Subscriber) -> None:
        request: dict[str, Any] = {
            "AccountId": self.account_id,
            "BudgetName": budget_name,
            "Notification": notification_to_api(notification),
            "Subscriber": subscriber_to_api(subscriber),
        }
        with aws_call("budgets", "CreateSubscriber"):
            self._client.create_subscriber(**request)

    def update_subscriber(
        self, budget_name: str, notification: NotificationSpec, old: Subscriber, new: Subscriber
    ) -> None:
        request: dict[str, Any] = {
            "AccountId": self.account_id,
            "BudgetName": budget_name,
            "Notification": notification_to_api(notification),
            "OldSubscriber": subscriber_to_api(old),
            "NewSubscriber": subscriber_to_api(new),
        }
        with aws_call("budgets", "UpdateSubscriber"):
            self._client.update_subscriber(**request)

    def delete_subscriber(self, budget_name: str, notification: NotificationSpec, subscriber: Subscriber) -> None:
        request: dict[str, Any] = {
            "AccountId": self.account_id,
            "BudgetName": budget_name,
            "Notification": notification_to_api(notification),
            "Subscriber": subscriber_to_api(subscriber),
        }
        with aws_call("budgets", "DeleteSubscriber"):
            self._client.delete_subscriber(**request)

    def tag_budget(self, budget_name: str, tags: Mapping[str, str]) -> None:
        request: dict[str, Any] = {
            "ResourceARN": self.budget_arn(budget_name),
            "ResourceTags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
        }
        with aws_call("budgets", "TagResource"):
            self._client.tag_resource(**request)


@dataclass(frozen=True)
class BudgetDefinition:
    """What CreateBudget and UpdateBudget send: a monthly cost budget with legacy CostFilters."""

    name: str
    limit: Decimal
    cost_filters: Mapping[str, tuple[str, ...]]
    unit: str = "USD"
    time_unit: str = "MONTHLY"
    budget_type: str = "COST"

    def to_api(self) -> dict[str, Any]:
        # Amount as a plain decimal string: str(Decimal) could be "1E+2", which AWS rejects.
        return {
            "BudgetName": self.name,
            "BudgetLimit": {"Amount": format(self.limit.normalize(), "f"), "Unit": self.unit},
            "TimeUnit": self.time_unit,
            "BudgetType": self.budget_type,
            "CostFilters": {key: list(values) for key, values in self.cost_filters.items()},
        }


def notification_to_api(spec: NotificationSpec) -> dict[str, Any]:
    return {
        "NotificationType": spec.notification_type,
        "ComparisonOperator": spec.comparison,
        "Threshold": float(spec.threshold),
        "ThresholdType": spec.threshold_type,
    }


def notification_from_api(notification: Mapping[str, Any]) -> NotificationSpec:
    # AWS returns the threshold as a double (80 -> 80.0); str() keeps it exact enough to compare.
    return NotificationSpec(
        notification_type=str(notification["NotificationType"]),
        threshold=Decimal(str(notification["Threshold"])),
        comparison=str(notification.get("ComparisonOperator", "GREATER_THAN")),
        threshold_type=str(notification.get("ThresholdType") or "PERCENTAGE"),
    )


def subscriber_to_api(subscriber: Subscriber) -> dict[str, str]:
    return {"SubscriptionType": subscriber.kind, "Address": subscriber.address}
