"""AWS Organizations adapter: the accounts under OUs (or the whole organization), paged to the end."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from bedrock_governance.aws.costexplorer import guarded_pages
from bedrock_governance.aws.errors import aws_call
from bedrock_governance.org.policy import ACTIVE, Account

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient

# The largest page ListAccounts and ListAccountsForParent allow. A page may be empty and still carry
# a NextToken: only its absence ends the answer.
PAGE_SIZE: Final = 20
# OUs nest at most five levels below the root; a deeper walk means a loop in the answer.
MAX_OU_DEPTH: Final = 6


@dataclass(frozen=True)
class OrganizationInfo:
    organization_id: str
    management_account_id: str


def _account(entry: Mapping[str, Any]) -> Account:
    # "State" (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED) supersedes "Status" since 2025; either may be there.
    status = str(entry.get("State") or entry.get("Status") or ACTIVE)
    return Account(str(entry["Id"]), str(entry.get("Name", "")), status)


class OrganizationDirectory:
    """Reads the organization from its management or delegated administrator account."""

    def __init__(self, client: OrganizationsClient) -> None:
        self._client = client

    def describe(self) -> OrganizationInfo:
        with aws_call("organizations", "DescribeOrganization"):
            organization = self._client.describe_organization()["Organization"]
        return OrganizationInfo(str(organization["Id"]), str(organization.get("MasterAccountId", "")))

    def _pages(self, operation: str, call: Any, request: dict[str, Any]) -> Iterator[Mapping[str, Any]]:
        def pages() -> Iterator[Mapping[str, Any]]:
            params = dict(request)
            while True:
                response: Mapping[str, Any] = call(**params)
                yield response
                params["NextToken"] = response.get("NextToken")

        return guarded_pages(operation, pages(), "NextToken", service="organizations")

    def accounts(self, parent_ids: Sequence[str] = ()) -> list[Account]:
        """Every account under ``parent_ids`` (OUs or the root, and their child OUs); empty: all."""
        if not parent_ids:
            return [
                _account(entry)
                for page in self._pages("ListAccounts", self._client.list_accounts, {"MaxResults": PAGE_SIZE})
                for entry in page.get("Accounts", [])
            ]
        found: list[Account] = []
        visited: set[str] = set()
        level = list(dict.fromkeys(parent_ids))
        for _ in range(MAX_OU_DEPTH):
            children: list[str] = []
            for parent in level:
                if parent in visited:
                    continue
                visited.add(parent)
                request = {"ParentId": parent, "MaxResults": PAGE_SIZE}
                for page in self._pages("ListAccountsForParent", self._client.list_accounts_for_parent, request):
                    found += [_account(entry) for entry in page.get("Accounts", [])]
                for page in self._pages(
                    "ListOrganizationalUnitsForParent", self._client.list_organizational_units_for_parent, request
                ):
                    children += [str(unit["Id"]) for unit in page.get("OrganizationalUnits", [])]
            level = [child for child in children if child not in visited]
            if not level:
                break
        return found
