"""Cost Explorer that answers from a seeded ledger instead of moto's canned-result queue.

moto 5.2.5 only replays results queued through ``/moto-api/static/ce/cost-and-usage-results``;
it aggregates nothing. This extension replaces ``GetCostAndUsage`` and adds ``GetDimensionValues``,
``GetTags``, ``ListCostAllocationTags`` and ``UpdateCostAllocationTagsStatus``, all computed from
rows that a test seeds with :func:`seed_ledger`.

State lives on moto's Cost Explorer backend of the account (one per account and partition), so
``mock_aws`` and the ``/moto-api/reset`` endpoint wipe it like any other moto state, and a
``ThreadedMotoServer`` in the same process sees what a test seeded. Seed *inside* the
``embedded_aws()`` context: starting the mock resets every backend.

Behaviour taken from AWS (see docs/aws-behaviour.md):

* A management account sees the cost of every account of its organization (each member's rows,
  with that member as ``LINKED_ACCOUNT``) and its tag statuses apply to them all; a member account
  sees only its own rows, grouped by the management account's active tags, and may neither list
  nor change cost allocation tags.
* ``End`` is exclusive; MONTHLY buckets are calendar months clipped to the period.
* Tags only count while their key is an *active* cost allocation tag. Keys activated through
  ``UpdateCostAllocationTagsStatus`` count from the UTC day of activation on (activation is not
  retroactive); keys declared with :func:`set_cost_allocation_tags` count for the whole ledger,
  as if backfilled.
* A tag with an empty value is the same as no tag: both group under ``Key$``.
* Grouped answers fill ``Groups`` and leave ``Total`` empty; ungrouped answers the reverse.
* Grouped answers are paged by :data:`PAGE_SIZE` groups; a time period can continue on the next
  page, so callers must merge pages by ``TimePeriod``.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from moto.ce.models import CostExplorerBackend, ce_backends
from moto.ce.responses import CostExplorerResponse
from moto.core.exceptions import JsonRESTError
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.organizations.models import organizations_backends

__all__ = [
    "DIMENSION_PAGE_SIZE",
    "PAGE_SIZE",
    "CostRow",
    "clear_ledger",
    "install",
    "seed_ledger",
    "select_rows",
    "set_cost_allocation_tags",
    "set_data_unavailable",
    "set_member_account",
]

#: Groups (or ungrouped time periods) per ``GetCostAndUsage`` page. AWS does not document its
#: page size; tests lower this (``monkeypatch.setattr``) to exercise ``NextPageToken``.
PAGE_SIZE: int = 500
#: Values per ``GetDimensionValues`` / ``GetTags`` page. Undocumented too; 1000 is AWS's MaxResults cap.
DIMENSION_PAGE_SIZE: int = 1000

_COST_METRICS: Final = ("UnblendedCost", "BlendedCost", "AmortizedCost", "NetUnblendedCost", "NetAmortizedCost")
_USAGE_METRIC: Final = "UsageQuantity"
_SUPPORTED_METRICS: Final = frozenset((*_COST_METRICS, _USAGE_METRIC))
# Valid in AWS, but the ledger has nothing to answer them with.
_UNSUPPORTED_METRICS: Final = frozenset(
    (
        "NormalizedUsageAmount",
        "BilledCost",
        "ContractedCost",
        "ListCost",
        "PublicEquivalentBilledCost",
        "PublicOnDemandCost",
    )
)
_LEDGER_DIMENSIONS: Final = frozenset(("SERVICE", "USAGE_TYPE", "REGION", "LINKED_ACCOUNT", "RECORD_TYPE"))
# The Dimension enum of the service model: valid names the ledger does not track.
_AWS_DIMENSIONS: Final = frozenset(
    (
        "AZ",
        "INSTANCE_TYPE",
        "LINKED_ACCOUNT",
        "PAYER_ACCOUNT",
        "LINKED_ACCOUNT_NAME",
        "OPERATION",
        "PURCHASE_TYPE",
        "REGION",
        "SERVICE",
        "SERVICE_CODE",
        "USAGE_TYPE",
        "USAGE_TYPE_GROUP",
        "RECORD_TYPE",
        "OPERATING_SYSTEM",
        "TENANCY",
        "SCOPE",
        "PLATFORM",
        "SUBSCRIPTION_ID",
        "LEGAL_ENTITY_NAME",
        "DEPLOYMENT_OPTION",
        "DATABASE_ENGINE",
        "CACHE_ENGINE",
        "INSTANCE_TYPE_FAMILY",
        "BILLING_ENTITY",
        "RESERVATION_ID",
        "RESOURCE_ID",
        "RIGHTSIZING_TYPE",
        "SAVINGS_PLANS_TYPE",
        "SAVINGS_PLAN_ARN",
        "PAYMENT_OPTION",
        "AGREEMENT_END_DATE_TIME_AFTER",
        "AGREEMENT_END_DATE_TIME_BEFORE",
        "INVOICING_ENTITY",
        "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
        "ANOMALY_TOTAL_IMPACT_PERCENTAGE",
        "PRODUCT_ATTRIBUTE",
    )
)
_TAG_STATUSES: Final = frozenset(("Active", "Inactive"))
_TAG_TYPES: Final = frozenset(("UserDefined", "AWSGenerated"))
_MAX_TAG_STATUS_ENTRIES: Final = 20
_DEFAULT_TAG_LIST_SIZE: Final = 100
_LINKED_ACCOUNT_DENIED: Final = "Linked account doesn't have access to cost allocation tags."
_STATE_ATTRIBUTE: Final = "_embedded_aws_ledger"


# --------------------------------------------------------------------------- errors


class ValidationException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


class DataUnavailableException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("DataUnavailableException", "Data is not available. Please try to adjust the time period.")


class InvalidNextTokenException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("InvalidNextTokenException", "Invalid pagination token.")


class RequestChangedException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__(
            "RequestChangedException",
            "Your request parameters changed between pages. Try again with the old parameters or "
            "without a pagination token.",
        )


class AccessDeniedException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message)


# --------------------------------------------------------------------------- ledger


@dataclass(frozen=True)
class CostRow:
    """One day of cost for one service, usage type, region and tag set.

    The optional cost metrics default to ``unblended_cost``; ``linked_account`` defaults to the
    account whose ledger the row is seeded into. Amounts must be :class:`~decimal.Decimal`: a
    float would carry binary noise into sums that tests compare exactly.
    """

    day: date
    service: str
    unblended_cost: Decimal
    usage_quantity: Decimal = Decimal(0)
    usage_type: str = ""
    region: str = "us-east-1"
    tags: Mapping[str, str] = field(default_factory=dict)
    blended_cost: Decimal | None = None
    amortized_cost: Decimal | None = None
    net_unblended_cost: Decimal | None = None
    net_amortized_cost: Decimal | None = None
    estimated: bool = False
    record_type: str = "Usage"
    linked_account: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.day, datetime) or not isinstance(self.day, date):
            raise TypeError("CostRow.day must be a datetime.date")
        for name in (
            "unblended_cost",
            "usage_quantity",
            "blended_cost",
            "amortized_cost",
            "net_unblended_cost",
            "net_amortized_cost",
        ):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Decimal):
                raise TypeError(f"CostRow.{name} must be a Decimal, not {type(value).__name__}")
        # A read-only copy: a caller mutating its dict must not change seeded history.
        object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))

    def metric(self, name: str) -> Decimal:
        if name == _USAGE_METRIC:
            return self.usage_quantity
        optional = {
            "BlendedCost": self.blended_cost,
            "AmortizedCost": self.amortized_cost,
            "NetUnblendedCost": self.net_unblended_cost,
            "NetAmortizedCost": self.net_amortized_cost,
        }.get(name)
        return self.unblended_cost if optional is None else optional


@dataclass
class _TagKeyState:
    status: str
    # None: the key counts on every day of the ledger (declared by a test, as if backfilled).
    active_from: date | None = None
    last_updated: datetime | None = None


@dataclass
class _Ledger:
    account_id: str
    partition: str = "aws"
    rows: list[CostRow] = field(default_factory=list)
    tag_keys: dict[str, _TagKeyState] = field(default_factory=dict)
    member_account: bool = False
    data_unavailable: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)
    # The management account's ledger while this account is a member of an organization (bound on
    # every request by _bind_organization): its tag statuses are the ones that count here.
    payer: _Ledger | None = None

    @property
    def is_member(self) -> bool:
        """A linked account: declared by a test, or a member of an embedded organization."""
        return self.member_account or self.payer is not None

    def known_tag_keys(self, rows: Iterable[CostRow] | None = None) -> set[str]:
        keys = set(self.tag_keys)
        for row in self.rows if rows is None else rows:
            keys.update(row.tags)
        return keys

    def tag_value(self, row: CostRow, key: str) -> str:
        """The value Cost Explorer sees for ``key`` on ``row``: empty unless the key is active."""
        value = row.tags.get(key, "")
        if not value:
            return ""
        # Only the management account activates cost allocation tags; they count for every member.
        state = (self.payer or self).tag_keys.get(key)
        if state is None or state.status != "Active":
            return ""
        if state.active_from is not None and row.day < state.active_from:
            return ""
        return value

    def has_active_tags(self, row: CostRow) -> bool:
        return any(self.tag_value(row, key) for key in row.tags)

    def dimension_value(self, row: CostRow, dimension: str) -> str:
        if dimension == "SERVICE":
            return row.service
        if dimension == "USAGE_TYPE":
            return row.usage_type
        if dimension == "REGION":
            return row.region
        if dimension == "LINKED_ACCOUNT":
            return row.linked_account or self.account_id
        return row.record_type


def _ledger_for(backend: CostExplorerBackend) -> _Ledger:
    ledger = getattr(backend, _STATE_ATTRIBUTE, None)
    if ledger is None:
        # Attached lazily: moto's reset() replaces the backend's __dict__, which drops it.
        ledger = _Ledger(account_id=backend.account_id, partition=backend.partition)
        setattr(backend, _STATE_ATTRIBUTE, ledger)
    if not isinstance(ledger, _Ledger):
        raise TypeError(f"the Cost Explorer backend holds a {type(ledger).__name__} where the ledger belongs")
    return ledger


def _ledger(account_id: str, partition: str = "aws") -> _Ledger:
    return _ledger_for(ce_backends[account_id][partition])


def seed_ledger(rows: Iterable[CostRow], account_id: str = DEFAULT_ACCOUNT_ID) -> None:
    """Append cost rows to the account's ledger (call inside the ``embedded_aws()`` context)."""
    new_rows = list(rows)
    for row in new_rows:
        if not isinstance(row, CostRow):
            raise TypeError(f"expected CostRow, got {type(row).__name__}")
    ledger = _ledger(account_id)
    with ledger.lock:
        ledger.rows.extend(new_rows)


