"""AWS Budgets as a reconciling function meets it: moto's budget operations, completed and corrected.

moto 5.2.5 stores budgets and notifications but has no ``UpdateBudget``, ``UpdateNotification`` or
subscriber operations, no tags, no paging, no validation, and it ignores a missing notification on
delete. Since nearly every operation needed a fix, this extension answers all budget operations
itself, keeping its state on moto's budgets backend of the calling account (so ``mock_aws`` and
``/moto-api/reset`` clear it, and a ``ThreadedMotoServer`` in the same process shares it).

Behaviour taken from AWS (see shared/AWS-FACTS.md and the README):

* ``BudgetLimit.Amount`` comes back normalised the way AWS renders it: ``"100"`` is described as
  ``"100.0"``, ``"12.50"`` as ``"12.5"``. Compare amounts as decimals, never as strings.
* ``FilterExpression`` is only described when the request sets ``ShowFilterExpression=True``.
* ``UpdateBudget`` replaces the whole budget except its name, keeps notifications and tags, and
  drops ``CalculatedSpend`` to zero until new usage data arrives (here: until
  :func:`set_calculated_spend` is called again).
* A notification has at most 1 SNS and 10 e-mail subscribers (``CreationLimitExceededException``);
  a budget has at most 10 notifications; deleting the last subscriber deletes the notification.
* ``AccountId`` must be the caller's own account (``AccessDeniedException`` otherwise).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from moto.budgets.models import BudgetsBackend, budgets_backends
from moto.budgets.responses import BudgetsResponse
from moto.core.exceptions import JsonRESTError
from moto.core.models import DEFAULT_ACCOUNT_ID

__all__ = ["DEFAULT_MAX_BUDGETS", "install", "set_calculated_spend", "set_max_budgets"]

#: Budgets per account before ``CreateBudget`` answers ``CreationLimitExceededException``.
DEFAULT_MAX_BUDGETS: Final = 20_000
_MAX_NOTIFICATIONS: Final = 10
_MAX_SNS_SUBSCRIBERS: Final = 1
_MAX_EMAIL_SUBSCRIBERS: Final = 10
_MAX_TAGS: Final = 200
_DEFAULT_END: Final = 3706473600  # 2087-06-15T00:00:00Z, AWS's "no end date"
_NAME_PATTERN: Final = re.compile(r"^(?![^:\\]*/action/|(?i:.*<script>.*</script>.*))[^:\\]+$")
_AMOUNT_PATTERN: Final = re.compile(r"^([0-9]*\.)?[0-9]+$")
_ACCOUNT_PATTERN: Final = re.compile(r"^\d{12}$")
_SNS_ARN_PATTERN: Final = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
_EMAIL_PATTERN: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BUDGET_ARN_PATTERN: Final = re.compile(r"^arn:(aws[a-z-]*):budgets::(\d{12}):budget/(.+)$")
_BUDGET_TYPES: Final = frozenset(
    ("USAGE", "COST", "RI_UTILIZATION", "RI_COVERAGE", "SAVINGS_PLANS_UTILIZATION", "SAVINGS_PLANS_COVERAGE")
)
_TIME_UNITS: Final = frozenset(("DAILY", "MONTHLY", "QUARTERLY", "ANNUALLY", "CUSTOM"))
_BUDGET_METRICS: Final = frozenset(
    (
        "BlendedCost",
        "UnblendedCost",
        "AmortizedCost",
        "NetUnblendedCost",
        "NetAmortizedCost",
        "UsageQuantity",
        "NormalizedUsageAmount",
        "Hours",
    )
)
_DEFAULT_COST_TYPES: Final[Mapping[str, bool]] = {
    "IncludeTax": True,
    "IncludeSubscription": True,
    "UseBlended": False,
    "IncludeRefund": True,
    "IncludeCredit": True,
    "IncludeUpfront": True,
    "IncludeRecurring": True,
    "IncludeOtherSubscription": True,
    "IncludeSupport": True,
    "IncludeDiscount": True,
    "UseAmortized": False,
}
# Fields AWS computes; a request may carry them (a described budget sent back) but they are ignored.
_SERVER_FIELDS: Final = frozenset(("CalculatedSpend", "LastUpdatedTime", "HealthStatus"))
_STATE_ATTRIBUTE: Final = "_embedded_aws_budgets"


# --------------------------------------------------------------------------- errors


def _error(code: str) -> Callable[[str], JsonRESTError]:
    def make(message: str) -> JsonRESTError:
        return JsonRESTError(code, message)

    return make


InvalidParameter = _error("InvalidParameterException")
NotFound = _error("NotFoundException")
DuplicateRecord = _error("DuplicateRecordException")
CreationLimitExceeded = _error("CreationLimitExceededException")
AccessDenied = _error("AccessDeniedException")
InvalidNextToken = _error("InvalidNextTokenException")
ServiceQuotaExceeded = _error("ServiceQuotaExceededException")


# --------------------------------------------------------------------------- state


@dataclass
class _Notification:
    details: dict[str, Any]
    subscribers: list[dict[str, str]]

    def matches(self, key: tuple[str, str, float, str]) -> bool:
        return _notification_key(self.details) == key


@dataclass
class _Budget:
    data: dict[str, Any]
    notifications: list[_Notification] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    actual_spend: Decimal = Decimal(0)
    forecasted_spend: Decimal | None = Decimal(0)

    @property
    def name(self) -> str:
        return str(self.data["BudgetName"])

    def find_notification(self, details: Mapping[str, Any]) -> _Notification | None:
        key = _notification_key(details)
        return next((n for n in self.notifications if n.matches(key)), None)

    def describe(self, show_filter_expression: bool) -> dict[str, Any]:
        described: dict[str, Any] = json.loads(json.dumps(self.data))
        if not show_filter_expression:
            described.pop("FilterExpression", None)
        unit = str((self.data.get("BudgetLimit") or {}).get("Unit", "USD"))
        spend: dict[str, Any] = {"ActualSpend": {"Amount": _render_amount(self.actual_spend), "Unit": unit}}
        if self.forecasted_spend is not None:
            spend["ForecastedSpend"] = {"Amount": _render_amount(self.forecasted_spend), "Unit": unit}
        described["CalculatedSpend"] = spend
        return described


@dataclass
class _Store:
    budgets: dict[str, _Budget] = field(default_factory=dict)
    max_budgets: int = DEFAULT_MAX_BUDGETS
    lock: threading.RLock = field(default_factory=threading.RLock)


def _store_for(backend: BudgetsBackend) -> _Store:
    store = getattr(backend, _STATE_ATTRIBUTE, None)
    if store is None:
        # Attached lazily: moto's reset() replaces the backend's __dict__, which drops it.
        store = _Store()
        setattr(backend, _STATE_ATTRIBUTE, store)
    assert isinstance(store, _Store)
    return store


def _store(account_id: str, partition: str = "aws") -> _Store:
    return _store_for(budgets_backends[account_id][partition])


def set_calculated_spend(account_id: str, budget_name: str, actual: Decimal, forecasted: Decimal | None = None) -> None:
    """Set the ``CalculatedSpend`` that ``DescribeBudget(s)`` reports for an existing budget.

    ``forecasted=None`` leaves ``ForecastedSpend`` out, as AWS does while it cannot forecast.
    Raises ``KeyError`` if the budget does not exist.
    """
    for amount in (actual, forecasted):
        if amount is not None and not isinstance(amount, Decimal):
            raise TypeError("spend amounts must be Decimal")
    store = _store(account_id)
    with store.lock:
        budget = store.budgets.get(budget_name)
        if budget is None:
            raise KeyError(f"no budget {budget_name!r} in account {account_id}")
        budget.actual_spend = actual
        budget.forecasted_spend = forecasted


def set_max_budgets(limit: int = DEFAULT_MAX_BUDGETS, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
    """Set how many budgets the account may have before ``CreationLimitExceededException``."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    store = _store(account_id)
    with store.lock:
        store.max_budgets = limit


