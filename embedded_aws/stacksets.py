"""Service-managed StackSets as AWS runs them.

moto deploys a SERVICE_MANAGED stack set to the accounts directly under the target OUs and one
level of child OUs, the management account included; AWS deploys to every account of the OUs and
of all their descendants, and **never** to the management account. moto also ignores
``AutoDeployment``: AWS deploys to an account as soon as it joins a target OU (moved there, or
created under the root when the root is targeted). The embedded AWS does as AWS does.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation.models import StackInstances
from moto.cloudformation.responses import CloudFormationResponse
from moto.organizations.models import OrganizationsBackend, organizations_backends

_lock = threading.Lock()
_originals: dict[str, Any] = {}


@dataclass
class _Target:
    """One StackSet's service-managed deployment: where it goes, and whether joiners get it."""

    instances: StackInstances
    ous: set[str]
    regions: list[str]
    parameters: list[dict[str, Any]] | None
    auto_deployment: bool = False
    accounts: set[str] = field(default_factory=set)


_targets: list[_Target] = []
_auto_deployment: dict[tuple[str, str], bool] = {}  # (management account, stack set name) -> enabled


def _organization(instances: StackInstances) -> OrganizationsBackend:
    return organizations_backends[instances.account_id][instances.partition]


def _ancestors(backend: OrganizationsBackend, parent_id: str) -> list[str]:
    """``parent_id`` and every OU (and the root) above it."""
    chain: list[str] = []
    seen: set[str] = set()
    current: str | None = parent_id
    while current and current not in seen:
        seen.add(current)
        chain.append(current)
        unit = next((ou for ou in backend.ou if ou.id == current), None)
        current = unit.parent_id if unit is not None else None
    return chain


def _accounts_under(backend: OrganizationsBackend, ous: set[str]) -> list[str]:
    management = backend.org.master_account_id if backend.org else backend.account_id
    return [
        account.id
        for account in backend.accounts
        if account.id != management and ous & set(_ancestors(backend, account.parent_id))
    ]


def _create_instances(  # noqa: PLR0917 - moto's signature
    self: StackInstances,
    accounts: list[str],
    regions: list[str],
    parameters: list[dict[str, Any]] | None,
    deployment_targets: dict[str, Any],
    permission_model: str,
) -> list[dict[str, Any]]:
    if permission_model != "SERVICE_MANAGED" or not deployment_targets.get("OrganizationalUnitIds"):
        created: list[dict[str, Any]] = _originals["create_instances"](
            self, accounts, regions, parameters, deployment_targets, permission_model
        )
        return created
    backend = _organization(self)
    ous = set(deployment_targets["OrganizationalUnitIds"])
    members = _accounts_under(backend, ous)
    with _lock:
        enabled = _auto_deployment.get((self.account_id, self.stackset_name), False)
        _targets.append(_Target(self, ous, list(regions), parameters, enabled, set(members)))
    # Accounts named directly: moto's own loop, without its OU walk.
    result: list[dict[str, Any]] = _originals["create_instances"](
        self, members, regions, parameters, {}, permission_model
    )
    return result


def _create_stack_set(self: CloudFormationResponse) -> Any:
    response = _originals["create_stack_set"](self)
    auto = self._get_param("AutoDeployment") or {}
    with _lock:
        _auto_deployment[(self.current_account, str(self._get_param("StackSetName")))] = (
            str(auto.get("Enabled", "false")).lower() == "true"
        )
    return response


def _deploy_to_joiner(backend: OrganizationsBackend, account_id: str) -> None:
    """AutoDeployment: an account now under a target OU gets the stack sets' instances."""
    account = backend.get_account_by_id(account_id)
    chain = set(_ancestors(backend, account.parent_id))
    management = backend.org.master_account_id if backend.org else backend.account_id
    with _lock:
        due = [
            target
            for target in _targets
            if target.auto_deployment and target.ous & chain and account_id not in target.accounts
        ]
        for target in due:
            target.accounts.add(account_id)
    if account_id == management:
        return
    for target in due:
        _originals["create_instances"](
            target.instances, [account_id], target.regions, target.parameters, {}, "SERVICE_MANAGED"
        )


def _move_account(self: OrganizationsBackend, **kwargs: Any) -> None:
    _originals["move_account"](self, **kwargs)
    _deploy_to_joiner(self, kwargs["AccountId"])


def _create_account(self: OrganizationsBackend, **kwargs: Any) -> dict[str, Any]:
    status: dict[str, Any] = _originals["create_account"](self, **kwargs)
    _deploy_to_joiner(self, status["CreateAccountStatus"]["AccountId"])
    return status


def reset() -> None:
    """Forget every recorded deployment (a fresh embedded AWS starts without any)."""
    with _lock:
        _targets.clear()
        _auto_deployment.clear()


def install() -> None:
    """Install the StackSets fixes into moto. Idempotent."""
    with _lock:
        if _originals:
            return
        _originals["create_instances"] = StackInstances.create_instances
        _originals["create_stack_set"] = CloudFormationResponse.create_stack_set
        _originals["move_account"] = OrganizationsBackend.move_account
        _originals["create_account"] = OrganizationsBackend.create_account
        setattr(StackInstances, "create_instances", _create_instances)  # noqa: B010
        setattr(CloudFormationResponse, "create_stack_set", _create_stack_set)  # noqa: B010
        setattr(OrganizationsBackend, "move_account", _move_account)  # noqa: B010
        setattr(OrganizationsBackend, "create_account", _create_account)  # noqa: B010