def clear_ledger(account_id: str = DEFAULT_ACCOUNT_ID) -> None:
    """Remove every row of the account's ledger; tag statuses and switches stay."""
    ledger = _ledger(account_id)
    with ledger.lock:
        ledger.rows.clear()


def set_cost_allocation_tags(statuses: Mapping[str, str], account_id: str = DEFAULT_ACCOUNT_ID) -> None:
    """Declare cost allocation tag keys and their status (``"Active"`` or ``"Inactive"``).

    Keys declared here are known to ``UpdateCostAllocationTagsStatus`` even without rows, and an
    active key counts for the whole ledger (as if AWS had backfilled it).
    """
    for key, status in statuses.items():
        if status not in _TAG_STATUSES:
            raise ValueError(f"status of {key!r} must be 'Active' or 'Inactive', not {status!r}")
    ledger = _ledger(account_id)
    now = datetime.now(UTC)
    with ledger.lock:
        for key, status in statuses.items():
            ledger.tag_keys[key] = _TagKeyState(status=status, active_from=None, last_updated=now)


def select_rows(
    account_id: str, start: date, end: date, expression: Mapping[str, Any] | None = None, partition: str = "aws"
) -> list[CostRow]:
    """Ledger rows with ``start <= day < end`` that a ``GetCostAndUsage`` ``Filter`` of ``expression``
    would select (tags count only while their key is an active cost allocation tag).

    For other embedded services that derive figures from the same ledger (AWS Budgets), so that
    there is one filter compiler. Raises :class:`ValidationException` for an expression the ledger
    cannot evaluate, exactly as ``GetCostAndUsage`` would.
    """
    ledger = _bind_organization(_ledger(account_id, partition))
    predicate = None if expression is None else _compile_filter(expression, ledger)
    return _rows_in(ledger, start, end, predicate)


