"""Idle profiles for a whole organization: the workers' answers through :class:`IdleProfileJob`.

The circuit breaker holds per target and organization-wide, the deletion cap counts every
account, marks and deletions go through each account's member role, and deletion records carry
the account (also in their key)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bedrock_governance.aws import ports
from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.s3 import JsonStore
from bedrock_governance.aws.sns import SnsPublisher
from bedrock_governance.core.arn import region_of
from bedrock_governance.core.events import dry_run_requested
from bedrock_governance.idle.config import IdleConfig
from bedrock_governance.idle.job import IdleProfileJob, IdleRunResult, RegionApis, region_apis
from bedrock_governance.org.config import OrganizationConfig
from bedrock_governance.org.job import MemberClients, OrganizationPlan, SweepLookup, central_member_clients, gathered
from bedrock_governance.org.policy import OrganizationJob, Target, TargetSweep, label_of_arn


def member_apis(clients_for: MemberClients) -> Callable[[str], RegionApis]:
    """The idle job's adapters in a target's account, through its member role (assumed once per target)."""
    cache: dict[str, RegionApis] = {}

    def apis(label: str) -> RegionApis:
        if label not in cache:
            account_id, _, region = label.partition("/")
            cache[label] = region_apis(clients_for(Target(account_id, region)))(region)
        return cache[label]

    return apis


def aggregate_idle(
    config: IdleConfig,
    clients: ClientFactory,
    plan: OrganizationPlan,
    sweeps: Sequence[TargetSweep],
    now: datetime,
    *,
    clients_for: MemberClients,
    dry_run: bool | None = None,
    read_only: bool = False,
    publish: bool = True,
    publisher: ports.Publisher | None = None,
) -> IdleRunResult:
    """One idle decision for the organization, carried out through the member roles."""
    home = clients.default_region or config.regions[0]
    lookup = SweepLookup(sweeps, plan.info.management_account_id)
    sns = publisher or SnsPublisher(clients.sns(region_of(config.alert_topic_arn)))
    job = IdleProfileJob(
        config,
        apis=member_apis(clients_for),
        publisher=sns if publish else None,
        records=None if read_only else JsonStore(clients.s3(home), config.records_bucket),
        dry_run=dry_run,
        read_only=read_only,
        evidence=lookup.evidence,
        targets=plan.plan.labels,
        target_of=label_of_arn,
        organization=plan.view,
    )
    return job.run(now)


def aggregate_idle_step(
    event: Mapping[str, Any], config: IdleConfig, organization: OrganizationConfig, clients: ClientFactory
) -> IdleRunResult:
    """The last step of IdleProfileStateMachine: decide organization-wide, act through the member roles."""
    role = organization.member_role_name
    plan, sweeps, now = gathered(event, config.records_bucket, OrganizationJob.IDLE_PROFILES, clients, organization)
    return aggregate_idle(
        config,
        clients,
        plan,
        sweeps,
        now,
        clients_for=central_member_clients(clients, role, OrganizationJob.IDLE_PROFILES),
        dry_run=dry_run_requested(event) or None,
    )
