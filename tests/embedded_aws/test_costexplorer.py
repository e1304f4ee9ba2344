"""The embedded Cost Explorer answers from a seeded ledger the way AWS answers from the bill.

Every expected amount below is summed by hand from :data:`LEDGER` (see the table in its
docstring), never by calling the code under test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from embedded_aws import costexplorer, embedded_aws, install
from embedded_aws.costexplorer import CostRow

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
BEDROCK = "Amazon Bedrock"
HAIKU = "Claude 3 Haiku (Amazon Bedrock Edition)"
S3 = "Amazon Simple Storage Service"
FIRST_DAY = date(2025, 3, 24)  # two weeks across a month end: 24 March .. 6 April
DAYS = 14
PERIOD = {"Start": "2025-03-24", "End": "2025-04-07"}


def _ledger() -> list[CostRow]:
    """Per day (day 0 = 24 March):

    ====================  =================  ==========  ===========  ==========================
    tags                  service            unblended   usage        days
    ====================  =================  ==========  ===========  ==========================
    Project=A Owner=alice Amazon Bedrock     1.10        1000         all 14
    Project=B             Claude 3 Haiku ... 0.25        200          all 14 (us-west-2)
    Project=C             Amazon Bedrock     0.0333333   30           even days (7 of them)
    (none)                Amazon Bedrock     0.40        400          all 14
    Project=A             Amazon S3          0.05        5            all 14
    ====================  =================  ==========  ===========  ==========================

    Day 13 (6 April) is estimated. Owner is never activated unless a test does so.
    """
    rows: list[CostRow] = []
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        estimated = offset == DAYS - 1
        rows += [
            CostRow(
                day=day,
                service=BEDROCK,
                usage_type="USE1-Claude3Haiku-input-tokens",
                tags={"Project": "A", "Owner": "alice"},
                unblended_cost=Decimal("1.10"),
                usage_quantity=Decimal(1000),
                estimated=estimated,
            ),
            CostRow(
                day=day,
                service=HAIKU,
                region="us-west-2",
                usage_type="USW2-MP:Claude3Haiku-Units",
                tags={"Project": "B"},
                unblended_cost=Decimal("0.25"),
                usage_quantity=Decimal(200),
                estimated=estimated,
            ),
            CostRow(
                day=day,
                service=BEDROCK,
                usage_type="USE1-Titan-embeddings",
                unblended_cost=Decimal("0.40"),
                usage_quantity=Decimal(400),
                estimated=estimated,
            ),
            CostRow(
                day=day,
                service=S3,
                usage_type="TimedStorage-ByteHrs",
                tags={"Project": "A"},
                unblended_cost=Decimal("0.05"),
                usage_quantity=Decimal(5),
                estimated=estimated,
            ),
        ]
        if offset % 2 == 0:
            rows.append(
                CostRow(
                    day=day,
                    service=BEDROCK,
                    usage_type="USE1-Claude3Haiku-output-tokens",
                    tags={"Project": "C"},
                    unblended_cost=Decimal("0.0333333"),
                    usage_quantity=Decimal(30),
                    estimated=estimated,
                )
            )
    return rows


LEDGER = _ledger()

# Hand sums over the whole fortnight.
TOTAL = "25.4333331"  # 15.40 + 3.50 + 0.2333331 + 5.60 + 0.70
BY_PROJECT = {"Project$A": "16.1", "Project$B": "3.5", "Project$C": "0.2333331", "Project$": "5.6"}


@pytest.fixture
def ce() -> Iterator[Any]:
    """A Cost Explorer client on a fresh embedded AWS whose ledger holds :data:`LEDGER`."""
    with embedded_aws():
        costexplorer.seed_ledger(LEDGER)
        costexplorer.set_cost_allocation_tags({"Project": "Active", "Owner": "Inactive"})
        yield boto3.client("ce", region_name="us-east-1")


def _error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _groups(result: dict[str, Any], metric: str = "UnblendedCost") -> dict[tuple[str, ...], str]:
    return {tuple(group["Keys"]): group["Metrics"][metric]["Amount"] for group in result["Groups"]}


def _whole_period_groups(ce: Any, **kwargs: Any) -> dict[tuple[str, ...], str]:
    response = ce.get_cost_and_usage(TimePeriod=PERIOD, Granularity="MONTHLY", Metrics=["UnblendedCost"], **kwargs)
    sums: dict[tuple[str, ...], Decimal] = {}
    for result in response["ResultsByTime"]:
        for keys, amount in _groups(result).items():
            sums[keys] = sums.get(keys, Decimal(0)) + Decimal(amount)
    return {keys: format(amount.normalize(), "f") for keys, amount in sums.items()}


def _total(ce: Any, **kwargs: Any) -> str:
    """Unblended cost of the whole fortnight in one bucket (a period inside one month)."""
    response = ce.get_cost_and_usage(
        TimePeriod={"Start": "2025-03-24", "End": "2025-04-07"},
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
        **kwargs,
    )
    total = sum((Decimal(r["Total"]["UnblendedCost"]["Amount"]) for r in response["ResultsByTime"]), Decimal(0))
    return format(total.normalize(), "f")


# --------------------------------------------------------------------------- totals and buckets


def test_monthly_totals_are_calendar_months_clipped_to_the_period(ce: Any) -> None:
    response = ce.get_cost_and_usage(
        TimePeriod=PERIOD, Granularity="MONTHLY", Metrics=["UnblendedCost", "BlendedCost", "UsageQuantity"]
    )

    march, april = response["ResultsByTime"]
    assert march["TimePeriod"] == {"Start": "2025-03-24", "End": "2025-04-01"}
    assert april["TimePeriod"] == {"Start": "2025-04-01", "End": "2025-04-07"}
    # March: 8 days of 1.10 + 0.25 + 0.40 + 0.05, and 4 even days of 0.0333333.
    assert march["Total"]["UnblendedCost"] == {"Amount": "14.5333332", "Unit": "USD"}
    assert march["Total"]["BlendedCost"] == {"Amount": "14.5333332", "Unit": "USD"}
    # 8 * (1000 + 200 + 400 + 5) + 4 * 30
    assert march["Total"]["UsageQuantity"] == {"Amount": "12960", "Unit": "N/A"}
    # April: 6 days, 3 of them even.
    assert april["Total"]["UnblendedCost"] == {"Amount": "10.8999999", "Unit": "USD"}
    assert march["Groups"] == []
    assert april["Groups"] == []
    assert (march["Estimated"], april["Estimated"]) == (False, True)
    assert response["DimensionValueAttributes"] == []
    assert "NextPageToken" not in response
    assert _total(ce) == TOTAL


def test_end_date_is_exclusive(ce: Any) -> None:
    first = ce.get_cost_and_usage(
        TimePeriod={"Start": "2025-03-24", "End": "2025-03-25"}, Granularity="DAILY", Metrics=["UnblendedCost"]
    )
    (only_day,) = first["ResultsByTime"]
    assert only_day["TimePeriod"] == {"Start": "2025-03-24", "End": "2025-03-25"}
    assert only_day["Total"]["UnblendedCost"]["Amount"] == "1.8333333"  # 1.10+0.25+0.0333333+0.40+0.05

    without_last_day = ce.get_cost_and_usage(
        TimePeriod={"Start": "2025-03-24", "End": "2025-04-06"}, Granularity="DAILY", Metrics=["UnblendedCost"]
    )
    assert len(without_last_day["ResultsByTime"]) == 13
    assert not any(result["Estimated"] for result in without_last_day["ResultsByTime"])


def test_days_without_cost_are_listed_as_zero(ce: Any) -> None:
    response = ce.get_cost_and_usage(
        TimePeriod={"Start": "2025-04-06", "End": "2025-04-09"}, Granularity="DAILY", Metrics=["UnblendedCost"]
    )
    amounts = [result["Total"]["UnblendedCost"]["Amount"] for result in response["ResultsByTime"]]
    assert amounts == ["1.8", "0", "0"]  # day 13 is odd: no Project C


# --------------------------------------------------------------------------- grouping


def test_group_by_tag_gives_key_dollar_value_and_fills_groups_not_total(ce: Any) -> None:
    response = ce.get_cost_and_usage(
        TimePeriod=PERIOD, Granularity="MONTHLY", Metrics=["UnblendedCost"], GroupBy=[{"Type": "TAG", "Key": "Project"}]
    )
    assert response["GroupDefinitions"] == [{"Type": "TAG", "Key": "Project"}]
    for result in response["ResultsByTime"]:
        assert result["Total"] == {}
    assert _whole_period_groups(ce, GroupBy=[{"Type": "TAG", "Key": "Project"}]) == {
        (key,): amount for key, amount in BY_PROJECT.items()
    }


def test_inactive_tag_key_behaves_as_untagged(ce: Any) -> None:
    owner = [{"Type": "TAG", "Key": "Owner"}]
    assert _whole_period_groups(ce, GroupBy=owner) == {("Owner$",): TOTAL}
    assert _total(ce, Filter={"Tags": {"Key": "Owner", "Values": ["alice"]}}) == "0"

    costexplorer.set_cost_allocation_tags({"Owner": "Active"})

    assert _whole_period_groups(ce, GroupBy=owner) == {("Owner$alice",): "15.4", ("Owner$",): "10.0333331"}


def test_two_group_bys(ce: Any) -> None:
    groups = _whole_period_groups(
        ce, GroupBy=[{"Type": "TAG", "Key": "Project"}, {"Type": "DIMENSION", "Key": "SERVICE"}]
    )
    assert groups == {
        ("Project$A", BEDROCK): "15.4",
        ("Project$A", S3): "0.7",
        ("Project$B", HAIKU): "3.5",
        ("Project$C", BEDROCK): "0.2333331",
        ("Project$", BEDROCK): "5.6",
    }


def test_group_by_region_and_usage_type(ce: Any) -> None:
    assert _whole_period_groups(ce, GroupBy=[{"Type": "DIMENSION", "Key": "REGION"}]) == {
        ("us-east-1",): "21.9333331",
        ("us-west-2",): "3.5",
    }
    by_usage_type = _whole_period_groups(ce, GroupBy=[{"Type": "DIMENSION", "Key": "USAGE_TYPE"}])
    assert by_usage_type[("USE1-Claude3Haiku-output-tokens",)] == "0.2333331"


def test_more_than_two_group_bys_is_rejected(ce: Any) -> None:
    with pytest.raises(ClientError) as error:
        ce.get_cost_and_usage(
            TimePeriod=PERIOD,
            Granularity="MONTHLY",
            Metrics=["UnblendedCost"],
            GroupBy=[
                {"Type": "TAG", "Key": "Project"},
                {"Type": "DIMENSION", "Key": "SERVICE"},
                {"Type": "DIMENSION", "Key": "REGION"},
            ],
        )
    assert _error_code(error) == "ValidationException"


# --------------------------------------------------------------------------- filters


def test_service_filter_on_amazon_bedrock_misses_marketplace_models(ce: Any) -> None:
    only_bedrock = {"Dimensions": {"Key": "SERVICE", "Values": [BEDROCK]}}
    assert _total(ce, Filter=only_bedrock) == "21.2333331"  # 15.40 + 0.2333331 + 5.60
    both = {"Dimensions": {"Key": "SERVICE", "Values": [BEDROCK, HAIKU]}}
    assert _total(ce, Filter=both) == "24.7333331"


def test_and_or_not_filters(ce: Any) -> None:
    bedrock_services = {"Dimensions": {"Key": "SERVICE", "Values": [BEDROCK, HAIKU]}}
    untagged = {"Tags": {"Key": "Project", "MatchOptions": ["ABSENT"]}}
    assert _total(ce, Filter=untagged) == "5.6"
    assert _total(ce, Filter={"And": [bedrock_services, {"Not": untagged}]}) == "19.1333331"
    project_b_or_s3 = {
        "Or": [
            {"Tags": {"Key": "Project", "Values": ["B"]}},
            {"Dimensions": {"Key": "SERVICE", "Values": [S3]}},
        ]
    }
    assert _total(ce, Filter=project_b_or_s3) == "4.2"
    # A tag filter without values means "without this tag", like ABSENT.
    assert _total(ce, Filter={"Tags": {"Key": "Project"}}) == "5.6"
    # The key carries no "user:" prefix in Cost Explorer: with one it names another tag.
    assert _total(ce, Filter={"Tags": {"Key": "user:Project", "Values": ["A"]}}) == "0"


def test_filter_combines_with_group_by(ce: Any) -> None:
    groups = _whole_period_groups(
        ce,
        GroupBy=[{"Type": "TAG", "Key": "Project"}],
        Filter={"Dimensions": {"Key": "SERVICE", "Values": [BEDROCK]}},
    )
    assert groups == {("Project$A",): "15.4", ("Project$C",): "0.2333331", ("Project$",): "5.6"}


@pytest.mark.parametrize(
    ("request_changes", "why"),
    [
        ({"Metrics": ["UnblendedCosts"]}, "unknown metric"),
        ({"Metrics": []}, "no metric"),
        ({"TimePeriod": {"Start": "2025-04-07", "End": "2025-04-07"}}, "start not before end"),
        ({"TimePeriod": {"Start": "2025-04-08", "End": "2025-04-07"}}, "start after end"),
        ({"Granularity": "HOURLY"}, "hourly data is opt-in"),
        ({"GroupBy": [{"Type": "DIMENSION", "Key": "NOT_A_DIMENSION"}]}, "unknown dimension"),
        (
            {
                "Filter": {
                    "Dimensions": {"Key": "SERVICE", "Values": [BEDROCK]},
                    "Tags": {"Key": "Project", "Values": ["A"]},
                }
            },
            "two roots in one expression",
        ),
        ({"Filter": {"CostCategories": {"Key": "Team", "Values": ["x"]}}}, "cost categories"),
        (
            {"Filter": {"Dimensions": {"Key": "SERVICE", "Values": [BEDROCK], "MatchOptions": ["CONTAINS"]}}},
            "match option GetCostAndUsage does not take",
        ),
        (
            {"Filter": {"Tags": {"Key": "Project", "Values": ["A"], "MatchOptions": ["ABSENT"]}}},
            "ABSENT with values",
        ),
    ],
)
def test_invalid_requests_are_validation_errors(ce: Any, request_changes: dict[str, Any], why: str) -> None:
    params: dict[str, Any] = {"TimePeriod": PERIOD, "Granularity": "MONTHLY", "Metrics": ["UnblendedCost"]}
    params.update(request_changes)
    with pytest.raises(ClientError) as error:
        ce.get_cost_and_usage(**params)
    assert _error_code(error) == "ValidationException", why


# --------------------------------------------------------------------------- paging


def test_grouped_results_page_and_the_token_is_needed_for_the_rest(ce: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(costexplorer, "PAGE_SIZE", 3)
    params: dict[str, Any] = {
        "TimePeriod": PERIOD,
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "TAG", "Key": "Project"}],
    }

    first = ce.get_cost_and_usage(**params)
    assert "NextPageToken" in first
    assert sum(len(result["Groups"]) for result in first["ResultsByTime"]) == 3

    pages = [first]
    while "NextPageToken" in pages[-1]:
        pages.append(ce.get_cost_and_usage(**params, NextPageToken=pages[-1]["NextPageToken"]))

    # 7 even days with 4 projects (A, B, C, none) and 7 odd days with 3: 49 groups, 3 a page.
    assert len(pages) == 17
    by_day: dict[str, dict[tuple[str, ...], str]] = {}
    sums: dict[str, Decimal] = {}
    for page in pages:
        for result in page["ResultsByTime"]:
            day = by_day.setdefault(result["TimePeriod"]["Start"], {})
            for keys, amount in _groups(result).items():
                assert keys not in day, "a group is listed once"
                day[keys] = amount
                sums[keys[0]] = sums.get(keys[0], Decimal(0)) + Decimal(amount)
    assert len(by_day) == DAYS
    assert by_day["2025-03-25"] == {("Project$",): "0.4", ("Project$A",): "1.15", ("Project$B",): "0.25"}
    assert {key: format(amount.normalize(), "f") for key, amount in sums.items()} == BY_PROJECT


def test_paging_token_is_bound_to_the_request(ce: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(costexplorer, "PAGE_SIZE", 2)
    params: dict[str, Any] = {
        "TimePeriod": PERIOD,
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "TAG", "Key": "Project"}],
    }
    token = ce.get_cost_and_usage(**params)["NextPageToken"]

    with pytest.raises(ClientError) as changed:
        ce.get_cost_and_usage(**{**params, "Metrics": ["BlendedCost"]}, NextPageToken=token)
    assert _error_code(changed) == "RequestChangedException"
    with pytest.raises(ClientError) as garbage:
        ce.get_cost_and_usage(**params, NextPageToken="not-a-token")
    assert _error_code(garbage) == "InvalidNextTokenException"


# --------------------------------------------------------------------------- dimension values and tags


def test_dimension_values_search_finds_every_bedrock_service(ce: Any) -> None:
    response = ce.get_dimension_values(TimePeriod=PERIOD, Dimension="SERVICE", SearchString="Bedrock")
    assert [value["Value"] for value in response["DimensionValues"]] == [BEDROCK, HAIKU]
    assert (response["ReturnSize"], response["TotalSize"]) == (2, 2)

    lower_case = ce.get_dimension_values(TimePeriod=PERIOD, Dimension="SERVICE", SearchString="bedrock")
    assert len(lower_case["DimensionValues"]) == 2
    everything = ce.get_dimension_values(TimePeriod=PERIOD, Dimension="SERVICE")
    assert [value["Value"] for value in everything["DimensionValues"]] == [BEDROCK, S3, HAIKU]
    outside = ce.get_dimension_values(TimePeriod={"Start": "2025-01-01", "End": "2025-02-01"}, Dimension="SERVICE")
    assert outside["DimensionValues"] == []


def test_dimension_values_page(ce: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(costexplorer, "DIMENSION_PAGE_SIZE", 2)
    first = ce.get_dimension_values(TimePeriod=PERIOD, Dimension="SERVICE")
    assert (first["ReturnSize"], first["TotalSize"]) == (2, 3)
    second = ce.get_dimension_values(TimePeriod=PERIOD, Dimension="SERVICE", NextPageToken=first["NextPageToken"])
    assert [value["Value"] for value in second["DimensionValues"]] == [HAIKU]
    assert "NextPageToken" not in second


def test_dimension_values_with_filter(ce: Any) -> None:
    response = ce.get_dimension_values(
        TimePeriod=PERIOD, Dimension="REGION", Filter={"Dimensions": {"Key": "SERVICE", "Values": [HAIKU]}}
    )
    assert [value["Value"] for value in response["DimensionValues"]] == ["us-west-2"]


def test_get_tags_lists_active_keys_and_values(ce: Any) -> None:
    assert ce.get_tags(TimePeriod=PERIOD)["Tags"] == ["Project"]
    values = ce.get_tags(TimePeriod=PERIOD, TagKey="Project")
    assert values["Tags"] == ["", "A", "B", "C"]
    assert ce.get_tags(TimePeriod=PERIOD, TagKey="Project", SearchString="b")["Tags"] == ["B"]


# --------------------------------------------------------------------------- cost allocation tags


def test_list_cost_allocation_tags_filters_and_pages(ce: Any) -> None:
    everything = ce.list_cost_allocation_tags()["CostAllocationTags"]
    assert [(tag["TagKey"], tag["Status"], tag["Type"]) for tag in everything] == [
        ("Owner", "Inactive", "UserDefined"),
        ("Project", "Active", "UserDefined"),
    ]
    assert everything[1]["LastUsedDate"] == "2025-04-01T00:00:00Z"
    active = ce.list_cost_allocation_tags(Status="Active")["CostAllocationTags"]
    assert [tag["TagKey"] for tag in active] == ["Project"]
    assert ce.list_cost_allocation_tags(Type="AWSGenerated")["CostAllocationTags"] == []
    assert [t["TagKey"] for t in ce.list_cost_allocation_tags(TagKeys=["Owner"])["CostAllocationTags"]] == ["Owner"]

    first = ce.list_cost_allocation_tags(MaxResults=1)
    second = ce.list_cost_allocation_tags(MaxResults=1, NextToken=first["NextToken"])
    assert [first["CostAllocationTags"][0]["TagKey"], second["CostAllocationTags"][0]["TagKey"]] == ["Owner", "Project"]
    assert "NextToken" not in second


def test_activation_through_the_api_is_not_retroactive(ce: Any) -> None:
    response = ce.update_cost_allocation_tags_status(CostAllocationTagsStatus=[{"TagKey": "Owner", "Status": "Active"}])
    assert response["Errors"] == []
    assert [t["Status"] for t in ce.list_cost_allocation_tags(TagKeys=["Owner"])["CostAllocationTags"]] == ["Active"]

    # The fortnight in the ledger was billed before the activation: still untagged for Owner.
    assert _whole_period_groups(ce, GroupBy=[{"Type": "TAG", "Key": "Owner"}]) == {("Owner$",): TOTAL}

    today = datetime.now(UTC).date()
    costexplorer.seed_ledger(
        [CostRow(day=today, service=BEDROCK, tags={"Owner": "bob"}, unblended_cost=Decimal("2.5"))]
    )
    response = ce.get_cost_and_usage(
        TimePeriod={"Start": today.isoformat(), "End": (today + timedelta(days=1)).isoformat()},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "TAG", "Key": "Owner"}],
    )
    assert _groups(response["ResultsByTime"][0]) == {("Owner$bob",): "2.5"}


def test_unknown_tag_keys_are_per_key_errors_unless_every_key_is_unknown(ce: Any) -> None:
    response = ce.update_cost_allocation_tags_status(
        CostAllocationTagsStatus=[
            {"TagKey": "Owner", "Status": "Active"},
            {"TagKey": "NeverSeen", "Status": "Active"},
        ]
    )
    assert response["Errors"] == [
        {
            "TagKey": "NeverSeen",
            "Code": "TagKeysNotFoundException",
            "Message": "Failed to update Cost Allocation Tag: NeverSeen",
        }
    ]
    assert [t["Status"] for t in ce.list_cost_allocation_tags(TagKeys=["Owner"])["CostAllocationTags"]] == ["Active"]

    with pytest.raises(ClientError) as error:
        ce.update_cost_allocation_tags_status(CostAllocationTagsStatus=[{"TagKey": "NeverSeen", "Status": "Active"}])
    assert _error_code(error) == "ValidationException"
    assert "Tag keys not found: NeverSeen" in str(error.value)


def test_at_most_twenty_tag_keys_per_update(ce: Any) -> None:
    costexplorer.set_cost_allocation_tags({f"Key{i}": "Inactive" for i in range(21)})
    entries = [{"TagKey": f"Key{i}", "Status": "Active"} for i in range(21)]
    with pytest.raises(ClientError) as error:
        ce.update_cost_allocation_tags_status(CostAllocationTagsStatus=entries)
    assert _error_code(error) == "ValidationException"
    assert ce.update_cost_allocation_tags_status(CostAllocationTagsStatus=entries[:20])["Errors"] == []


def test_member_account_may_not_touch_cost_allocation_tags(ce: Any) -> None:
    costexplorer.set_member_account()
    calls: list[Callable[[], object]] = [
        ce.list_cost_allocation_tags,
        lambda: ce.update_cost_allocation_tags_status(
            CostAllocationTagsStatus=[{"TagKey": "Owner", "Status": "Active"}]
        ),
    ]
    for call in calls:
        with pytest.raises(ClientError) as error:
            call()
        assert _error_code(error) == "AccessDeniedException"
        assert "Linked account doesn't have access to cost allocation tags" in str(error.value)
    # Cost queries still work, grouped by the tags the management account activated.
    assert _whole_period_groups(ce, GroupBy=[{"Type": "TAG", "Key": "Project"}])[("Project$B",)] == "3.5"


# --------------------------------------------------------------------------- switches and accounts


def test_data_unavailable_switch(ce: Any) -> None:
    costexplorer.set_data_unavailable()
    with pytest.raises(ClientError) as error:
        ce.get_cost_and_usage(TimePeriod=PERIOD, Granularity="DAILY", Metrics=["UnblendedCost"])
    assert _error_code(error) == "DataUnavailableException"
    with pytest.raises(ClientError):
        ce.get_dimension_values(TimePeriod=PERIOD, Dimension="SERVICE")
    costexplorer.set_data_unavailable(False)
    assert _total(ce) == TOTAL


def test_each_account_has_its_own_ledger(ce: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    costexplorer.seed_ledger(
        [CostRow(day=FIRST_DAY, service=BEDROCK, unblended_cost=Decimal("7"))], account_id=OTHER_ACCOUNT
    )
    monkeypatch.setenv("MOTO_ACCOUNT_ID", OTHER_ACCOUNT)
    assert _total(ce) == "7"
    by_account = _whole_period_groups(ce, GroupBy=[{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}])
    assert by_account == {(OTHER_ACCOUNT,): "7"}
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    assert _total(ce) == TOTAL


def test_clear_ledger(ce: Any) -> None:
    costexplorer.clear_ledger()
    assert _total(ce) == "0"


def test_amounts_must_be_decimals() -> None:
    with pytest.raises(TypeError):
        CostRow(day=FIRST_DAY, service=BEDROCK, unblended_cost=1.1)  # type: ignore[arg-type]


def test_install_is_idempotent(ce: Any) -> None:
    install()
    costexplorer.install()
    assert _total(ce) == TOTAL


# --------------------------------------------------------------------------- server mode


def test_seeded_ledger_is_served_over_http() -> None:
    install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
        costexplorer.seed_ledger(LEDGER)
        costexplorer.set_cost_allocation_tags({"Project": "Active"})
        client: Any = boto3.client("ce", region_name="us-east-1", endpoint_url=endpoint)

        assert _total(client) == TOTAL
        assert _whole_period_groups(client, GroupBy=[{"Type": "TAG", "Key": "Project"}]) == {
            (key,): amount for key, amount in BY_PROJECT.items()
        }
        with pytest.raises(ClientError) as error:
            client.get_cost_and_usage(TimePeriod=PERIOD, Granularity="DAILY", Metrics=["Nope"])
        assert _error_code(error) == "ValidationException"
    finally:
        requests.post(f"{endpoint}/moto-api/reset", timeout=10)
        server.stop()