def set_member_account(member: bool = True, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
    """Make the account an Organizations member account without seeding an organization: it may
    not list or change cost allocation tags (``AccessDeniedException``, as AWS answers a linked
    account). A member account of an embedded organization is one without this."""
    ledger = _ledger(account_id)
    with ledger.lock:
        ledger.member_account = member


def set_data_unavailable(unavailable: bool = True, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
    """Make every cost query of the account fail with ``DataUnavailableException``."""
    ledger = _ledger(account_id)
    with ledger.lock:
        ledger.data_unavailable = unavailable


# --------------------------------------------------------------------------- request parsing


def _format_amount(amount: Decimal) -> str:
    # Plain notation always: Decimal's str() would write 1E+1 or 1.0E-7.
    if amount == 0:
        return "0"
    return format(amount.normalize(), "f")


def _parse_day(value: Any, name: str) -> date:
    if not isinstance(value, str):
        raise ValidationException(f"{name} is required in the time period.")
    text = value
    if len(text) > 10:
        # The model allows a time part for HOURLY requests; midnight is the same day.
        if text[10:] not in ("T00:00:00Z",):
            raise ValidationException(f"Time period {name} {value} is invalid for this granularity.")
        text = text[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationException(f"Time period {name} {value} is not a valid date.") from None


def _parse_period(params: Mapping[str, Any]) -> tuple[date, date]:
    period = params.get("TimePeriod")
    if not isinstance(period, dict):
        raise ValidationException("TimePeriod is required.")
    start = _parse_day(period.get("Start"), "start")
    end = _parse_day(period.get("End"), "end")
    if start >= end:
        raise ValidationException("Start date (and hour) should be before end date (and hour)")
    return start, end


def _buckets(start: date, end: date, granularity: str) -> list[tuple[date, date]]:
    if granularity == "DAILY":
        return [(start + timedelta(days=i), start + timedelta(days=i + 1)) for i in range((end - start).days)]
    buckets: list[tuple[date, date]] = []
    cursor = start
    while cursor < end:
        last_day = calendar.monthrange(cursor.year, cursor.month)[1]
        next_month = date(cursor.year, cursor.month, last_day) + timedelta(days=1)
        bucket_end = min(next_month, end)
        buckets.append((cursor, bucket_end))
        cursor = bucket_end
    return buckets


Predicate = Callable[[CostRow], bool]


def _match_options(node: Mapping[str, Any], allowed: frozenset[str], what: str) -> set[str]:
    options = node.get("MatchOptions") or []
    if not isinstance(options, list):
        raise ValidationException(f"MatchOptions of {what} must be a list.")
    unknown = [option for option in options if option not in allowed]
    if unknown:
        raise ValidationException(
            f"MatchOptions {', '.join(map(str, unknown))} are not supported for {what}. "
            f"Valid values are {', '.join(sorted(allowed))}."
        )
    return set(options)


def _values(node: Mapping[str, Any], what: str) -> list[str] | None:
    values = node.get("Values")
    if values is None:
        return None
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise ValidationException(f"Values of {what} must be a list of strings.")
    return values


def _check_dimension(key: Any) -> str:
    if key in _LEDGER_DIMENSIONS:
        return str(key)
    if key in _AWS_DIMENSIONS:
        raise ValidationException(
            f"Dimension {key} is not tracked by the embedded Cost Explorer ledger; "
            f"use one of {', '.join(sorted(_LEDGER_DIMENSIONS))}."
        )
    raise ValidationException(f"Dimension {key} is not a valid dimension.")


_EXPRESSION_ROOTS: Final = ("And", "Or", "Not", "Dimensions", "Tags", "CostCategories", "ProductAttributes")


def _compile_filter(expression: Any, ledger: _Ledger) -> Predicate:
    if not isinstance(expression, dict):
        raise ValidationException("Filter expression must be an object.")
    roots = [root for root in _EXPRESSION_ROOTS if expression.get(root) is not None]
    if len(roots) != 1:
        raise ValidationException(
            "Expression has more than one roots. Only one root operator is allowed for each expression: "
            "And, Or, Not, Dimensions, Tags, CostCategories"
            if roots
            else "Expression must have exactly one root operator: And, Or, Not, Dimensions, Tags, CostCategories"
        )
    root = roots[0]
    node = expression[root]
    if root in ("And", "Or"):
        if not isinstance(node, list) or not node:
            raise ValidationException(f"{root} expression must contain at least one expression.")
        parts = [_compile_filter(part, ledger) for part in node]
        if root == "And":
            return lambda row: all(part(row) for part in parts)
        return lambda row: any(part(row) for part in parts)
    if root == "Not":
        inner = _compile_filter(node, ledger)
        return lambda row: not inner(row)
    if root == "Dimensions":
        return _compile_dimension_filter(node, ledger)
    if root == "Tags":
        return _compile_tag_filter(node, ledger)
    raise ValidationException(f"{root} filters are not supported by the embedded Cost Explorer.")


def _compile_dimension_filter(node: Any, ledger: _Ledger) -> Predicate:
    if not isinstance(node, dict):
        raise ValidationException("Dimensions expression must be an object.")
    dimension = _check_dimension(node.get("Key"))
    _match_options(node, frozenset(("EQUALS", "CASE_SENSITIVE")), "Dimensions")
    values = _values(node, "Dimensions")
    if not values:
        raise ValidationException("Dimensions expression must have at least one value.")
    wanted = frozenset(values)
    return lambda row: ledger.dimension_value(row, dimension) in wanted


def _compile_tag_filter(node: Any, ledger: _Ledger) -> Predicate:
    if not isinstance(node, dict):
        raise ValidationException("Tags expression must be an object.")
    options = _match_options(node, frozenset(("EQUALS", "ABSENT", "CASE_SENSITIVE")), "Tags")
    key = node.get("Key")
    values = _values(node, "Tags")
    if key is not None and not isinstance(key, str):
        raise ValidationException("Key of a Tags expression must be a string.")
    if "ABSENT" in options and values:
        raise ValidationException("Tags expression must not have values set when ABSENT is provided")
    if key is None:
        if values:
            raise ValidationException("Tags expression with values must have a key.")
        # No key and no values: cost that carries no active tag at all.
        return lambda row: not ledger.has_active_tags(row)
    tag_key: str = key
    if values is None or "ABSENT" in options:
        return lambda row: ledger.tag_value(row, tag_key) == ""
    wanted = frozenset(values)
    return lambda row: ledger.tag_value(row, tag_key) in wanted


# --------------------------------------------------------------------------- paging


def _fingerprint(operation: str, params: Mapping[str, Any], paging_keys: Sequence[str]) -> str:
    relevant = {key: value for key, value in params.items() if key not in paging_keys}
    canonical = json.dumps([operation, relevant], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _encode_token(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "f": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: Any, fingerprint: str) -> int:
    """Offset encoded in ``token``; 0 without a token."""
    if token is None or token == "":
        return 0
    try:
        decoded = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        offset = decoded["o"]
        token_fingerprint = decoded["f"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidNextTokenException() from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidNextTokenException()
    if token_fingerprint != fingerprint:
        raise RequestChangedException()
    return offset


# --------------------------------------------------------------------------- operations


def _check_available(ledger: _Ledger) -> None:
    if ledger.data_unavailable:
        raise DataUnavailableException()


def _metric_names(params: Mapping[str, Any]) -> list[str]:
    metrics = params.get("Metrics")
    if not isinstance(metrics, list) or not metrics:
        raise ValidationException("Metrics is required and must contain at least one metric.")
    names: list[str] = []
    for metric in metrics:
        if metric in _UNSUPPORTED_METRICS:
            raise ValidationException(f"Metric {metric} is not supported by the embedded Cost Explorer ledger.")
        if metric not in _SUPPORTED_METRICS:
            raise ValidationException(f"Invalid metric {metric}.")
        if metric not in names:
            names.append(str(metric))
    return names


@dataclass(frozen=True)
class _Grouping:
    kind: str  # "DIMENSION" or "TAG"
    key: str


def _groupings(params: Mapping[str, Any]) -> list[_Grouping]:
    group_by = params.get("GroupBy") or []
    if not isinstance(group_by, list):
        raise ValidationException("GroupBy must be a list.")
    if len(group_by) > 2:
        raise ValidationException("You can only group by up to two different groups.")
    groupings: list[_Grouping] = []
    for definition in group_by:
        if not isinstance(definition, dict):
            raise ValidationException("Group Definition type is invalid.")
        kind = definition.get("Type")
        key = definition.get("Key")
        if kind == "DIMENSION":
            grouping = _Grouping("DIMENSION", _check_dimension(key))
        elif kind == "TAG":
            if not isinstance(key, str) or not key:
                raise ValidationException("Group Definition key is required for TAG groups.")
            grouping = _Grouping("TAG", key)
        elif kind in ("COST_CATEGORY", "PRODUCT_ATTRIBUTE"):
            raise ValidationException(f"Grouping by {kind} is not supported by the embedded Cost Explorer.")
        else:
            raise ValidationException("Group Definition type is invalid.")
        if grouping in groupings:
            raise ValidationException("Group Definitions must be unique.")
        groupings.append(grouping)
    return groupings


def _group_key(row: CostRow, grouping: _Grouping, ledger: _Ledger) -> str:
    if grouping.kind == "TAG":
        return f"{grouping.key}${ledger.tag_value(row, grouping.key)}"
    return ledger.dimension_value(row, grouping.key)


def _metric_values(sums: Mapping[str, Decimal], metrics: Sequence[str]) -> dict[str, dict[str, str]]:
    return {
        metric: {
            "Amount": _format_amount(sums.get(metric, Decimal(0))),
            "Unit": "N/A" if metric == _USAGE_METRIC else "USD",
        }
        for metric in metrics
    }


def _member_accounts(account_id: str, partition: str) -> list[str]:
    """The other accounts of the organization whose management account is ``account_id``; none when
    it manages none (a member account sees only its own cost, as in AWS)."""
    backend = organizations_backends[account_id][partition]
    organization = backend.org
    if organization is None or organization.master_account_id != account_id:
        return []
    return [account.id for account in backend.accounts if account.id != account_id]


def _management_account_of(account_id: str, partition: str) -> str | None:
    """The management account of the organization ``account_id`` is a member of, or None. moto keeps
    its member -> management map across resets, so the organization itself must still list the account."""
    entry = organizations_backends.master_accounts.get(account_id)
    if entry is None or entry[0] == account_id:
        return None
    management, management_partition = entry
    if management_partition != partition:
        return None
    return management if account_id in _member_accounts(management, partition) else None


def _bind_organization(ledger: _Ledger) -> _Ledger:
    """Bind the management account's ledger to a member's (or unbind it): once per request, not per row."""
    management = _management_account_of(ledger.account_id, ledger.partition)
    ledger.payer = None if management is None else _ledger(management, ledger.partition)
    return ledger


def _visible_rows(ledger: _Ledger) -> list[CostRow]:
    """What Cost Explorer shows the ledger's account: its own rows and, in a management account,
    every member account's (their ``LINKED_ACCOUNT`` is the member)."""
    with ledger.lock:
        rows = list(ledger.rows)
    for member in _member_accounts(ledger.account_id, ledger.partition):
        member_ledger = _ledger(member, ledger.partition)
        with member_ledger.lock:
            rows += [
                row if row.linked_account else dataclasses.replace(row, linked_account=member)
                for row in member_ledger.rows
            ]
    return rows


def _rows_in(ledger: _Ledger, start: date, end: date, predicate: Predicate | None) -> list[CostRow]:
    rows = _visible_rows(ledger)
    return [row for row in rows if start <= row.day < end and (predicate is None or predicate(row))]


def _granularity(params: Mapping[str, Any]) -> str:
    granularity = params.get("Granularity")
    if granularity == "HOURLY":
        raise ValidationException("Hourly granularity is not available: hourly data is an opt-in feature.")
    if granularity not in ("DAILY", "MONTHLY"):
        raise ValidationException(f"Granularity {granularity} is invalid. Valid values are DAILY, MONTHLY.")
    return str(granularity)


@dataclass(frozen=True)
class _Item:
    """One group of one time period, or a whole period when there is no group to list in it.

    Pages cut between items, so a period may continue on the next page.
    """

    period: int
    keys: tuple[str, ...] | None
    sums: Mapping[str, Decimal]


def _period_items(
    index: int, rows: Sequence[CostRow], metrics: Sequence[str], groupings: Sequence[_Grouping], ledger: _Ledger
) -> list[_Item]:
    if not groupings:
        totals = {metric: sum((row.metric(metric) for row in rows), Decimal(0)) for metric in metrics}
        return [_Item(index, None, totals)]
    groups: dict[tuple[str, ...], dict[str, Decimal]] = {}
    for row in rows:
        keys = tuple(_group_key(row, grouping, ledger) for grouping in groupings)
        sums = groups.setdefault(keys, dict.fromkeys(metrics, Decimal(0)))
        for metric in metrics:
            sums[metric] += row.metric(metric)
    if not groups:
        return [_Item(index, None, {})]
    return [_Item(index, keys, groups[keys]) for keys in sorted(groups)]


def get_cost_and_usage(ledger: _Ledger, params: Mapping[str, Any]) -> dict[str, Any]:
    _check_available(ledger)
    start, end = _parse_period(params)
    granularity = _granularity(params)
    metrics = _metric_names(params)
    groupings = _groupings(params)
    filter_expression = params.get("Filter")
    predicate = None if filter_expression is None else _compile_filter(filter_expression, ledger)
    fingerprint = _fingerprint("GetCostAndUsage", params, ("NextPageToken",))
    offset = _decode_token(params.get("NextPageToken"), fingerprint)

    rows = _rows_in(ledger, start, end, predicate)
    periods = _buckets(start, end, granularity)
    items: list[_Item] = []
    estimated: list[bool] = []
    for index, (period_start, period_end) in enumerate(periods):
        period_rows = [row for row in rows if period_start <= row.day < period_end]
        # AWS marks periods whose figures may still change; the ledger marks rows.
        estimated.append(any(row.estimated for row in period_rows))
        items.extend(_period_items(index, period_rows, metrics, groupings, ledger))

    results: list[dict[str, Any]] = []
    result_periods: list[int] = []
    for item in items[offset : offset + PAGE_SIZE]:
        if not result_periods or result_periods[-1] != item.period:
            period_start, period_end = periods[item.period]
            result_periods.append(item.period)
            results.append(
                {
                    "TimePeriod": {"Start": period_start.isoformat(), "End": period_end.isoformat()},
                    "Total": {} if groupings else _metric_values(item.sums, metrics),
                    "Groups": [],
                    "Estimated": estimated[item.period],
                }
            )
        if item.keys is not None:
            results[-1]["Groups"].append({"Keys": list(item.keys), "Metrics": _metric_values(item.sums, metrics)})

    response: dict[str, Any] = {"ResultsByTime": results, "DimensionValueAttributes": []}
    if groupings:
        response["GroupDefinitions"] = [{"Type": grouping.kind, "Key": grouping.key} for grouping in groupings]
    if offset + PAGE_SIZE < len(items):
        response["NextPageToken"] = _encode_token(offset + PAGE_SIZE, fingerprint)
    return response


def _search(values: Iterable[str], search: Any) -> list[str]:
    if search is None or search == "":
        return sorted(set(values))
    needle = str(search).casefold()
    return sorted({value for value in values if needle in value.casefold()})


def _reject_sort(params: Mapping[str, Any]) -> None:
    if params.get("SortBy"):
        raise ValidationException("SortBy is not supported by the embedded Cost Explorer.")


def _page(values: list[str], params: Mapping[str, Any], operation: str) -> tuple[list[str], str | None]:
    fingerprint = _fingerprint(operation, params, ("NextPageToken",))
    offset = _decode_token(params.get("NextPageToken"), fingerprint)
    page = values[offset : offset + DIMENSION_PAGE_SIZE]
    more = offset + DIMENSION_PAGE_SIZE < len(values)
    return page, _encode_token(offset + DIMENSION_PAGE_SIZE, fingerprint) if more else None


def get_dimension_values(ledger: _Ledger, params: Mapping[str, Any]) -> dict[str, Any]:
    _check_available(ledger)
    start, end = _parse_period(params)
    dimension = _check_dimension(params.get("Dimension"))
    context = params.get("Context") or "COST_AND_USAGE"
    if context != "COST_AND_USAGE":
        raise ValidationException(f"Context {context} is not supported by the embedded Cost Explorer.")
    _reject_sort(params)
    filter_expression = params.get("Filter")
    predicate = None if filter_expression is None else _compile_filter(filter_expression, ledger)
    rows = _rows_in(ledger, start, end, predicate)
    values = _search((ledger.dimension_value(row, dimension) for row in rows), params.get("SearchString"))
    page, token = _page(values, params, "GetDimensionValues")
    response: dict[str, Any] = {
        "DimensionValues": [{"Value": value, "Attributes": {}} for value in page],
        "ReturnSize": len(page),
        "TotalSize": len(values),
    }
    if token:
        response["NextPageToken"] = token
    return response


def get_tags(ledger: _Ledger, params: Mapping[str, Any]) -> dict[str, Any]:
    _check_available(ledger)
    start, end = _parse_period(params)
    _reject_sort(params)
    filter_expression = params.get("Filter")
    predicate = None if filter_expression is None else _compile_filter(filter_expression, ledger)
    rows = _rows_in(ledger, start, end, predicate)
    tag_key = params.get("TagKey")
    if tag_key:
        # Cost without the tag answers as the empty value, as it groups under "Key$".
        found: Iterable[str] = (ledger.tag_value(row, str(tag_key)) for row in rows)
    else:
        found = (key for row in rows for key in row.tags if ledger.tag_value(row, key))
    values = _search(found, params.get("SearchString"))
    page, token = _page(values, params, "GetTags")
    response: dict[str, Any] = {"Tags": page, "ReturnSize": len(page), "TotalSize": len(values)}
    if token:
        response["NextPageToken"] = token
    return response


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _all_cost_allocation_tags(ledger: _Ledger) -> list[dict[str, Any]]:
    # Billing knows the keys of every account it bills: the management account's list has the members' keys.
    rows = _visible_rows(ledger)
    with ledger.lock:
        last_used: dict[str, date] = {}
        for row in rows:
            for key in row.tags:
                last_used[key] = max(last_used.get(key, row.day), row.day)
        entries: list[dict[str, Any]] = []
        for key in sorted(ledger.known_tag_keys(rows)):
            state = ledger.tag_keys.get(key)
            entry: dict[str, Any] = {
                "TagKey": key,
                "Type": "AWSGenerated" if key.startswith("aws:") else "UserDefined",
                # AWS lists a key it has seen on billed resources as Inactive until activated.
                "Status": state.status if state else "Inactive",
            }
            if state is not None and state.last_updated is not None:
                entry["LastUpdatedDate"] = _timestamp(state.last_updated)
            if key in last_used:
                entry["LastUsedDate"] = f"{last_used[key].replace(day=1).isoformat()}T00:00:00Z"
            entries.append(entry)
    return entries


def list_cost_allocation_tags(ledger: _Ledger, params: Mapping[str, Any]) -> dict[str, Any]:
    if ledger.is_member:
        raise AccessDeniedException(f"Failed to list Cost Allocation Tags: {_LINKED_ACCOUNT_DENIED}")
    status = params.get("Status")
    if status is not None and status not in _TAG_STATUSES:
        raise ValidationException(f"Status {status} is invalid. Valid values are Active, Inactive.")
    tag_type = params.get("Type")
    if tag_type is not None and tag_type not in _TAG_TYPES:
        raise ValidationException(f"Type {tag_type} is invalid. Valid values are AWSGenerated, UserDefined.")
    wanted_keys = params.get("TagKeys")
    if wanted_keys is not None and (not isinstance(wanted_keys, list) or not 1 <= len(wanted_keys) <= 100):
        raise ValidationException("TagKeys must contain between 1 and 100 keys.")
    max_results = params.get("MaxResults", _DEFAULT_TAG_LIST_SIZE)
    if not isinstance(max_results, int) or not 1 <= max_results <= 1000:
        raise ValidationException("MaxResults must be between 1 and 1000.")

    entries = [
        entry
        for entry in _all_cost_allocation_tags(ledger)
        if (status is None or entry["Status"] == status)
        and (tag_type is None or entry["Type"] == tag_type)
        and (wanted_keys is None or entry["TagKey"] in wanted_keys)
    ]
    fingerprint = _fingerprint("ListCostAllocationTags", params, ("NextToken", "MaxResults"))
    offset = _decode_token(params.get("NextToken"), fingerprint)
    page = entries[offset : offset + max_results]
    response: dict[str, Any] = {"CostAllocationTags": page}
    if offset + max_results < len(entries):
        response["NextToken"] = _encode_token(offset + max_results, fingerprint)
    return response


def update_cost_allocation_tags_status(ledger: _Ledger, params: Mapping[str, Any]) -> dict[str, Any]:
    if ledger.is_member:
        raise AccessDeniedException(f"Failed to update Cost Allocation Tag: {_LINKED_ACCOUNT_DENIED}")
    entries = params.get("CostAllocationTagsStatus")
    if not isinstance(entries, list) or not entries:
        raise ValidationException("CostAllocationTagsStatus must contain at least one entry.")
    if len(entries) > _MAX_TAG_STATUS_ENTRIES:
        raise ValidationException(
            "1 validation error detected: Value at 'costAllocationTagsStatus' failed to satisfy "
            f"constraint: Member must have length less than or equal to {_MAX_TAG_STATUS_ENTRIES}"
        )
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("TagKey"), str):
            raise ValidationException("Each entry needs a TagKey.")
        if entry.get("Status") not in _TAG_STATUSES:
            raise ValidationException(f"Status {entry.get('Status')} is invalid. Valid values are Active, Inactive.")

    now = datetime.now(UTC)
    rows = _visible_rows(ledger)
    with ledger.lock:
        known = ledger.known_tag_keys(rows)
        unknown = [entry["TagKey"] for entry in entries if entry["TagKey"] not in known]
        if len(unknown) == len(entries):
            # Observed on real accounts: when no key of the request is known, the whole call fails.
            raise ValidationException(f"Failed to update Cost Allocation Tag: Tag keys not found: {','.join(unknown)}")
        errors = [
            {
                "TagKey": key,
                "Code": "TagKeysNotFoundException",
                "Message": f"Failed to update Cost Allocation Tag: {key}",
            }
            for key in unknown
        ]
        for entry in entries:
            key, status = entry["TagKey"], entry["Status"]
            if key not in known:
                continue
            state = ledger.tag_keys.get(key)
            if state is not None and state.status == status:
                continue  # AWS: setting the current status again changes nothing.
            # Activation is not retroactive: cost counts from the day of activation on.
            active_from = now.date() if status == "Active" else None
            ledger.tag_keys[key] = _TagKeyState(status=status, active_from=active_from, last_updated=now)
    return {"Errors": errors}


# --------------------------------------------------------------------------- moto wiring

_Handler = Callable[[_Ledger, Mapping[str, Any]], dict[str, Any]]


def _endpoint(handler: _Handler) -> Callable[[CostExplorerResponse], str]:
    def endpoint(self: CostExplorerResponse) -> str:
        try:
            params = json.loads(self.body or "{}")
        except ValueError:
            raise ValidationException("The request body is not valid JSON.") from None
        if not isinstance(params, dict):
            raise ValidationException("The request body must be a JSON object.")
        ledger = _bind_organization(_ledger_for(self.ce_backend))
        return json.dumps(handler(ledger, params))

    endpoint.__name__ = handler.__name__
    return endpoint


_OPERATIONS: Final[Mapping[str, _Handler]] = {
    "get_cost_and_usage": get_cost_and_usage,
    "get_dimension_values": get_dimension_values,
    "get_tags": get_tags,
    "list_cost_allocation_tags": list_cost_allocation_tags,
    "update_cost_allocation_tags_status": update_cost_allocation_tags_status,
}
_install_lock = threading.Lock()


def install() -> None:
    """Route moto's Cost Explorer operations to the ledger. Idempotent."""
    with _install_lock:
        for name, handler in _OPERATIONS.items():
            current = getattr(CostExplorerResponse, name, None)
            if getattr(current, "_embedded_aws", False):
                continue
            endpoint = _endpoint(handler)
            endpoint._embedded_aws = True  # type: ignore[attr-defined]
            # moto finds actions by method name on the response class at call time, so setting
            # the attribute serves both mock_aws and a server started later in this process.
            setattr(CostExplorerResponse, name, endpoint)
