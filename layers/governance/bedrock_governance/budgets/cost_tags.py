"""The budgets' cost allocation tags: status read, inactive ones activated, a refusal remembered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from aws_lambda_powertools import Logger

from bedrock_governance.aws import ports
from bedrock_governance.budgets.policy import (
    CostTagCheck,
    OrganizationMembership,
    check_cost_tags,
    keys_to_activate,
)
from bedrock_governance.budgets.render import (
    BudgetAlertState,
)
from bedrock_governance.core.errors import AccessDenied, AwsError

logger = Logger(child=True)

# What DescribeOrganization answers in an account that belongs to no organization.
NOT_IN_ORGANIZATION: Final = "AWSOrganizationsNotInUseException"

# A refused activation (member account) is tried again this often, not every day.
ACTIVATION_RETRY: Final = timedelta(days=7)


@dataclass(frozen=True)
class CostTagOutcome:
    check: CostTagCheck
    refused_at: datetime | None
    refused_keys: tuple[str, ...]


def membership_of(organizations: ports.OrganizationReader | None, account_id: str) -> OrganizationMembership | None:
    """This account as a member account of an organization, or None: standalone, the management
    account, or not known (Organizations not reachable: the Cost Explorer calls then say what they can)."""
    if organizations is None:
        return None
    try:
        info = organizations.describe()
    except AwsError as error:
        if error.code != NOT_IN_ORGANIZATION:
            logger.info("Organization membership not known", extra={"error": str(error)})
        return None
    if not info.management_account_id or info.management_account_id == account_id:
        return None
    return OrganizationMembership(account_id, info.organization_id, info.management_account_id)


def check_cost_tags_step(
    cost_explorer: ports.CostTags,
    keys: tuple[str, ...],
    previous: BudgetAlertState,
    now: datetime,
    *,
    activate: bool,
    dry_run: bool,
    member_of: OrganizationMembership | None = None,
) -> CostTagOutcome:
    """Read the cost allocation tags' status, activate the inactive ones when allowed, and keep
    AWS's refusal for a week so that a denied activation is not retried every run. A member
    account of an organization asks nothing: it says where activation must happen."""
    refused_at, refused_keys = previous.activation_refused_at, previous.activation_refused_keys
    if member_of is not None:
        return CostTagOutcome(
            check_cost_tags(keys, None, activation_enabled=activate, member_of=member_of), refused_at, refused_keys
        )
    try:
        statuses = cost_explorer.cost_allocation_tag_status(keys)
    except AwsError as error:
        logger.warning("Cost allocation tags could not be listed", extra={"error": str(error)})
        check = check_cost_tags(
            keys,
            None,
            list_error=(error.code, error.aws_message),
            activation_enabled=activate,
        )
        return CostTagOutcome(check, refused_at, refused_keys)
    inactive = keys_to_activate(keys, statuses)
    activated: tuple[str, ...] = ()
    activation_errors: list[tuple[str, str, str]] = []
    refused: tuple[str, str] | None = None
    if inactive and activate and not dry_run:
        if refused_at is not None and set(inactive) <= set(refused_keys) and now - refused_at < ACTIVATION_RETRY:
            refused = ("AccessDenied", f"refused on {refused_at:%Y-%m-%d}; tried again weekly")
        else:
            try:
                problems = cost_explorer.activate_cost_allocation_tags(inactive)
            except AccessDenied as error:
                refused, refused_at, refused_keys = (error.code, error.aws_message), now, inactive
            except AwsError as error:
                activation_errors = [(key, error.code, error.aws_message) for key in inactive]
            else:
                activation_errors = [(p.key, p.code, p.message) for p in problems]
                failed = {p.key for p in problems}
                activated = tuple(key for key in inactive if key not in failed)
                refused_at, refused_keys = None, ()
    check = check_cost_tags(
        keys,
        statuses,
        activation_enabled=activate,
        activated=activated,
        activation_errors=activation_errors,
        activation_refused=refused,
    )
    if activated:
        logger.info("Cost allocation tags activated", extra={"keys": list(activated)})
    return CostTagOutcome(check, refused_at, refused_keys)
