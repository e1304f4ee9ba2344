"""The Organizations adapter pages as AWS answers: an empty page may still carry a NextToken."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from bedrock_governance.aws.organizations import PAGE_SIZE, OrganizationDirectory
from bedrock_governance.core.errors import PagingError


def account(account_id: str, state: str = "ACTIVE") -> dict[str, str]:
    return {"Id": account_id, "Name": f"n{account_id[-2:]}", "State": state, "Arn": "arn:aws:x", "Email": "e@x.io"}


@pytest.fixture
def stubbed() -> Iterator[tuple[OrganizationDirectory, Stubber]]:
    client = boto3.client("organizations", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield OrganizationDirectory(client), stubber


def test_an_empty_page_with_a_token_is_followed_to_the_end(stubbed: tuple[OrganizationDirectory, Stubber]) -> None:
    directory, stubber = stubbed
    stubber.add_response("list_accounts", {"Accounts": [], "NextToken": "t1"}, {"MaxResults": PAGE_SIZE})
    stubber.add_response(
        "list_accounts",
        {"Accounts": [account("111111111111")], "NextToken": "t2"},
        {"MaxResults": PAGE_SIZE, "NextToken": "t1"},
    )
    stubber.add_response(
        "list_accounts",
        {"Accounts": [account("222222222222", "SUSPENDED")]},
        {"MaxResults": PAGE_SIZE, "NextToken": "t2"},
    )
    found = directory.accounts()
    assert [(a.account_id, a.status) for a in found] == [("111111111111", "ACTIVE"), ("222222222222", "SUSPENDED")]
    stubber.assert_no_pending_responses()


def test_a_token_that_comes_back_stops_the_listing(stubbed: tuple[OrganizationDirectory, Stubber]) -> None:
    directory, stubber = stubbed
    stubber.add_response("list_accounts", {"Accounts": [], "NextToken": "again"}, {"MaxResults": PAGE_SIZE})
    stubber.add_response(
        "list_accounts", {"Accounts": [], "NextToken": "again"}, {"MaxResults": PAGE_SIZE, "NextToken": "again"}
    )
    with pytest.raises(PagingError):
        directory.accounts()


def test_ous_are_walked_down_to_their_child_ous(stubbed: tuple[OrganizationDirectory, Stubber]) -> None:
    directory, stubber = stubbed
    parent = {"ParentId": "ou-ab12-aaaaaaaa", "MaxResults": PAGE_SIZE}
    child = {"ParentId": "ou-ab12-bbbbbbbb", "MaxResults": PAGE_SIZE}
    stubber.add_response("list_accounts_for_parent", {"Accounts": [account("111111111111")]}, parent)
    stubber.add_response(
        "list_organizational_units_for_parent",
        {"OrganizationalUnits": [{"Id": "ou-ab12-bbbbbbbb", "Arn": "arn:aws:x", "Name": "child"}]},
        parent,
    )
    stubber.add_response("list_accounts_for_parent", {"Accounts": [account("222222222222")]}, child)
    stubber.add_response("list_organizational_units_for_parent", {"OrganizationalUnits": []}, child)
    found = directory.accounts(["ou-ab12-aaaaaaaa"])
    assert [a.account_id for a in found] == ["111111111111", "222222222222"]
    stubber.assert_no_pending_responses()