# --------------------------------------------------------------------------- validation


def _render_amount(amount: Decimal) -> str:
    # AWS keeps amounts as doubles and renders them like Java's Double.toString: 100 -> "100.0".
    normalized = amount.normalize()
    if normalized == normalized.to_integral_value():
        return f"{int(normalized)}.0"
    return format(normalized, "f")


def _spend(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidParameter(f"{what} must have an Amount and a Unit.")
    amount, unit = value.get("Amount"), value.get("Unit")
    if not isinstance(amount, str) or not _AMOUNT_PATTERN.match(amount):
        raise InvalidParameter(f"{what} Amount {amount!r} is not a valid non-negative number.")
    if not isinstance(unit, str) or not unit:
        raise InvalidParameter(f"{what} Unit is required.")
    try:
        rendered = _render_amount(Decimal(amount))
    except InvalidOperation:
        raise InvalidParameter(f"{what} Amount {amount!r} is not a valid number.") from None
    return {"Amount": rendered, "Unit": unit}


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 100 or not _NAME_PATTERN.match(name):
        raise InvalidParameter(
            f"Budget name {name!r} is invalid: it must be 1 to 100 characters without ':' or '\\' "
            "and must not contain '/action/'."
        )
    return name


def _month_start(moment: datetime, month: int) -> datetime:
    return moment.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def _default_start(time_unit: str, now: datetime) -> float:
    if time_unit == "DAILY":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elif time_unit == "QUARTERLY":
        start = _month_start(now, 3 * ((now.month - 1) // 3) + 1)
    elif time_unit == "ANNUALLY":
        start = _month_start(now, 1)
    else:
        start = _month_start(now, now.month)
    return start.timestamp()


def _time_period(value: Any, time_unit: str, previous: Mapping[str, Any] | None) -> dict[str, float]:
    if value is None and previous is not None:
        return dict(previous)
    period = value if isinstance(value, dict) else {}
    if value is not None and not isinstance(value, dict):
        raise InvalidParameter("TimePeriod must have a Start and an End.")
    start = period.get("Start")
    end = period.get("End")
    if time_unit == "CUSTOM" and (start is None or end is None):
        raise InvalidParameter("A CUSTOM budget needs a TimePeriod with Start and End.")
    start_value = float(start) if start is not None else _default_start(time_unit, datetime.now(UTC))
    end_value = float(end) if end is not None else float(_DEFAULT_END)
    if start_value >= end_value:
        raise InvalidParameter("The start date of the budget must come before its end date.")
    if end_value > _DEFAULT_END:
        raise InvalidParameter("The end date of the budget must come before 06/15/87 00:00 UTC.")
    return {"Start": start_value, "End": end_value}


def _check_filter_expression(expression: Any) -> None:
    if not isinstance(expression, dict):
        raise InvalidParameter("FilterExpression must be an object.")
    roots = [key for key, value in expression.items() if value is not None]
    if len(roots) != 1:
        raise InvalidParameter("Expression must have exactly one root operator: And, Or, Not, Dimensions, Tags.")
    root = roots[0]
    node = expression[root]
    if root in ("And", "Or"):
        if not isinstance(node, list) or not node:
            raise InvalidParameter(f"{root} must contain at least one expression.")
        for part in node:
            _check_filter_expression(part)
    elif root == "Not":
        _check_filter_expression(node)
    elif root in ("Dimensions", "Tags", "CostCategories"):
        if not isinstance(node, dict):
            raise InvalidParameter(f"{root} must be an object.")
        if "ABSENT" in (node.get("MatchOptions") or []):
            # Both answers recorded from real AWS: ABSENT works in neither form in a budget.
            if node.get("Values"):
                raise InvalidParameter(f"{root} expression must not have values set when ABSENT is provided")
            raise InvalidParameter('Missing required parameter "Values"')
        if not node.get("Values"):
            raise InvalidParameter(f'{root} expression: Missing required parameter "Values"')
    elif root != "ProductAttributes":
        raise InvalidParameter(f"Unknown expression operator {root}.")


def _check_limits(budget: dict[str, Any]) -> None:
    if "BudgetLimit" in budget and "PlannedBudgetLimits" in budget:
        raise InvalidParameter("Only one of BudgetLimit or PlannedBudgetLimits can be present.")
    if "BudgetLimit" in budget:
        budget["BudgetLimit"] = _spend(budget["BudgetLimit"], "BudgetLimit")
    elif "PlannedBudgetLimits" in budget:
        planned = budget["PlannedBudgetLimits"]
        if not isinstance(planned, dict) or not planned:
            raise InvalidParameter("PlannedBudgetLimits must map period starts to limits.")
        budget["PlannedBudgetLimits"] = {key: _spend(value, "PlannedBudgetLimits") for key, value in planned.items()}
    elif budget["BudgetType"] not in ("COST", "USAGE"):
        # Utilisation and coverage budgets are always measured against 100 %.
        budget["BudgetLimit"] = {"Amount": "100.0", "Unit": "PERCENTAGE"}
    elif "AutoAdjustData" not in budget:
        raise InvalidParameter(
            "Unable to create/update budget - please provide one of the followings: "
            "Budget Limit/ Planned Budget Limit/ Auto Adjust Data"
        )


def _check_filters(budget: dict[str, Any]) -> None:
    legacy = [key for key in ("CostFilters", "CostTypes") if key in budget]
    modern = [key for key in ("FilterExpression", "Metrics") if key in budget]
    if legacy and modern:
        raise InvalidParameter(
            f"{' and '.join(legacy)} cannot be combined with {' and '.join(modern)}: use either "
            "FilterExpression and Metrics or CostFilters and CostTypes."
        )
    filters = budget.get("CostFilters")
    if filters is not None and not (
        isinstance(filters, dict)
        and all(isinstance(values, list) and all(isinstance(v, str) for v in values) for values in filters.values())
    ):
        raise InvalidParameter("CostFilters must map filter names to lists of values.")
    if "FilterExpression" in budget:
        _check_filter_expression(budget["FilterExpression"])
    metrics = budget.get("Metrics")
    if metrics is not None and (
        not isinstance(metrics, list) or len(metrics) > 1 or any(m not in _BUDGET_METRICS for m in metrics)
    ):
        raise InvalidParameter(f"Metrics {metrics} is invalid: give at most one valid metric.")
    if budget["BudgetType"] == "COST" and not modern:
        # AWS describes every cost type of a legacy cost budget, filling in the defaults.
        budget["CostTypes"] = {**_DEFAULT_COST_TYPES, **(budget.get("CostTypes") or {})}


def _check_budget(raw: Any, previous: _Budget | None) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidParameter("Budget is required.")
    budget = {key: value for key, value in raw.items() if key not in _SERVER_FIELDS and value is not None}
    _check_name(budget.get("BudgetName"))
    if budget.get("BudgetType") not in _BUDGET_TYPES:
        raise InvalidParameter(f"BudgetType {budget.get('BudgetType')} is invalid.")
    time_unit = budget.get("TimeUnit")
    if time_unit not in _TIME_UNITS:
        raise InvalidParameter(f"TimeUnit {time_unit} is invalid.")
    _check_limits(budget)
    _check_filters(budget)
    budget["TimePeriod"] = _time_period(
        budget.get("TimePeriod"), str(time_unit), previous.data.get("TimePeriod") if previous else None
    )
    budget["LastUpdatedTime"] = datetime.now(UTC).timestamp()
    return budget


def _notification(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidParameter("Notification is required.")
    notification_type = raw.get("NotificationType")
    operator = raw.get("ComparisonOperator")
    threshold = raw.get("Threshold")
    threshold_type = raw.get("ThresholdType") or "PERCENTAGE"
    if notification_type not in ("ACTUAL", "FORECASTED"):
        raise InvalidParameter(f"NotificationType {notification_type} is invalid.")
    if operator not in ("GREATER_THAN", "LESS_THAN", "EQUAL_TO"):
        raise InvalidParameter(f"ComparisonOperator {operator} is invalid.")
    if threshold_type not in ("PERCENTAGE", "ABSOLUTE_VALUE"):
        raise InvalidParameter(f"ThresholdType {threshold_type} is invalid.")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 15e12:
        raise InvalidParameter(f"Threshold {threshold} is invalid.")
    return {
        "NotificationType": notification_type,
        "ComparisonOperator": operator,
        "Threshold": float(threshold),
        "ThresholdType": threshold_type,
        "NotificationState": raw.get("NotificationState") or "OK",
    }


def _notification_key(details: Mapping[str, Any]) -> tuple[str, str, float, str]:
    # NotificationState is AWS's to set; a notification is identified by the other four fields.
    return (
        str(details.get("NotificationType")),
        str(details.get("ComparisonOperator")),
        float(details.get("Threshold") or 0),
        str(details.get("ThresholdType") or "PERCENTAGE"),
    )


def _subscriber(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise InvalidParameter("Subscriber must have a SubscriptionType and an Address.")
    kind, address = raw.get("SubscriptionType"), raw.get("Address")
    if not isinstance(address, str) or not address or "\n" in address or "\r" in address:
        raise InvalidParameter("Subscriber Address is required and must not contain line breaks.")
    if kind == "SNS":
        if not _SNS_ARN_PATTERN.match(address):
            raise InvalidParameter(f"Subscriber address {address} is not a valid SNS topic ARN.")
    elif kind == "EMAIL":
        if not _EMAIL_PATTERN.match(address):
            raise InvalidParameter(f"Subscriber address {address} is not a valid email address.")
    else:
        raise InvalidParameter(f"SubscriptionType {kind} is invalid.")
    return {"SubscriptionType": kind, "Address": address}


def _check_subscriber_limits(subscribers: list[dict[str, str]]) -> None:
    seen: set[tuple[str, str]] = set()
    for subscriber in subscribers:
        identity = (subscriber["SubscriptionType"], subscriber["Address"])
        if identity in seen:
            raise DuplicateRecord(
                f"Error creating subscriber: {subscriber['Address']} - the subscriber already exists."
            )
        seen.add(identity)
    for kind, limit in (("SNS", _MAX_SNS_SUBSCRIBERS), ("EMAIL", _MAX_EMAIL_SUBSCRIBERS)):
        if sum(1 for s in subscribers if s["SubscriptionType"] == kind) > limit:
            # The wording is AWS's own, grammar included.
            raise CreationLimitExceeded(f"one notification can only have {limit} subscribers with type of {kind}")


def _subscribers(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise InvalidParameter("A notification needs at least one subscriber.")
    subscribers = [_subscriber(item) for item in raw]
    _check_subscriber_limits(subscribers)
    return subscribers


def _tags(raw: Any) -> dict[str, str]:
    if not isinstance(raw, list):
        raise InvalidParameter("ResourceTags must be a list.")
    tags: dict[str, str] = {}
    for tag in raw:
        key = tag.get("Key") if isinstance(tag, dict) else None
        value = tag.get("Value") if isinstance(tag, dict) else None
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or key.startswith("aws:"):
            raise InvalidParameter(f"Tag key {key!r} is invalid.")
        if not isinstance(value, str) or len(value) > 256:
            raise InvalidParameter(f"Tag value of {key!r} is invalid.")
        tags[key] = value
    return tags


# --------------------------------------------------------------------------- paging


def _page(
    items: list[Any], params: Mapping[str, Any], default_size: int, max_size: int
) -> tuple[list[Any], str | None]:
    size = params.get("MaxResults", default_size)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= max_size:
        raise InvalidParameter(f"MaxResults must be between 1 and {max_size}.")
    token = params.get("NextToken")
    offset = 0
    if token:
        try:
            offset = int(json.loads(base64.urlsafe_b64decode(str(token).encode()))["offset"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise InvalidNextToken("The pagination token is invalid.") from None
    page = items[offset : offset + size]
    more = offset + size < len(items)
    next_token = base64.urlsafe_b64encode(json.dumps({"offset": offset + size}).encode()).decode() if more else None
    return page, next_token


# --------------------------------------------------------------------------- operations


@dataclass
class _Call:
    """One request: its parameters, the caller's account and the caller's budget store."""

    params: dict[str, Any]
    account_id: str
    partition: str
    store: _Store

    def check_account(self) -> None:
        account = self.params.get("AccountId")
        if not isinstance(account, str) or not _ACCOUNT_PATTERN.match(account):
            raise InvalidParameter(f"AccountId {account!r} is invalid: it must be 12 digits.")
        if account != self.account_id:
            raise AccessDenied(
                f"Account {self.account_id} is not authorized to access the budgets of account {account}."
            )

    def budget(self, action: str, name: Any = None) -> _Budget:
        budget_name = _check_name(self.params.get("BudgetName") if name is None else name)
        budget = self.store.budgets.get(budget_name)
        if budget is None:
            raise NotFound(f"Unable to {action}: {budget_name} - the budget doesn't exist.")
        return budget

    def notification(self, budget: _Budget, raw: Any, action: str) -> _Notification:
        found = budget.find_notification(_notification(raw))
        if found is None:
            raise NotFound(f"Unable to {action} - the notification doesn't exist in budget {budget.name}.")
        return found

    def budget_from_arn(self) -> _Budget:
        arn = self.params.get("ResourceARN")
        match = _BUDGET_ARN_PATTERN.match(arn) if isinstance(arn, str) else None
        if match is None:
            raise InvalidParameter(f"ResourceARN {arn!r} is not a budget ARN.")
        partition, account, name = match.groups()
        budget = self.store.budgets.get(name)
        if partition != self.partition or account != self.account_id or budget is None:
            raise NotFound(f"Unable to find resource {arn}.")
        return budget


def create_budget(call: _Call) -> dict[str, Any]:
    call.check_account()
    data = _check_budget(call.params.get("Budget"), None)
    notifications: list[_Notification] = []
    for entry in call.params.get("NotificationsWithSubscribers") or []:
        if not isinstance(entry, dict):
            raise InvalidParameter("NotificationsWithSubscribers entries need a Notification and Subscribers.")
        details = _notification(entry.get("Notification"))
        if any(n.matches(_notification_key(details)) for n in notifications):
            raise DuplicateRecord(
                f"Error creating notification: {data['BudgetName']} - the notification already exists."
            )
        notifications.append(_Notification(details, _subscribers(entry.get("Subscribers"))))
    if len(notifications) > _MAX_NOTIFICATIONS:
        raise CreationLimitExceeded(f"A budget can have at most {_MAX_NOTIFICATIONS} notifications.")
    tags = _tags(call.params.get("ResourceTags") or [])
    if len(tags) > _MAX_TAGS:
        raise ServiceQuotaExceeded(f"A budget can have at most {_MAX_TAGS} tags.")
    name = str(data["BudgetName"])
    if name in call.store.budgets:
        raise DuplicateRecord(f"Error creating budget: {name} - the budget already exists.")
    if len(call.store.budgets) >= call.store.max_budgets:
        raise CreationLimitExceeded(f"You have reached the limit of {call.store.max_budgets} budgets for this account.")
    call.store.budgets[name] = _Budget(data=data, notifications=notifications, tags=tags)
    return {}


def update_budget(call: _Call) -> dict[str, Any]:
    call.check_account()
    raw = call.params.get("NewBudget")
    name = raw.get("BudgetName") if isinstance(raw, dict) else None
    budget = call.budget("update budget", name)
    budget.data = _check_budget(raw, budget)
    # AWS: after an update the spend drops to zero until new usage data has been processed.
    budget.actual_spend = Decimal(0)
    budget.forecasted_spend = Decimal(0)
    return {}


def describe_budget(call: _Call) -> dict[str, Any]:
    call.check_account()
    budget = call.budget("get budget")
    return {"Budget": budget.describe(bool(call.params.get("ShowFilterExpression")))}


def describe_budgets(call: _Call) -> dict[str, Any]:
    call.check_account()
    show = bool(call.params.get("ShowFilterExpression"))
    budgets = [budget.describe(show) for budget in call.store.budgets.values()]
    page, token = _page(budgets, call.params, 100, 1000)
    response: dict[str, Any] = {"Budgets": page}
    if token:
        response["NextToken"] = token
    return response


def delete_budget(call: _Call) -> dict[str, Any]:
    call.check_account()
    budget = call.budget("delete budget")
    del call.store.budgets[budget.name]
    return {}


def create_notification(call: _Call) -> dict[str, Any]:
    call.check_account()
    budget = call.budget("create notification")
    details = _notification(call.params.get("Notification"))
    subscribers = _subscribers(call.params.get("Subscribers"))
    if budget.find_notification(details) is not None:
        raise DuplicateRecord(f"Error creating notification: {budget.name} - the notification already exists.")
    if len(budget.notifications) >= _MAX_NOTIFICATIONS:
        raise CreationLimitExceeded(f"A budget can have at most {_MAX_NOTIFICATIONS} notifications.")
    budget.notifications.append(_Notification(details, subscribers))
    return {}


def update_notification(call: _Call) -> dict[str, Any]:
    call.check_account()
    budget = call.budget("update notification")
    existing = call.notification(budget, call.params.get("OldNotification"), "update notification")
    new_details = _notification(call.params.get("NewNotification"))
    clash = budget.find_notification(new_details)
    if clash is not None and clash is not existing:
        raise DuplicateRecord(f"Error updating notification: {budget.name} - the notification already exists.")
    existing.details = new_details
    return {}


def delete_notification(call: _Call) -> dict[str, Any]:
    call.check_account()
    budget = call.budget("delete notification")
    existing = call.notification(budget, call.params.get("Notification"), "delete notification")
    budget.notifications.remove(existing)
    return {}


def describe_notifications_for_budget(call: _Call) -> dict[str, Any]:
    call.check_account()
    budget = call.budget("describe notifications")
    page, token = _page([dict(n.details) for n in budget.notifications], call.params, 100, 100)
    response: dict[str, Any] = {"Notifications": page}
    if token:
        response["NextToken"] = token
    return response


def describe_budget_notifications_for_account(call: _Call) -> dict[str, Any]:
    call.check_account()
    entries = [
        {"BudgetName": budget.name, "Notifications": [dict(n.details) for n in budget.notifications]}
        for budget in call.store.budgets.values()
        if budget.notifications
    ]
    page, token = _page(entries, call.params, 50, 1000)
    response: dict[str, Any] = {"BudgetNotificationsForAccount": page}
    if token:
        response["NextToken"] = token
    return response


def create_subscriber(call: _Call) -> dict[str, Any]:
    call.check_account()
    budget = call.budget("create subscriber")
    notification = call.notification(budget, call.params.get("Notification"), "create subscriber")
    subscriber = _subscriber(call.params.get("Subscriber"))
    _check_subscriber_limits([*notification.subscribers, subscriber])
    notification.subscribers.append(subscriber)
    return {}


def update_subscriber(call: _Call) -> dict[str, Any]:
    call.check_account()
    budget = call.budget("update subscriber")
    notification = call.notification(budget, call.params.get("Notification"), "update subscriber")
    old = _subscriber(call.params.get("OldSubscriber"))
    new = _subscriber(call.params.get("NewSubscriber"))
    if old not in notification.subscribers:
        raise NotFound(f"Unable to update subscriber: {old['Address']} - the subscriber doesn't exist.")
    if new != old and new in notification.subscribers:
        raise DuplicateRecord(f"Error updating subscriber: {new['Address']} - the subscriber already exists.")
    updated = [new if subscriber == old else subscriber for subscriber in notification.subscribers]
    _check_subscriber_limits(updated)
    notification.subscribers = updated
    return {}


def delete_subscriber(call: _Call) -> dict[str, Any]:
    call.check_account()
    budget = call.budget("delete subscriber")
    notification = call.notification(budget, call.params.get("Notification"), "delete subscriber")
    subscriber = _subscriber(call.params.get("Subscriber"))
    if subscriber not in notification.subscribers:
        raise NotFound(f"Unable to delete subscriber: {subscriber['Address']} - the subscriber doesn't exist.")
    notification.subscribers.remove(subscriber)
    if not notification.subscribers:
        # AWS: deleting the last subscriber of a notification deletes the notification.
        budget.notifications.remove(notification)
    return {}


def describe_subscribers_for_notification(call: _Call) -> dict[str, Any]:
    call.check_account()
    budget = call.budget("describe subscribers")
    notification = call.notification(budget, call.params.get("Notification"), "describe subscribers")
    page, token = _page([dict(s) for s in notification.subscribers], call.params, 100, 100)
    response: dict[str, Any] = {"Subscribers": page}
    if token:
        response["NextToken"] = token
    return response


def tag_resource(call: _Call) -> dict[str, Any]:
    budget = call.budget_from_arn()
    tags = _tags(call.params.get("ResourceTags"))
    if len({**budget.tags, **tags}) > _MAX_TAGS:
        raise ServiceQuotaExceeded(f"A budget can have at most {_MAX_TAGS} tags.")
    budget.tags.update(tags)
    return {}


def untag_resource(call: _Call) -> dict[str, Any]:
    budget = call.budget_from_arn()
    keys = call.params.get("ResourceTagKeys")
    if not isinstance(keys, list):
        raise InvalidParameter("ResourceTagKeys must be a list.")
    for key in keys:
        budget.tags.pop(key, None)
    return {}


def list_tags_for_resource(call: _Call) -> dict[str, Any]:
    budget = call.budget_from_arn()
    return {"ResourceTags": [{"Key": key, "Value": value} for key, value in budget.tags.items()]}


# --------------------------------------------------------------------------- moto wiring

_Handler = Callable[[_Call], dict[str, Any]]
_OPERATIONS: Final[tuple[_Handler, ...]] = (
    create_budget,
    update_budget,
    describe_budget,
    describe_budgets,
    delete_budget,
    create_notification,
    update_notification,
    delete_notification,
    describe_notifications_for_budget,
    describe_budget_notifications_for_account,
    create_subscriber,
    update_subscriber,
    delete_subscriber,
    describe_subscribers_for_notification,
    tag_resource,
    untag_resource,
    list_tags_for_resource,
)
_install_lock = threading.Lock()


def _endpoint(handler: _Handler) -> Callable[[BudgetsResponse], str]:
    def endpoint(self: BudgetsResponse) -> str:
        try:
            params = json.loads(self.body or "{}")
        except ValueError:
            raise InvalidParameter("The request body is not valid JSON.") from None
        if not isinstance(params, dict):
            raise InvalidParameter("The request body must be a JSON object.")
        store = _store_for(self.backend)
        with store.lock:
            return json.dumps(handler(_Call(params, self.current_account, self.partition, store)))

    endpoint.__name__ = handler.__name__
    return endpoint


def install() -> None:
    """Route moto's budget operations to this implementation. Idempotent."""
    with _install_lock:
        for handler in _OPERATIONS:
            current = getattr(BudgetsResponse, handler.__name__, None)
            if getattr(current, "_embedded_aws", False):
                continue
            endpoint = _endpoint(handler)
            endpoint._embedded_aws = True  # type: ignore[attr-defined]
            # moto looks actions up by method name on the response class at call time.
            setattr(BudgetsResponse, handler.__name__, endpoint)
