"""Which (account, region) pairs a run governs, and what a failed one means: pure, no AWS calls.

A target's label, ``<account id>/<region>``, stands where account scope has a region name: in the
alert state, in failures and in the circuit breaker's reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from bedrock_governance.core.arn import parse_arn
from bedrock_governance.core.models import InferenceProfile, UsageHistory

ACTIVE: Final = "ACTIVE"


@dataclass(frozen=True)
class Account:
    """A member account as Organizations lists it."""

    account_id: str
    name: str
    status: str = ACTIVE

    def to_dict(self) -> dict[str, str]:
        return {"id": self.account_id, "name": self.name, "status": self.status}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Account:
        return cls(str(data["id"]), str(data.get("name", "")), str(data.get("status", ACTIVE)))


@dataclass(frozen=True)
class Target:
    """One (account, region) a worker sweeps."""

    account_id: str
    region: str

    @property
    def label(self) -> str:
        return target_label(self.account_id, self.region)

    def to_item(self) -> dict[str, str]:
        """The Distributed Map item (small: the plan's directory holds the names)."""
        return {"account": self.account_id, "region": self.region}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Target:
        return cls(str(item["account"]), str(item["region"]))


def target_label(account_id: str, region: str) -> str:
    return f"{account_id}/{region}"


def label_of_arn(arn: str) -> str:
    """The target a profile ARN belongs to: its account and region."""
    parts = parse_arn(arn)
    return target_label(parts.account, parts.region)


@dataclass(frozen=True)
class SkippedAccount:
    account: Account
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {**self.account.to_dict(), "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SkippedAccount:
        return cls(Account.from_dict(data), str(data["reason"]))


@dataclass(frozen=True)
class TargetPlan:
    """The accounts a run governs (with names), those it skips and why, and the targets."""

    accounts: tuple[Account, ...]
    skipped: tuple[SkippedAccount, ...]
    regions: tuple[str, ...]

    @property
    def targets(self) -> tuple[Target, ...]:
        return tuple(Target(account.account_id, region) for account in self.accounts for region in self.regions)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(target.label for target in self.targets)

    def names(self) -> dict[str, str]:
        return {account.account_id: account.name for account in (*self.accounts, *(s.account for s in self.skipped))}

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": [account.to_dict() for account in self.accounts],
            "skipped": [skipped.to_dict() for skipped in self.skipped],
            "regions": list(self.regions),
            "targets": [target.to_item() for target in self.targets],
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> TargetPlan:
        return cls(
            accounts=tuple(Account.from_dict(item) for item in document["accounts"]),
            skipped=tuple(SkippedAccount.from_dict(item) for item in document.get("skipped", [])),
            regions=tuple(str(region) for region in document["regions"]),
        )


def plan_targets(
    accounts: Sequence[Account],
    regions: Sequence[str],
    *,
    excluded: Sequence[str] = (),
) -> TargetPlan:
    """ACTIVE accounts minus the excluded ones, times the regions; the rest is skipped with its reason.

    Accounts are sorted by id and listed once, whatever order or repetition Organizations answered
    with (an account is under one OU, but the same OU may be named twice)."""
    unique = {account.account_id: account for account in accounts}
    chosen: list[Account] = []
    skipped: list[SkippedAccount] = []
    excluded_ids = set(excluded)
    for account_id in sorted(unique):
        account = unique[account_id]
        if account_id in excluded_ids:
            skipped.append(SkippedAccount(account, "excluded (ExcludedAccountIds)"))
        elif account.status != ACTIVE:
            skipped.append(SkippedAccount(account, f"status {account.status}: not governed until it is ACTIVE again"))
        else:
            chosen.append(account)
    return TargetPlan(accounts=tuple(chosen), skipped=tuple(skipped), regions=tuple(regions))


# Error codes that mean "this region is not enabled in that account" (an opt-in region): STS
# issues credentials that the region's endpoints do not know.
_REGION_NOT_ENABLED: Final = frozenset(
    {"UnrecognizedClientException", "InvalidClientTokenId", "RegionDisabledException"}
)


@dataclass(frozen=True)
class TargetFailure:
    """A target the run could not complete: what AWS said, what it means, and the fix."""

    target: Target
    step: str  # "assume-role" or "sweep"
    error_code: str
    message: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return {
            **self.target.to_item(),
            "step": self.step,
            "errorCode": self.error_code,
            "message": self.message,
            "fix": self.fix,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TargetFailure:
        return cls(
            Target.from_item(data),
            str(data.get("step", "sweep")),
            str(data["errorCode"]),
            str(data["message"]),
            str(data.get("fix", "")),
        )


MANAGEMENT_ACCOUNT_FIX: Final = (
    "StackSets never deploy to the management account: deploy member-role.yaml there, "
    "or leave it out with ExcludedAccountIds"
)


def in_management_account(failure: TargetFailure, management_account_id: str) -> TargetFailure:
    """The fix for a missing member role in the management account, where no StackSet reaches."""
    if failure.step != "assume-role" or failure.target.account_id != management_account_id:
        return failure
    if failure.error_code not in {"AccessDenied", "AccessDeniedException"}:
        return failure
    return TargetFailure(failure.target, failure.step, failure.error_code, failure.message, MANAGEMENT_ACCOUNT_FIX)


def explain_failure(target: Target, step: str, error_code: str, message: str, role_name: str) -> TargetFailure:
    """What a failed (account, region) means for the people who read the alert, and what fixes it."""
    if step == "assume-role":
        if error_code in {"AccessDenied", "AccessDeniedException"}:
            meaning = f"role {role_name} not found in {target.account_id}, or it does not trust this stack"
            fix = "has the StackSet reached this account? (or deploy member-role.yaml there)"
            return TargetFailure(target, step, error_code, meaning, fix)
        if error_code in _REGION_NOT_ENABLED:
            return TargetFailure(
                target, step, error_code, message, "STS is not enabled in this region for the account: enable it"
            )
        return TargetFailure(target, step, error_code, message, "")
    if error_code in _REGION_NOT_ENABLED:
        meaning = f"{target.region} is not enabled in {target.account_id}"
        return TargetFailure(
            target, step, error_code, meaning, "enable the region in the account, or remove it from GovernedRegions"
        )
    if error_code in {"AccessDenied", "AccessDeniedException"}:
        fix = f"role {role_name} lacks a permission: update the StackSet (or member-role.yaml) to this version"
        return TargetFailure(target, step, error_code, message, fix)
    return TargetFailure(target, step, error_code, message, "")


@dataclass(frozen=True)
class OrganizationView:
    """What an organization run's message says of the accounts: names, which were governed, which skipped."""

    organization_id: str
    accounts: tuple[Account, ...]
    skipped: tuple[SkippedAccount, ...] = ()

    @classmethod
    def of(cls, organization_id: str, plan: TargetPlan) -> OrganizationView:
        return cls(organization_id, plan.accounts, plan.skipped)

    def name_of(self, account_id: str) -> str:
        for account in (*self.accounts, *(s.account for s in self.skipped)):
            if account.account_id == account_id:
                return account.name
        return ""

    def describe_account(self, account_id: str) -> str:
        name = self.name_of(account_id)
        return f"{account_id} ({name})" if name else account_id

    def describe_label(self, label: str) -> str:
        """``111111111111 (Payments) us-east-1`` for the label ``111111111111/us-east-1``."""
        account_id, _, region = label.partition("/")
        return f"{self.describe_account(account_id)} {region}" if region else label

    def to_dict(self) -> dict[str, Any]:
        return {
            "organizationId": self.organization_id,
            "accounts": [account.to_dict() for account in self.accounts],
            "skippedAccounts": [skipped.to_dict() for skipped in self.skipped],
        }


class OrganizationJob(StrEnum):
    TAG_COMPLIANCE = "tag-compliance"
    IDLE_PROFILES = "idle-profiles"


@dataclass(frozen=True)
class TargetSweep:
    """What a worker read in one (account, region), or why it could not."""

    target: Target
    profiles: tuple[InferenceProfile, ...] = ()
    usage: Mapping[str, UsageHistory] = field(default_factory=lambda: MappingProxyType({}))
    failure: TargetFailure | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {**self.target.to_item(), "profiles": [p.to_dict() for p in self.profiles]}
        if self.usage:
            document["usage"] = {profile_id: history.to_dict() for profile_id, history in self.usage.items()}
        if self.failure:
            document["failure"] = self.failure.to_dict()
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> TargetSweep:
        failure = document.get("failure")
        return cls(
            target=Target.from_item(document),
            profiles=tuple(InferenceProfile.from_dict(item) for item in document.get("profiles", [])),
            usage=MappingProxyType(
                {str(key): UsageHistory.from_dict(value) for key, value in dict(document.get("usage", {})).items()}
            ),
            failure=TargetFailure.from_dict(failure) if failure else None,
        )
