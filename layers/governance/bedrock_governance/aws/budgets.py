"""AWS Budgets adapter (the read side; the budget reconciler adds the writes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from bedrock_governance.aws.errors import aws_call

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient


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
    def __init__(self, client: BudgetsClient, account_id: str) -> None:
        self._client = client
        self.account_id = account_id

    def describe_budgets(self) -> list[BudgetSnapshot]:
        """Every budget of the account, with calculated spend."""
        budgets: list[BudgetSnapshot] = []
        with aws_call("budgets", "DescribeBudgets"):
            paginator = self._client.get_paginator("describe_budgets")
            for page in paginator.paginate(AccountId=self.account_id, PaginationConfig={"PageSize": 100}):
                budgets += [snapshot_from_api(budget) for budget in page.get("Budgets", [])]
        return budgets
