"""Seed an AWS Organization into the embedded AWS: OUs, member accounts, member roles, estates.

Shared by the tests, the demo and the benchmark. The management account is the embedded AWS's
default account; every member account is created with ``CreateAccount`` (which gives it
``OrganizationAccountAccessRole``, as AWS does), gets the member role from ``member-role.yaml``
through CloudFormation, as the StackSet would deploy it (unless ``without_role``), and its own
Bedrock estate seeded through that access role.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import boto3

from embedded_aws.accounts import ACCESS_ROLE
from embedded_aws.seed import Estate, EstateSpec, seed_estate

MEMBER_ROLE_TEMPLATE: Final = Path(__file__).resolve().parent.parent / "member-role.yaml"
DEFAULT_MEMBER_ROLE: Final = "BedrockGovernanceMember"


@dataclass(frozen=True)
class OrganizationSpec:
    """``accounts_per_ou`` accounts in each of ``ous``; indexes (0-based, in creation order) of the
    accounts left without the member role, suspended or meant to be excluded."""

    ous: tuple[str, ...] = ("Payments", "Research", "Platform")
    accounts_per_ou: int = 4
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1")
    profiles_per_account: int = 12
    without_role: tuple[int, ...] = (5,)
    suspended: tuple[int, ...] = (9,)
    excluded: tuple[int, ...] = (11,)
    member_role_name: str = DEFAULT_MEMBER_ROLE
    trusted_role_arns: tuple[str, ...] = ()
    """Who the member role trusts; empty: the caller of :func:`seed_organization` (a person's CLI)."""
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    usage: bool = True
    member_roles: bool = True
    """False: no account gets the member role here (a deployed stack's StackSet gives it to them)."""


@dataclass(frozen=True)
class MemberAccount:
    account_id: str
    name: str
    ou: str
    has_role: bool
    suspended: bool
    excluded: bool
    estate: Estate | None


@dataclass(frozen=True)
class OrganizationEstate:
    organization_id: str
    root_id: str
    management_account_id: str
    ou_ids: dict[str, str]
    accounts: tuple[MemberAccount, ...]

    @property
    def excluded_ids(self) -> tuple[str, ...]:
        return tuple(a.account_id for a in self.accounts if a.excluded)

    def account(self, name: str) -> MemberAccount:
        return next(a for a in self.accounts if a.name == name)


def member_session(
    account_id: str, *, endpoint_url: str | None = None, role_name: str = ACCESS_ROLE, region: str = "us-east-1"
) -> boto3.session.Session:
    """A session in a member account, through its Organizations access role."""
    sts = boto3.client("sts", region_name=region, endpoint_url=endpoint_url)
    issued = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}", RoleSessionName="embedded-aws-seed")
    keys = issued["Credentials"]
    return boto3.session.Session(keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"], region_name=region)


def remove_member_role(
    account_id: str, role_name: str = DEFAULT_MEMBER_ROLE, *, endpoint_url: str | None = None
) -> None:
    """As if someone had deleted the StackSet's role in one member account."""
    iam = member_session(account_id, endpoint_url=endpoint_url).client("iam")
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role_name, PolicyName=name)
    iam.delete_role(RoleName=role_name)


def deploy_member_role(
    session: boto3.session.Session,
    *,
    trusted_role_arns: Sequence[str],
    role_name: str = DEFAULT_MEMBER_ROLE,
    endpoint_url: str | None = None,
    stack_name: str = "bedrock-governance-member",
) -> None:
    """``member-role.yaml`` as a stack in the session's account (what a StackSet instance is)."""
    cloudformation = session.client("cloudformation", endpoint_url=endpoint_url)
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=MEMBER_ROLE_TEMPLATE.read_text(),
        Parameters=[
            {"ParameterKey": "MemberRoleName", "ParameterValue": role_name},
            {"ParameterKey": "TrustedRoleArns", "ParameterValue": ",".join(trusted_role_arns)},
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )


def _caller_arn(endpoint_url: str | None) -> str:
    """The caller as a trust policy names it: an assumed role's role ARN, else the account root."""
    arn = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint_url).get_caller_identity()["Arn"]
    if ":assumed-role/" in arn:
        prefix, _, rest = arn.partition(":assumed-role/")
        return f"{prefix.replace(':sts:', ':iam:')}:role/{rest.split('/')[0]}"
    account = arn.split(":")[4]
    return f"arn:aws:iam::{account}:root"


def seed_organization(
    spec: OrganizationSpec = OrganizationSpec(),
    *,
    endpoint_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> OrganizationEstate:
    """Create the organization from the management account (the caller's)."""
    say = progress or (lambda _message: None)
    organizations = boto3.client("organizations", region_name="us-east-1", endpoint_url=endpoint_url)
    try:
        organization = organizations.create_organization(FeatureSet="ALL")["Organization"]
    except organizations.exceptions.AlreadyInOrganizationException:
        organization = organizations.describe_organization()["Organization"]
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    trusted = list(spec.trusted_role_arns) or [_caller_arn(endpoint_url)]
    ou_ids: dict[str, str] = {}
    members: list[MemberAccount] = []
    index = 0
    say(f"creating {len(spec.ous)} OUs with {spec.accounts_per_ou} accounts each")
    for ou in spec.ous:
        ou_id = organizations.create_organizational_unit(ParentId=root_id, Name=ou)["OrganizationalUnit"]["Id"]
        ou_ids[ou] = ou_id
        for number in range(spec.accounts_per_ou):
            name = f"{ou.lower()}-{number + 1}"
            status = organizations.create_account(AccountName=name, Email=f"{name}@example.com")
            account_id = status["CreateAccountStatus"]["AccountId"]
            organizations.move_account(AccountId=account_id, SourceParentId=root_id, DestinationParentId=ou_id)
            session = member_session(account_id, endpoint_url=endpoint_url)
            has_role = index not in spec.without_role
            if has_role and spec.member_roles:
                deploy_member_role(
                    session, trusted_role_arns=trusted, role_name=spec.member_role_name, endpoint_url=endpoint_url
                )
            estate_spec = EstateSpec(
                profiles=spec.profiles_per_account,
                regions=spec.regions,
                now=spec.now,
                usage=spec.usage,
                costs=False,
                random_seed=2026 + index,
                account_id=account_id,
            )
            estate = seed_estate(estate_spec, session=session, endpoint_url=endpoint_url)
            members.append(
                MemberAccount(
                    account_id=account_id,
                    name=name,
                    ou=ou,
                    has_role=has_role,
                    suspended=index in spec.suspended,
                    excluded=index in spec.excluded,
                    estate=estate,
                )
            )
            index += 1
    for member in members:
        if member.suspended:
            organizations.close_account(AccountId=member.account_id)
    return OrganizationEstate(
        organization_id=str(organization["Id"]),
        root_id=root_id,
        management_account_id=str(organization["MasterAccountId"]),
        ou_ids=ou_ids,
        accounts=tuple(members),
    )


__all__ = ["OrganizationEstate", "OrganizationSpec", "member_session", "remove_member_role", "seed_organization"]
