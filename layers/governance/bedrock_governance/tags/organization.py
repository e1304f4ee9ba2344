"""Tag compliance for a whole organization: the workers' answers through :class:`TagComplianceJob`.

The targets are ``account/region`` labels, the alert state is the organization's own, and the
message has a section per account; the decisions are account scope's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bedrock_governance.aws import ports
from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.s3 import JsonStore
from bedrock_governance.aws.sns import SnsPublisher
from bedrock_governance.core.arn import region_of
from bedrock_governance.core.events import dry_run_requested
from bedrock_governance.org.config import OrganizationConfig
from bedrock_governance.org.job import InvalidStepEvent, OrganizationPlan, SweepLookup, gathered
from bedrock_governance.org.policy import OrganizationJob, TargetSweep, label_of_arn
from bedrock_governance.tags.config import TagComplianceConfig
from bedrock_governance.tags.job import TagComplianceJob, TagComplianceResult


def organization_state_key(organization_id: str) -> str:
    """One alert state per organization (the quarantine of an unreadable one keeps the prefix)."""
    return f"state/tag-compliance-{organization_id}.json"


def aggregate_tags(
    config: TagComplianceConfig,
    clients: ClientFactory,
    plan: OrganizationPlan,
    sweeps: Sequence[TargetSweep],
    now: datetime,
    *,
    dry_run: bool = False,
    publisher: ports.Publisher | None = None,
) -> TagComplianceResult:
    """One tag-compliance decision and alert for the organization, from the workers' answers."""
    home = clients.default_region or config.regions[0]
    lookup = SweepLookup(sweeps, plan.info.management_account_id)
    job = TagComplianceJob(
        config,
        inventory=lookup.inventory,
        publisher=None if dry_run else publisher or SnsPublisher(clients.sns(region_of(config.alert_topic_arn))),
        store=JsonStore(clients.s3(home), config.state_bucket) if config.state_bucket else None,
        dry_run=dry_run,
        targets=plan.plan.labels,
        target_of=label_of_arn,
        state_key=organization_state_key(plan.info.organization_id),
        organization=plan.view,
    )
    return job.run(now)


def aggregate_tags_step(
    event: Mapping[str, Any], config: TagComplianceConfig, organization: OrganizationConfig, clients: ClientFactory
) -> TagComplianceResult:
    """The last step of TagComplianceStateMachine: one decision and one alert for the organization."""
    if not config.state_bucket:
        raise InvalidStepEvent("organization runs keep their files in STATE_BUCKET, which is not set")
    plan, sweeps, now = gathered(event, config.state_bucket, OrganizationJob.TAG_COMPLIANCE, clients, organization)
    return aggregate_tags(config, clients, plan, sweeps, now, dry_run=dry_run_requested(event))
