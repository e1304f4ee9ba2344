"""Domain values shared by every job: frozen, typed, free of boto3."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

# Tag keys this project writes or honours on profiles.
IDLE_SINCE_TAG: Final = "governance:idle-since"
KEEP_TAG: Final = "governance:keep"


def frozen_tags(tags: Mapping[str, str] | None) -> Mapping[str, str]:
    """A read-only copy of a tag mapping, so frozen dataclasses stay frozen."""
    return MappingProxyType(dict(tags or {}))


@dataclass(frozen=True)
class InferenceProfile:
    """An application inference profile as the governance jobs see it: summary plus tags."""

    profile_id: str
    name: str
    arn: str
    region: str
    model_arns: tuple[str, ...]
    status: str
    created_at: datetime
    updated_at: datetime | None = None
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: frozen_tags(None))

    def with_tags(self, tags: Mapping[str, str]) -> InferenceProfile:
        return InferenceProfile(
            profile_id=self.profile_id,
            name=self.name,
            arn=self.arn,
            region=self.region,
            model_arns=self.model_arns,
            status=self.status,
            created_at=self.created_at,
            updated_at=self.updated_at,
            description=self.description,
            tags=frozen_tags(tags),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (a worker's answer to the aggregation step); :meth:`from_dict` reads it."""
        return {
            "id": self.profile_id,
            "name": self.name,
            "arn": self.arn,
            "region": self.region,
            "models": list(self.model_arns),
            "status": self.status,
            "createdAt": self.created_at.isoformat(),
            "updatedAt": self.updated_at.isoformat() if self.updated_at else None,
            "description": self.description,
            "tags": dict(self.tags),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InferenceProfile:
        updated = data.get("updatedAt")
        return cls(
            profile_id=str(data["id"]),
            name=str(data["name"]),
            arn=str(data["arn"]),
            region=str(data["region"]),
            model_arns=tuple(str(model) for model in data.get("models", [])),
            status=str(data.get("status", "ACTIVE")),
            created_at=datetime.fromisoformat(str(data["createdAt"])),
            updated_at=datetime.fromisoformat(str(updated)) if updated else None,
            description=str(data.get("description", "")),
            tags=frozen_tags({str(key): str(value) for key, value in dict(data.get("tags", {})).items()}),
        )


@dataclass(frozen=True)
class RegionFailure:
    """A governed region the run could not complete, and why."""

    region: str
    error_code: str
    message: str

    def describe(self) -> str:
        return f"{self.region}: {self.error_code}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        """The entry of a JSON document's ``failedRegions`` list."""
        return {"region": self.region, "errorCode": self.error_code, "message": self.message}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegionFailure:
        """The failure :meth:`to_dict` describes."""
        return cls(str(data["region"]), str(data["errorCode"]), str(data["message"]))


# Budgets this stack manages are named with this prefix and the project's tag value.
BUDGET_NAME_PREFIX: Final = "bedrock-project-"


def budget_name_for(project: str) -> str:
    """The managed budget's name for a project. Budget names may not contain ':' or '\\'."""
    safe = project.replace(":", "-").replace("\\", "-")
    return f"{BUDGET_NAME_PREFIX}{safe}"[:100]


# --- usage, as CloudWatch reports it (the idle job's evidence)


@dataclass(frozen=True)
class UsageHistory:
    """Daily invocation sums of one profile over ``[start, end)``.

    ``daily`` maps the start of each day-long bucket (aligned to ``end``) to its sum; buckets
    without datapoints are absent, which means zero. ``complete`` is False when the metric service
    did not return all of it, and then ``problem`` says why.
    """

    start: datetime
    end: datetime
    daily: Mapping[datetime, float] = field(default_factory=lambda: MappingProxyType({}))
    complete: bool = True
    problem: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "daily", MappingProxyType(dict(self.daily)))

    def invocations_since(self, since: datetime) -> float:
        return sum(value for bucket, value in self.daily.items() if bucket >= since)

    @property
    def last_used(self) -> datetime | None:
        """Start of the latest day-long bucket with traffic, or None when there was none."""
        used = [bucket for bucket, value in self.daily.items() if value > 0]
        return max(used) if used else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, compact: each day with traffic as [seconds after ``start``, invocations], so
        a worker's answer for a busy profile is a third of what ISO times as keys would take."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "daily": [
                [round((bucket - self.start).total_seconds()), value]
                for bucket, value in sorted(self.daily.items())
                if value
            ],
            "complete": self.complete,
            "problem": self.problem,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UsageHistory:
        start = datetime.fromisoformat(str(data["start"]))
        return cls(
            start=start,
            end=datetime.fromisoformat(str(data["end"])),
            daily={start + timedelta(seconds=int(offset)): float(value) for offset, value in data["daily"]},
            complete=bool(data.get("complete", True)),
            problem=str(data.get("problem", "")),
        )


# --- AWS Budgets values (the budget job writes them, the cost report reads them)


def percent(value: Decimal) -> str:
    """``80`` for 80, ``12.5`` for 12.50: no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


@dataclass(frozen=True, order=True)
class NotificationSpec:
    """What identifies a budget notification in AWS (its state is AWS's to set)."""

    notification_type: str  # ACTUAL or FORECASTED
    threshold: Decimal
    comparison: str = "GREATER_THAN"
    threshold_type: str = "PERCENTAGE"

    @property
    def key(self) -> str:
        """The BudgetAlertThresholds spelling, e.g. ``ACTUAL:80``."""
        suffix = "" if (self.comparison, self.threshold_type) == ("GREATER_THAN", "PERCENTAGE") else "*"
        return f"{self.notification_type}:{percent(self.threshold)}{suffix}"

    def describe(self) -> str:
        what = "actual" if self.notification_type == "ACTUAL" else "forecasted"
        operator = {"GREATER_THAN": "above", "LESS_THAN": "below", "EQUAL_TO": "at"}.get(
            self.comparison, self.comparison
        )
        amount = f"{percent(self.threshold)}%" if self.threshold_type == "PERCENTAGE" else f"${percent(self.threshold)}"
        return f"{what} spend {operator} {amount}"


@dataclass(frozen=True, order=True)
class Subscriber:
    kind: str  # SNS or EMAIL
    address: str

    def describe(self) -> str:
        return f"{self.kind.lower()} {self.address}"


@dataclass(frozen=True)
class BudgetSnapshot:
    """A budget as AWS describes it, with this period's actual and forecasted spend."""

    name: str
    limit: Decimal
    unit: str
    time_unit: str
    budget_type: str
    actual_spend: Decimal | None
    forecasted_spend: Decimal | None
    cost_filters: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    filter_expression: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
