"""AWS Budgets as a reconciling function meets it: moto's budget operations, completed and corrected.

moto 5.2.5 stores budgets and notifications but has no ``UpdateBudget``, ``UpdateNotification`` or
subscriber operations, no tags, no paging, no validation, and it ignores a missing notification on
delete. Since nearly every operation needed a fix, this extension answers all budget operations
itself, keeping its state on moto's budgets backend of the calling account (so ``mock_aws`` and
``/moto-api/reset`` clear it, and a ``ThreadedMotoServer`` in the same process shares it).

Behaviour taken from AWS (see docs/aws-behaviour.md):

* ``BudgetLimit.Amount`` comes back normalised the way AWS renders it: ``"100"`` is described as
  ``"100.0"``, ``"12.50"`` as ``"12.5"``. Compare amounts as decimals, never as strings.
* ``FilterExpression`` is only described when the request sets ``ShowFilterExpression=True``.
* ``UpdateBudget`` replaces the whole budget except its name, keeps notifications and tags, and
  recomputes ``CalculatedSpend`` (AWS drops it to zero until it has reprocessed the usage data;
  here the ledger is the processed data, so the new figures are there at once). An update also
  discards a value set with :func:`set_calculated_spend`.
* A notification has at most 1 SNS and 10 e-mail subscribers (``CreationLimitExceededException``);
  a budget has at most 10 notifications; deleting the last subscriber deletes the notification.
* ``AccountId`` must be the caller's own account (``AccessDeniedException`` otherwise).

``CalculatedSpend`` of a ``COST`` budget is computed from the embedded Cost Explorer's ledger of the
same account (see :mod:`embedded_aws.costexplorer`), the data AWS Budgets reads too:

* **Period**: the calendar month (``MONTHLY``), quarter (``QUARTERLY``), year (``ANNUALLY``) or day
  (``DAILY``) containing *today*, or the budget's own ``TimePeriod`` (``CUSTOM``), clipped to the
  budget's ``TimePeriod``. *Today* is the real UTC date unless :func:`set_budget_clock` pins one.
* **Data**: ledger rows from the period start up to *yesterday*: cost data lags about a day, so
  today's rows are not in yet. (A ``DAILY`` budget therefore always reports zero.)
* **ActualSpend** = sum of the budget's metric over those rows that match its filter. The metric is
  ``Metrics[0]`` for a ``FilterExpression`` budget (default ``UnblendedCost``); for a legacy budget
  ``AmortizedCost`` if ``CostTypes.UseAmortized``, ``BlendedCost`` if ``CostTypes.UseBlended``, else
  ``UnblendedCost``, and rows of record type ``Tax``/``Credit``/``Refund`` drop out when
  ``IncludeTax``/``IncludeCredit``/``IncludeRefund`` is false (the other cost types are not
  modelled). Tags count only while their key is an active cost allocation tag, as in Cost Explorer.
* **ForecastedSpend** = ``ActualSpend × period days ÷ elapsed days`` (elapsed days = period start up
  to yesterday), rounded to 10 decimal places: a straight-line projection of the average daily
  spend so far to the end of the period. Before the period has a day of data both are zero.
  AWS's forecasting model is not public; this is only meant to be simple and predictable.
* Filters are translated to one Cost Explorer ``Expression`` (:func:`_ledger_expression`) and
  evaluated by the Cost Explorer extension's own filter compiler
  (:func:`embedded_aws.costexplorer.select_rows`). Legacy ``CostFilters`` keys map to dimensions
  (``Service`` -> ``SERVICE``, ...); ``TagKeyValue: ["user:Project$ProjectA"]`` becomes the tag
  ``Project`` = ``ProjectA``. A ``FilterExpression`` ``Tags`` key is taken as the cost allocation tag
  key as Cost Explorer spells it (``Project``, no ``user:``), so it passes through unchanged: that
  is unverified against AWS, and the convention is documented (and would change) in one place,
  :func:`_ledger_tag_key`.
* A figure set with :func:`set_calculated_spend` overrides the computed one for that budget.
  Budgets of another type, with a metric the ledger cannot answer (``UsageQuantity``,
  ``NormalizedUsageAmount``, ``Hours``) or with a filter the ledger cannot evaluate (dimensions it
  does not track, cost categories) report zero unless overridden.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Final

from moto.budgets.models import BudgetsBackend, budgets_backends
from moto.budgets.responses import BudgetsResponse
from moto.core.exceptions import JsonRESTError
from moto.core.models import DEFAULT_ACCOUNT_ID

from embedded_aws.costexplorer import CostRow, select_rows

__all__ = ["DEFAULT_MAX_BUDGETS", "install", "set_budget_clock", "set_calculated_spend", "set_max_budgets"]

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
# Budget metrics the Cost Explorer ledger can sum for a COST budget.
_LEDGER_COST_METRICS: Final = frozenset(
    ("UnblendedCost", "BlendedCost", "AmortizedCost", "NetUnblendedCost", "NetAmortizedCost")
)
# Legacy CostFilters keys as the Budgets API documents them, and the Cost Explorer dimension each
# one filters on. TagKeyValue and CostCategory carry "key$value" pairs and are translated apart.
_LEGACY_DIMENSIONS: Final[Mapping[str, str]] = {
    "AZ": "AZ",
    "BillingEntity": "BILLING_ENTITY",
    "InstanceType": "INSTANCE_TYPE",
    "InvoicingEntity": "INVOICING_ENTITY",
    "LegalEntityName": "LEGAL_ENTITY_NAME",
    "LinkedAccount": "LINKED_ACCOUNT",
    "Operation": "OPERATION",
    "PurchaseType": "PURCHASE_TYPE",
    "Region": "REGION",
    "Service": "SERVICE",
    "UsageType": "USAGE_TYPE",
    "UsageTypeGroup": "USAGE_TYPE_GROUP",
}
_LEGACY_TAG_FILTER: Final = "TagKeyValue"
_LEGACY_COST_CATEGORY_FILTER: Final = "CostCategory"
# In legacy CostFilters a user-defined tag key carries this prefix; AWS-generated keys keep their own
# "aws:" prefix, which is part of the key in Cost Explorer too.
_LEGACY_USER_TAG_PREFIX: Final = "user:"
_AWS_TAG_PREFIX: Final = "aws:"
# CostTypes switches that, when false, leave a Cost Explorer RECORD_TYPE out of a legacy budget.
_COST_TYPE_RECORD_TYPES: Final[Mapping[str, str]] = {
    "IncludeTax": "Tax",
    "IncludeCredit": "Credit",
    "IncludeRefund": "Refund",
}
_FORECAST_QUANTUM: Final = Decimal("1E-10")
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


@dataclass(frozen=True)
class _Spend:
    actual: Decimal
    # None: ForecastedSpend is left out, as AWS does while it cannot forecast.
    forecasted: Decimal | None


_NO_SPEND: Final = _Spend(Decimal(0), Decimal(0))


@dataclass
class _Budget:
    data: dict[str, Any]
    notifications: list[_Notification] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    # Set by set_calculated_spend; None: computed from the Cost Explorer ledger on every describe.
    spend_override: _Spend | None = None

    @property
    def name(self) -> str:
        return str(self.data["BudgetName"])

    def find_notification(self, details: Mapping[str, Any]) -> _Notification | None:
        key = _notification_key(details)
        return next((n for n in self.notifications if n.matches(key)), None)

    def describe(self, show_filter_expression: bool, account_id: str, partition: str) -> dict[str, Any]:
        described: dict[str, Any] = json.loads(json.dumps(self.data))
        if not show_filter_expression:
            described.pop("FilterExpression", None)
        unit = str((self.data.get("BudgetLimit") or {}).get("Unit", "USD"))
        computed = self.spend_override or _calculated_spend(self.data, account_id, partition, _today())
        spend: dict[str, Any] = {"ActualSpend": {"Amount": _render_amount(computed.actual), "Unit": unit}}
        if computed.forecasted is not None:
            spend["ForecastedSpend"] = {"Amount": _render_amount(computed.forecasted), "Unit": unit}
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
    if not isinstance(store, _Store):
        raise TypeError(f"the budgets backend holds a {type(store).__name__} where the embedded store belongs")
    return store


def _store(account_id: str, partition: str = "aws") -> _Store:
    return _store_for(budgets_backends[account_id][partition])


def set_calculated_spend(account_id: str, budget_name: str, actual: Decimal, forecasted: Decimal | None = None) -> None:
    """Set the ``CalculatedSpend`` that ``DescribeBudget(s)`` reports for an existing budget.

    The value overrides the one computed from the Cost Explorer ledger until the budget is updated
    or deleted. ``forecasted=None`` leaves ``ForecastedSpend`` out, as AWS does while it cannot
    forecast. Raises ``KeyError`` if the budget does not exist.
    """
    for amount in (actual, forecasted):
        if amount is not None and not isinstance(amount, Decimal):
            raise TypeError("spend amounts must be Decimal")
    store = _store(account_id)
    with store.lock:
        budget = store.budgets.get(budget_name)
        if budget is None:
            raise KeyError(f"no budget {budget_name!r} in account {account_id}")
        budget.spend_override = _Spend(actual, forecasted)


# The date the embedded Budgets takes for "today"; None: the real UTC date. Process-wide on purpose:
# a simulated date must hold for a moto server thread as much as for the test thread.
_clock_today: date | None = None


def set_budget_clock(today: date | None) -> None:
    """Pin the (UTC) date the embedded Budgets computes spend and default start dates for.

    ``None`` returns to the real date. The setting is process-wide and survives ``mock_aws``
    resets: a test that pins it must unpin it (``set_budget_clock(None)``) when it is done.
    Only Budgets reads it: a tag key activated through ``UpdateCostAllocationTagsStatus`` still
    counts from the real day of activation, so a simulation of a past date should declare its keys
    with :func:`embedded_aws.costexplorer.set_cost_allocation_tags` instead.
    """
    global _clock_today  # noqa: PLW0603 - one process-wide clock, read by every request thread
    if today is not None and (isinstance(today, datetime) or not isinstance(today, date)):
        raise TypeError("set_budget_clock takes a datetime.date or None")
    _clock_today = today


def _today() -> date:
    pinned = _clock_today
    return pinned if pinned is not None else datetime.now(UTC).date()


def _now() -> datetime:
    pinned = _clock_today
    if pinned is None:
        return datetime.now(UTC)
    # Midnight of the pinned day: only the date matters to the callers (default period starts).
    return datetime(pinned.year, pinned.month, pinned.day, tzinfo=UTC)


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
    start_value = float(start) if start is not None else _default_start(time_unit, _now())
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


# --------------------------------------------------------------------------- spend


class _MatchesNothing(Exception):
    """A legacy filter that can select no cost at all (a tag value without its ``user:`` prefix)."""


class _Unevaluable(Exception):
    """A budget whose spend the ledger cannot compute (metric, filter key or period)."""


def _utc_date(timestamp: Any) -> date:
    return datetime.fromtimestamp(float(timestamp), UTC).date()


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _current_period(data: Mapping[str, Any], today: date) -> tuple[date, date]:
    """The budget period containing ``today`` as ``[start, end)`` dates, clipped to ``TimePeriod``."""
    time_unit = data.get("TimeUnit")
    period = data.get("TimePeriod") or {}
    budget_start = _utc_date(period.get("Start", 0))
    budget_end = _utc_date(period.get("End", _DEFAULT_END))
    if time_unit == "DAILY":
        start, end = today, today + timedelta(days=1)
    elif time_unit == "MONTHLY":
        start = today.replace(day=1)
        end = _add_months(start, 1)
    elif time_unit == "QUARTERLY":
        start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        end = _add_months(start, 3)
    elif time_unit == "ANNUALLY":
        start, end = date(today.year, 1, 1), date(today.year + 1, 1, 1)
    elif time_unit == "CUSTOM":
        start, end = budget_start, budget_end
    else:
        raise _Unevaluable(f"TimeUnit {time_unit}")
    return max(start, budget_start), min(end, budget_end)


def _budget_metric(data: Mapping[str, Any]) -> str:
    metrics = data.get("Metrics")
    if metrics:
        metric = str(metrics[0])
    else:
        cost_types = data.get("CostTypes") or {}
        # UseAmortized and UseBlended both default to false: unblended cost, AWS's default.
        if cost_types.get("UseAmortized"):
            metric = "AmortizedCost"
        elif cost_types.get("UseBlended"):
            metric = "BlendedCost"
        else:
            metric = "UnblendedCost"
    if metric not in _LEDGER_COST_METRICS:
        raise _Unevaluable(f"metric {metric}")
    return metric


def _ledger_tag_key(legacy_key: str) -> str:
    """The Cost Explorer tag key a legacy ``TagKeyValue`` key stands for.

    Legacy filters spell a user-defined key ``user:Project``; Cost Explorer (``Tags`` filters,
    ``ListCostAllocationTags``) spells it ``Project``. A Budgets ``FilterExpression`` ``Tags`` key is
    taken to be the cost allocation tag key as Cost Explorer spells it (``Project``), so it passes
    through unchanged; AWS does not document this (unverified, see docs/aws-behaviour.md), and a
    ``FilterExpression`` key ``user:Project`` therefore names another, unknown tag and counts
    nothing, exactly as in a Cost Explorer filter. Change the convention here if AWS proves
    otherwise.
    """
    if legacy_key.startswith(_LEGACY_USER_TAG_PREFIX):
        return legacy_key.removeprefix(_LEGACY_USER_TAG_PREFIX)
    if legacy_key.startswith(_AWS_TAG_PREFIX):
        return legacy_key
    # AWS requires the prefix: without it the value names no cost allocation tag.
    raise _MatchesNothing(legacy_key)


def _key_value_pairs(values: Sequence[str], key_of: Callable[[str], str]) -> dict[str, list[str]]:
    """``["user:Project$A", "user:Project$B"]`` -> ``{"Project": ["A", "B"]}``; an empty value
    (``"user:Project$"``) means cost without the tag, as the ``Project$`` group of Cost Explorer."""
    pairs: dict[str, list[str]] = {}
    for item in values:
        raw_key, separator, value = item.partition("$")
        if not separator:
            continue
        try:
            key = key_of(raw_key)
        except _MatchesNothing:
            continue
        pairs.setdefault(key, []).append(value)
    if not pairs:
        raise _MatchesNothing(", ".join(values))
    return pairs


def _any_of(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"Or": parts}


def _legacy_expression(cost_filters: Mapping[str, Sequence[str]]) -> dict[str, Any] | None:
    """Legacy ``CostFilters`` as a Cost Explorer ``Expression``: filter keys ANDed, the values of
    one key ORed. None: no filter, all cost counts."""
    parts: list[dict[str, Any]] = []
    for name, values in cost_filters.items():
        if not values:
            continue
        if name == _LEGACY_TAG_FILTER:
            pairs = _key_value_pairs(values, _ledger_tag_key)
            parts.append(_any_of([{"Tags": {"Key": key, "Values": vals}} for key, vals in pairs.items()]))
        elif name == _LEGACY_COST_CATEGORY_FILTER:
            # Cost category names need no translation; the ledger has none, which the compiler reports.
            pairs = _key_value_pairs(values, lambda key: key)
            parts.append(_any_of([{"CostCategories": {"Key": key, "Values": vals}} for key, vals in pairs.items()]))
        elif name in _LEGACY_DIMENSIONS:
            parts.append({"Dimensions": {"Key": _LEGACY_DIMENSIONS[name], "Values": list(values)}})
        else:
            raise _Unevaluable(f"CostFilters key {name}")
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"And": parts}


def _ledger_expression(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The budget's filter as a Cost Explorer ``Expression`` (None: no filter)."""
    if "FilterExpression" in data:
        # Same structure as Cost Explorer's, tag keys included (see _ledger_tag_key).
        expression: dict[str, Any] = data["FilterExpression"]
        return expression
    return _legacy_expression(data.get("CostFilters") or {})


