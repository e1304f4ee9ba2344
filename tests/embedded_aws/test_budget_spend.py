"""The embedded AWS Budgets computes a COST budget's ``CalculatedSpend`` from the Cost Explorer ledger.

Every expected amount is summed by hand from the rows in :func:`_ledger` (see its docstring), never
by calling the code under test. The budget clock is pinned to :data:`TODAY`, so March 2026 is the
current month, 1..15 March are the days with data and ``ForecastedSpend`` = actual x 31 / 15.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest

from embedded_aws import budgets, embedded_aws
from embedded_aws.costexplorer import CostRow, seed_ledger, set_cost_allocation_tags

ShapeCheck = Callable[[Any, str, str], None]
ACCOUNT = "123456789012"
BEDROCK = "Amazon Bedrock"
HAIKU = "Claude 3 Haiku (Amazon Bedrock Edition)"
S3 = "Amazon Simple Storage Service"
TODAY = date(2026, 3, 16)
MARCH_DAYS = 31
ELAPSED_DAYS = 15  # 1..15 March: today's cost is not in the data yet
BEDROCK_SERVICES = [BEDROCK, HAIKU]
PROJECT_A_LEGACY = {"Service": BEDROCK_SERVICES, "TagKeyValue": ["user:Project$ProjectA"]}
PROJECT_A_EXPRESSION = {
    "And": [
        {"Dimensions": {"Key": "SERVICE", "Values": BEDROCK_SERVICES, "MatchOptions": ["EQUALS"]}},
        {"Tags": {"Key": "Project", "Values": ["ProjectA"], "MatchOptions": ["EQUALS"]}},
    ]
}


def _ledger() -> list[CostRow]:
    """The ledger every test seeds; the letter is how the expected sums name a row.

    ===  ==========  ==============  ========  ================================  =====================
    row  day         service         cost      tags                              why
    ===  ==========  ==============  ========  ================================  =====================
    a    1 March     Amazon Bedrock  10.25     Project=ProjectA                  first day of month
    b    15 March    Claude 3 Haiku  3.40      Project=ProjectA                  yesterday, Marketplace
    c    10 March    Amazon Bedrock  7.00      Project=ProjectB                  another project
    d    5 March     Amazon S3       100.00    Project=ProjectA                  another service
    e    12 March    Claude 3 Haiku  1.10      (none)                            untagged
    f    3 March     Amazon Bedrock  2.50      Project=ProjectA Team=Blue        Team is inactive
    g    28 Feb      Amazon Bedrock  50.00     Project=ProjectA                  last month
    h    16 March    Amazon Bedrock  20.00     Project=ProjectA                  today: not in yet
    i    1 April     Amazon Bedrock  30.00     Project=ProjectA                  next month
    ===  ==========  ==============  ========  ================================  =====================

    Row a costs 9.00 amortized; the others' amortized cost equals their unblended cost.
    """
    project_a = {"Project": "ProjectA"}
    return [
        CostRow(date(2026, 3, 1), BEDROCK, Decimal("10.25"), tags=project_a, amortized_cost=Decimal("9.00")),
        CostRow(date(2026, 3, 15), HAIKU, Decimal("3.40"), tags=project_a),
        CostRow(date(2026, 3, 10), BEDROCK, Decimal("7.00"), tags={"Project": "ProjectB"}),
        CostRow(date(2026, 3, 5), S3, Decimal("100.00"), tags=project_a),
        CostRow(date(2026, 3, 12), HAIKU, Decimal("1.10")),
        CostRow(date(2026, 3, 3), BEDROCK, Decimal("2.50"), tags={"Project": "ProjectA", "Team": "Blue"}),
        CostRow(date(2026, 2, 28), BEDROCK, Decimal("50.00"), tags=project_a),
        CostRow(date(2026, 3, 16), BEDROCK, Decimal("20.00"), tags=project_a),
        CostRow(date(2026, 4, 1), BEDROCK, Decimal("30.00"), tags=project_a),
    ]


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    budgets.set_budget_clock(TODAY)
    yield
    # The clock is process-wide: leave the real date to the next test.
    budgets.set_budget_clock(None)


@pytest.fixture
def client() -> Iterator[Any]:
    with embedded_aws():
        seed_ledger(_ledger())
        set_cost_allocation_tags({"Project": "Active", "Team": "Inactive"})
        yield boto3.client("budgets", region_name="us-east-1")


def _create(client: Any, name: str, time_unit: str = "MONTHLY", **extra: Any) -> None:
    budget = {
        "BudgetName": name,
        "BudgetLimit": {"Amount": "100", "Unit": "USD"},
        "TimeUnit": time_unit,
        "BudgetType": "COST",
        **extra,
    }
    client.create_budget(AccountId=ACCOUNT, Budget=budget)


def _spend(client: Any, name: str) -> tuple[Decimal, Decimal]:
    spend = client.describe_budget(AccountId=ACCOUNT, BudgetName=name)["Budget"]["CalculatedSpend"]
    assert spend["ActualSpend"]["Unit"] == spend["ForecastedSpend"]["Unit"] == "USD"
    return Decimal(spend["ActualSpend"]["Amount"]), Decimal(spend["ForecastedSpend"]["Amount"])


def _forecast(actual: Decimal, period_days: int = MARCH_DAYS, elapsed_days: int = ELAPSED_DAYS) -> Decimal:
    # The documented straight line: the average day so far, over the whole period.
    return (actual * period_days / elapsed_days).quantize(Decimal("1E-10"))


def test_tag_scoped_budget_counts_every_service_of_the_project(client: Any) -> None:
    _create(client, "project-a", CostFilters={"TagKeyValue": ["user:Project$ProjectA"]})
    actual = Decimal("10.25") + Decimal("3.40") + Decimal("100.00") + Decimal("2.50")  # a b d f
    assert _spend(client, "project-a") == (actual, _forecast(actual))


def test_service_scoped_budget_counts_both_bedrock_service_names(client: Any) -> None:
    _create(client, "bedrock", CostFilters={"Service": BEDROCK_SERVICES})
    # a b c e f: the Marketplace name counts as much as "Amazon Bedrock", tagged or not.
    actual = Decimal("10.25") + Decimal("3.40") + Decimal("7.00") + Decimal("1.10") + Decimal("2.50")
    assert _spend(client, "bedrock") == (actual, _forecast(actual))

    _create(client, "bedrock-only", CostFilters={"Service": [BEDROCK]})
    # Without the Marketplace name rows b and e are missed (see docs/aws-behaviour.md).
    narrow = Decimal("10.25") + Decimal("7.00") + Decimal("2.50")  # a c f
    assert _spend(client, "bedrock-only")[0] == narrow


def test_project_budget_as_the_governance_stack_builds_it(client: Any, check_shape: ShapeCheck) -> None:
    _create(client, "bedrock-project-ProjectA", CostFilters=PROJECT_A_LEGACY)
    response = client.describe_budgets(AccountId=ACCOUNT)
    check_shape(response, "budgets", "DescribeBudgets")
    (budget,) = response["Budgets"]
    # a b f = 16.15; forecast 16.15 x 31 / 15 = 33.3766666666..., rounded to 10 places.
    assert budget["CalculatedSpend"] == {
        "ActualSpend": {"Amount": "16.15", "Unit": "USD"},
        "ForecastedSpend": {"Amount": "33.3766666667", "Unit": "USD"},
    }


def test_filter_expression_and_cost_filters_agree(client: Any) -> None:
    _create(client, "legacy", CostFilters=PROJECT_A_LEGACY)
    _create(client, "expression", FilterExpression=PROJECT_A_EXPRESSION, Metrics=["UnblendedCost"])
    _create(client, "expression-default-metric", FilterExpression=PROJECT_A_EXPRESSION)
    expected = Decimal("16.15")  # a b f
    assert _spend(client, "legacy") == _spend(client, "expression") == (expected, _forecast(expected))
    assert _spend(client, "expression-default-metric")[0] == expected


def test_filter_expression_tag_key_is_the_cost_allocation_tag_key(client: Any) -> None:
    # The unverified convention of the embedded Budgets: FilterExpression names the tag as Cost
    # Explorer does ("Project"); with the legacy "user:" prefix it names an unknown tag.
    prefixed = {"Tags": {"Key": "user:Project", "Values": ["ProjectA"], "MatchOptions": ["EQUALS"]}}
    _create(client, "prefixed", FilterExpression=prefixed)
    assert _spend(client, "prefixed") == (Decimal(0), Decimal(0))


def test_or_and_not_expressions(client: Any) -> None:
    not_project_a = {
        "And": [
            {"Dimensions": {"Key": "SERVICE", "Values": BEDROCK_SERVICES}},
            {"Not": {"Tags": {"Key": "Project", "Values": ["ProjectA"]}}},
        ]
    }
    _create(client, "not-a", FilterExpression=not_project_a)
    assert _spend(client, "not-a")[0] == Decimal("7.00") + Decimal("1.10")  # c e

    either = {
        "Or": [
            {"Tags": {"Key": "Project", "Values": ["ProjectB"]}},
            {"Dimensions": {"Key": "SERVICE", "Values": [S3]}},
        ]
    }
    _create(client, "b-or-s3", FilterExpression=either)
    assert _spend(client, "b-or-s3")[0] == Decimal("7.00") + Decimal("100.00")  # c d


def test_inactive_tag_key_counts_nothing(client: Any) -> None:
    _create(client, "team-legacy", CostFilters={"TagKeyValue": ["user:Team$Blue"]})
    _create(client, "team-expression", FilterExpression={"Tags": {"Key": "Team", "Values": ["Blue"]}})
    assert _spend(client, "team-legacy") == (Decimal(0), Decimal(0))
    assert _spend(client, "team-expression") == (Decimal(0), Decimal(0))


def test_legacy_tag_filter_needs_the_user_prefix(client: Any) -> None:
    # docs/aws-behaviour.md: the prefix is required; without it the value names no cost allocation tag.
    _create(client, "no-prefix", CostFilters={"TagKeyValue": ["Project$ProjectA"]})
    assert _spend(client, "no-prefix") == (Decimal(0), Decimal(0))


def test_rows_outside_the_period_are_ignored(client: Any) -> None:
    _create(client, "bedrock-a", CostFilters={"Service": [BEDROCK], "TagKeyValue": ["user:Project$ProjectA"]})
    # a f only: g (February), h (today, not in the data yet) and i (April) do not count.
    march = Decimal("10.25") + Decimal("2.50")
    assert _spend(client, "bedrock-a") == (march, _forecast(march))

    # On 2 April only i (1 April) is in: one day of April's 30, so the forecast is 30 x 30.
    budgets.set_budget_clock(date(2026, 4, 2))
    assert _spend(client, "bedrock-a") == (Decimal("30.00"), Decimal(900))

    # On the first of a month nothing of it is in yet: no spend and nothing to project.
    budgets.set_budget_clock(date(2026, 5, 1))
    assert _spend(client, "bedrock-a") == (Decimal(0), Decimal(0))


def test_quarterly_and_annual_budgets(client: Any) -> None:
    _create(client, "quarter", "QUARTERLY", CostFilters=PROJECT_A_LEGACY)
    _create(client, "year", "ANNUALLY", CostFilters=PROJECT_A_LEGACY)
    # Q1 2026 has 90 days; 1 January .. 15 March is 74 of them. a b f g count.
    quarter = Decimal("10.25") + Decimal("3.40") + Decimal("2.50") + Decimal("50.00")
    assert _spend(client, "quarter") == (quarter, _forecast(quarter, 90, 74))
    assert _spend(client, "year") == (quarter, _forecast(quarter, 365, 74))


def test_budget_start_follows_the_clock(client: Any) -> None:
    _create(client, "project-a", CostFilters=PROJECT_A_LEGACY)
    budget = client.describe_budget(AccountId=ACCOUNT, BudgetName="project-a")["Budget"]
    assert budget["TimePeriod"]["Start"] == datetime(2026, 3, 1, tzinfo=UTC)


def test_budget_period_is_clipped_to_its_start(client: Any) -> None:
    start = datetime(2026, 3, 10, tzinfo=UTC)
    _create(client, "late-start", CostFilters=PROJECT_A_LEGACY, TimePeriod={"Start": start})
    # From 10 March on only b counts; 10..15 March is 6 of the 22 days 10..31 March.
    assert _spend(client, "late-start") == (Decimal("3.40"), _forecast(Decimal("3.40"), 22, 6))


def test_metric_of_the_budget_is_summed(client: Any) -> None:
    _create(client, "amortized", FilterExpression=PROJECT_A_EXPRESSION, Metrics=["AmortizedCost"])
    _create(client, "legacy-amortized", CostFilters=PROJECT_A_LEGACY, CostTypes={"UseAmortized": True})
    amortized = Decimal("9.00") + Decimal("3.40") + Decimal("2.50")  # a (amortized) b f
    assert _spend(client, "amortized") == (amortized, _forecast(amortized))
    assert _spend(client, "legacy-amortized") == (amortized, _forecast(amortized))


def test_set_calculated_spend_overrides_until_the_budget_is_updated(client: Any) -> None:
    _create(client, "project-a", CostFilters=PROJECT_A_LEGACY)
    _create(client, "other", CostFilters={"Service": [S3]})
    budgets.set_calculated_spend(ACCOUNT, "project-a", Decimal("61.25"), Decimal("99.5"))
    assert _spend(client, "project-a") == (Decimal("61.25"), Decimal("99.5"))
    # Only that budget is pinned.
    assert _spend(client, "other") == (Decimal("100.00"), _forecast(Decimal("100.00")))

    new_definition = {
        "BudgetName": "project-a",
        "BudgetLimit": {"Amount": "200", "Unit": "USD"},
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
        "CostFilters": PROJECT_A_LEGACY,
    }
    client.update_budget(AccountId=ACCOUNT, NewBudget=new_definition)
    assert _spend(client, "project-a") == (Decimal("16.15"), _forecast(Decimal("16.15")))


def test_non_cost_budgets_and_unevaluable_filters_report_zero(client: Any) -> None:
    client.create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": "usage",
            "BudgetLimit": {"Amount": "1000", "Unit": "GB"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "USAGE",
        },
    )
    # AZ is a valid budget filter the ledger does not track.
    _create(client, "by-az", CostFilters={"AZ": ["us-east-1a"]})
    for name in ("usage", "by-az"):
        actual = client.describe_budget(AccountId=ACCOUNT, BudgetName=name)["Budget"]["CalculatedSpend"]
        assert Decimal(actual["ActualSpend"]["Amount"]) == 0
        assert Decimal(actual["ForecastedSpend"]["Amount"]) == 0
