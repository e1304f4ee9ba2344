"""The embedded Cost Explorer and Budgets see an organization as AWS bills it: the management
account sees every member account's cost (``LINKED_ACCOUNT`` is the member), a member account only
its own, and the management account's cost allocation tags count for all.

Expected sums are written out by hand from the rows seeded below, never computed by the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from embedded_aws import budgets, embedded_aws
from embedded_aws.costexplorer import CostRow, seed_ledger, set_cost_allocation_tags
from embedded_aws.organization import member_session

if TYPE_CHECKING:
    from mypy_boto3_ce.type_defs import DateIntervalTypeDef

MANAGEMENT = "123456789012"
BEDROCK = "Amazon Bedrock"
HAIKU = "Claude 3 Haiku (Amazon Bedrock Edition)"
PERIOD: DateIntervalTypeDef = {"Start": "2026-03-01", "End": "2026-03-08"}


@pytest.fixture
def organization() -> Iterator[tuple[str, str]]:
    """Two member accounts, each with its own cost, and a little in the management account.

    ====== ======== ======= ===================
    account day      cost    tags, service
    ====== ======== ======= ===================
    A       2 Mar    10.10   Project=Chat, Bedrock
    A       3 Mar     2.02   (none), Haiku
    B       2 Mar     5.55   Project=Chat, Haiku
    B       4 Mar     1.00   Project=Search Team=Blue, Bedrock
    mgmt    5 Mar     0.33   Project=Search, Bedrock
    ====== ======== ======= ===================
    """
    budgets.set_budget_clock(date(2026, 3, 8))
    with embedded_aws():
        organizations = boto3.client("organizations", region_name="us-east-1")
        organizations.create_organization(FeatureSet="ALL")
        a, b = (
            str(
                organizations.create_account(Email=f"{n}@example.com", AccountName=n)["CreateAccountStatus"][
                    "AccountId"
                ]
            )
            for n in ("team-a", "team-b")
        )
        seed_ledger(
            [
                CostRow(date(2026, 3, 2), BEDROCK, Decimal("10.10"), tags={"Project": "Chat"}),
                CostRow(date(2026, 3, 3), HAIKU, Decimal("2.02")),
            ],
            account_id=a,
        )
        seed_ledger(
            [
                CostRow(date(2026, 3, 2), HAIKU, Decimal("5.55"), tags={"Project": "Chat"}),
                CostRow(date(2026, 3, 4), BEDROCK, Decimal("1.00"), tags={"Project": "Search", "Team": "Blue"}),
            ],
            account_id=b,
        )
        seed_ledger([CostRow(date(2026, 3, 5), BEDROCK, Decimal("0.33"), tags={"Project": "Search"})])
        # Activated in the management account only: it applies to the members' cost too.
        set_cost_allocation_tags({"Project": "Active"})
        yield a, b
    budgets.set_budget_clock(None)


def _by_account_and_project(ce: Any) -> dict[tuple[str, str], Decimal]:
    answer = ce.get_cost_and_usage(
        TimePeriod=PERIOD,
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}, {"Type": "TAG", "Key": "Project"}],
    )
    return {
        (group["Keys"][0], group["Keys"][1]): Decimal(group["Metrics"]["UnblendedCost"]["Amount"])
        for period in answer["ResultsByTime"]
        for group in period["Groups"]
    }


def test_the_management_account_sees_every_account_by_linked_account(organization: tuple[str, str]) -> None:
    a, b = organization
    assert _by_account_and_project(boto3.client("ce", region_name="us-east-1")) == {
        (a, "Project$Chat"): Decimal("10.10"),
        (a, "Project$"): Decimal("2.02"),
        (b, "Project$Chat"): Decimal("5.55"),
        (b, "Project$Search"): Decimal("1.00"),
        (MANAGEMENT, "Project$Search"): Decimal("0.33"),
    }


def test_a_member_account_sees_only_its_own_cost_by_the_management_accounts_tags(
    organization: tuple[str, str],
) -> None:
    a, _ = organization
    ce = member_session(a).client("ce", region_name="us-east-1")
    seen = _by_account_and_project(ce)
    assert {account for account, _ in seen} == {a}
    assert sum(seen.values()) == Decimal("12.12")
    # Project was activated in the management account only, and groups the member's cost all the same.
    assert seen == {(a, "Project$Chat"): Decimal("10.10"), (a, "Project$"): Decimal("2.02")}


def test_a_member_account_may_neither_list_nor_activate_cost_allocation_tags(organization: tuple[str, str]) -> None:
    a, _ = organization
    ce = member_session(a).client("ce", region_name="us-east-1")
    with pytest.raises(ClientError, match="Linked account doesn't have access") as listed:
        ce.list_cost_allocation_tags()
    assert listed.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError, match="Linked account doesn't have access"):
        ce.update_cost_allocation_tags_status(CostAllocationTagsStatus=[{"TagKey": "Project", "Status": "Active"}])


def test_linked_account_filters_and_the_member_tag_keys_are_known_to_billing(organization: tuple[str, str]) -> None:
    a, b = organization
    ce = boto3.client("ce", region_name="us-east-1")
    answer = ce.get_cost_and_usage(
        TimePeriod=PERIOD,
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
        Filter={"Not": {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [a], "MatchOptions": ["EQUALS"]}}},
    )
    assert Decimal(answer["ResultsByTime"][0]["Total"]["UnblendedCost"]["Amount"]) == Decimal("6.88")
    accounts = ce.get_dimension_values(TimePeriod=PERIOD, Dimension="LINKED_ACCOUNT")["DimensionValues"]
    assert sorted(item["Value"] for item in accounts) == sorted([a, b, MANAGEMENT])
    # Team is on one row of member B only: billing knows it in the management account, inactive.
    statuses = {tag["TagKey"]: tag["Status"] for tag in ce.list_cost_allocation_tags()["CostAllocationTags"]}
    assert statuses == {"Project": "Active", "Team": "Inactive"}


def _actual(client: Any, name: str) -> Decimal:
    spend = client.describe_budget(AccountId=MANAGEMENT, BudgetName=name)["Budget"]["CalculatedSpend"]
    return Decimal(spend["ActualSpend"]["Amount"])


def test_a_management_budget_counts_every_member_unless_filtered_by_linked_account(
    organization: tuple[str, str],
) -> None:
    a, b = organization
    client = boto3.client("budgets", region_name="us-east-1")
    services = [BEDROCK, HAIKU]

    def create(name: str, filters: dict[str, list[str]]) -> None:
        client.create_budget(
            AccountId=MANAGEMENT,
            Budget={
                "BudgetName": name,
                "BudgetLimit": {"Amount": "100", "Unit": "USD"},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
                "CostFilters": filters,
            },
        )

    create("chat", {"Service": services, "TagKeyValue": ["user:Project$Chat"]})
    create("search", {"Service": services, "TagKeyValue": ["user:Project$Search"]})
    create("account-b", {"Service": services, "LinkedAccount": [b]})
    create("account-a-chat", {"LinkedAccount": [a], "TagKeyValue": ["user:Project$Chat"]})
    assert _actual(client, "chat") == Decimal("15.65")  # 10.10 (A) + 5.55 (B)
    assert _actual(client, "search") == Decimal("1.33")  # 1.00 (B) + 0.33 (management)
    assert _actual(client, "account-b") == Decimal("6.55")
    assert _actual(client, "account-a-chat") == Decimal("10.10")