def _counts(row: CostRow, data: Mapping[str, Any]) -> bool:
    """Whether the legacy ``CostTypes`` of the budget let the row's record type count."""
    cost_types = data.get("CostTypes") or {}
    return not any(
        cost_types.get(switch) is False and row.record_type == record_type
        for switch, record_type in _COST_TYPE_RECORD_TYPES.items()
    )


def _calculated_spend(data: Mapping[str, Any], account_id: str, partition: str, today: date) -> _Spend:
    """``CalculatedSpend`` of a budget from the Cost Explorer ledger (module docstring: formulas)."""
    if data.get("BudgetType") != "COST":
        return _NO_SPEND
    try:
        metric = _budget_metric(data)
        start, end = _current_period(data, today)
        # Rows up to yesterday: today's cost has not reached the data yet.
        data_end = min(today, end)
        if data_end <= start:
            return _NO_SPEND
        expression = _ledger_expression(data)
        rows = select_rows(account_id, start, data_end, expression, partition)
    except _MatchesNothing:
        return _NO_SPEND
    except (_Unevaluable, JsonRESTError):
        # JsonRESTError: Cost Explorer's compiler refused the filter (an untracked dimension, cost
        # categories). AWS would compute a figure; the ledger has none to give. Zero rather than an
        # error, so one such budget does not break DescribeBudgets for every reader.
        return _NO_SPEND
    actual = sum((row.metric(metric) for row in rows if _counts(row, data)), Decimal(0))
    elapsed_days = (data_end - start).days
    period_days = (end - start).days
    forecasted = (actual * period_days / elapsed_days).quantize(_FORECAST_QUANTUM, rounding=ROUND_HALF_EVEN)
    return _Spend(actual, forecasted)


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
    # AWS recomputes the spend of an updated budget from the usage data; a figure pinned by hand
    # belonged to the old definition.
    budget.spend_override = None
    return {}


def describe_budget(call: _Call) -> dict[str, Any]:
    call.check_account()
    budget = call.budget("get budget")
    return {"Budget": budget.describe(bool(call.params.get("ShowFilterExpression")), call.account_id, call.partition)}


def describe_budgets(call: _Call) -> dict[str, Any]:
    call.check_account()
    show = bool(call.params.get("ShowFilterExpression"))
    # Page first: each description sums the ledger, so describe only the budgets on this page.
    page, token = _page(list(call.store.budgets.values()), call.params, 100, 1000)
    response: dict[str, Any] = {"Budgets": [budget.describe(show, call.account_id, call.partition) for budget in page]}
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
