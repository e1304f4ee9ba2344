"""Settings of organization scope, built ``from_env()`` (or from the command line's flags)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bedrock_governance.core.errors import ConfigError
from bedrock_governance.core.settings import environ, parse_int, parse_list

# Organizations' own patterns (the API reference of OrganizationalUnit and Root ids).
_OU_ID: Final = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
_ROOT_ID: Final = re.compile(r"r-[0-9a-z]{4,32}")
_ACCOUNT_ID: Final = re.compile(r"[0-9]{12}")
# IAM role names: 1..64 of letters, digits and +=,.@_-
_ROLE_NAME: Final = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)

DEFAULT_MEMBER_ROLE_NAME: Final = "BedrockGovernanceMember"
# 20 accounts at a time: each worker makes a handful of control-plane calls per region, so 20
# keeps every regional Bedrock and CloudWatch quota of the *central* functions' account far away
# (the calls are made with member credentials, but STS AssumeRole runs in the central account:
# its default quota is far above 20 concurrent calls) while 100 accounts x 3 regions finish in
# 15 waves of a few seconds each. Raise it for thousands of accounts; 1000 is the template's bound.
DEFAULT_MAX_CONCURRENT_ACCOUNTS: Final = 20
MAX_CONCURRENT_ACCOUNTS_MAX: Final = 1000


class GovernanceScope(StrEnum):
    ACCOUNT = "ACCOUNT"
    ORGANIZATION = "ORGANIZATION"


def parse_scope(value: str, setting: str) -> GovernanceScope:
    text = value.strip().upper() or GovernanceScope.ACCOUNT.value
    try:
        return GovernanceScope(text)
    except ValueError:
        raise ConfigError(setting, f"must be ACCOUNT or ORGANIZATION, got {value!r}") from None


def parse_parent_ids(value: str, setting: str) -> tuple[str, ...]:
    ids = parse_list(value)
    for item in ids:
        if not (_OU_ID.fullmatch(item) or _ROOT_ID.fullmatch(item)):
            raise ConfigError(setting, f"{item!r} is neither an OU id (ou-xxxx-xxxxxxxx) nor a root id (r-xxxx)")
    return tuple(dict.fromkeys(ids))


def parse_account_ids(value: str, setting: str) -> tuple[str, ...]:
    ids = parse_list(value)
    for item in ids:
        if not _ACCOUNT_ID.fullmatch(item):
            raise ConfigError(setting, f"{item!r} is not a 12-digit account id")
    return tuple(dict.fromkeys(ids))


def parse_role_name(value: str, setting: str) -> str:
    name = value.strip()
    if not _ROLE_NAME.fullmatch(name):
        raise ConfigError(setting, f"{value!r} is not an IAM role name (1-64 of letters, digits and +=,.@_-)")
    return name


@dataclass(frozen=True)
class OrganizationConfig:
    """Which accounts a run governs and how it reaches them."""

    scope: GovernanceScope = GovernanceScope.ACCOUNT
    parent_ids: tuple[str, ...] = ()  # OUs or the root; empty: the whole organization
    excluded_accounts: tuple[str, ...] = ()
    member_role_name: str = DEFAULT_MEMBER_ROLE_NAME
    max_concurrent_accounts: int = DEFAULT_MAX_CONCURRENT_ACCOUNTS
    accounts: tuple[str, ...] = ()  # an explicit list (command line --accounts): Organizations is not asked

    @property
    def is_organization(self) -> bool:
        return self.scope is GovernanceScope.ORGANIZATION

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OrganizationConfig:
        values = environ(env)
        return cls(
            scope=parse_scope(values.get("GOVERNANCE_SCOPE", ""), "GOVERNANCE_SCOPE"),
            parent_ids=parse_parent_ids(values.get("ORGANIZATIONAL_UNIT_IDS", ""), "ORGANIZATIONAL_UNIT_IDS"),
            excluded_accounts=parse_account_ids(values.get("EXCLUDED_ACCOUNT_IDS", ""), "EXCLUDED_ACCOUNT_IDS"),
            member_role_name=parse_role_name(
                values.get("MEMBER_ROLE_NAME", DEFAULT_MEMBER_ROLE_NAME), "MEMBER_ROLE_NAME"
            ),
            max_concurrent_accounts=parse_int(
                values.get("MAX_CONCURRENT_ACCOUNTS", str(DEFAULT_MAX_CONCURRENT_ACCOUNTS)),
                "MAX_CONCURRENT_ACCOUNTS",
                minimum=1,
                maximum=MAX_CONCURRENT_ACCOUNTS_MAX,
            ),
        )
