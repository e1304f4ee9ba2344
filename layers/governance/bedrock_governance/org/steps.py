"""OrganizationWorkerFunction's steps of the organization state machines: event in, JSON out.

``TagComplianceStateMachine`` and ``IdleProfileStateMachine`` run the same three steps:

1. ``targets`` (here): list the accounts, write the plan and the Map's items;
2. ``sweep`` (here, one per item of the Distributed Map): one target's read;
3. ``aggregate`` (TagComplianceFunction or IdleProfileFunction: ``tags.organization``,
   ``idle.organization``): decide, act, alert, once.

Every step takes the run's decision time from the execution input (the schedule's time) and
checks it as account scope does, so a retried or re-run execution decides as the first did.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.organizations import OrganizationDirectory
from bedrock_governance.aws.s3 import JsonStore
from bedrock_governance.core.events import scheduled_run_time
from bedrock_governance.core.settings import environ, parse_bucket, regions_from_env, require
from bedrock_governance.org.config import OrganizationConfig
from bedrock_governance.org.job import InvalidStepEvent, RunFiles, central_member_clients, list_targets, run_id
from bedrock_governance.org.policy import OrganizationJob, Target
from bedrock_governance.org.worker import sweep_target

ACCOUNT_ID: Final = re.compile(r"[0-9]{12}")


def _job(event: Mapping[str, Any]) -> OrganizationJob:
    value = event.get("job")
    try:
        return OrganizationJob(str(value))
    except ValueError:
        jobs = ", ".join(job.value for job in OrganizationJob)
        raise InvalidStepEvent(f"event field 'job' must be one of {jobs}, got {value!r}") from None


@dataclass(frozen=True)
class WorkerConfig:
    """OrganizationWorkerFunction's settings."""

    organization: OrganizationConfig
    regions: tuple[str, ...]
    bucket: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerConfig:
        values = environ(env)
        return cls(
            organization=OrganizationConfig.from_env(values),
            regions=regions_from_env(values),
            bucket=parse_bucket(require(values, "GOVERNANCE_BUCKET"), "GOVERNANCE_BUCKET"),
        )


def _files(clients: ClientFactory, bucket: str, job: OrganizationJob, now: datetime) -> RunFiles:
    home = clients.default_region or "us-east-1"
    return RunFiles(JsonStore(clients.s3(home), bucket), run_id(job, now))


def targets_step(event: Mapping[str, Any], config: WorkerConfig, clients: ClientFactory) -> dict[str, Any]:
    """Step 1: the plan, written for the Map (ItemReader) and the aggregation."""
    job = _job(event)
    now = scheduled_run_time(event)
    plan = list_targets(config.organization, config.regions, OrganizationDirectory(clients.organizations()))
    files = _files(clients, config.bucket, job, now)
    files.put_plan(plan)
    return {
        "job": job.value,
        "scheduledTime": now.isoformat(),
        "runId": run_id(job, now),
        "bucket": config.bucket,
        "targetsKey": files.targets_key,
        "resultsPrefix": f"{files.prefix}results",
        "organizationId": plan.info.organization_id,
        "accounts": len(plan.plan.accounts),
        "skippedAccounts": len(plan.plan.skipped),
        "targets": len(plan.plan.targets),
        # The Map's MaxConcurrencyPath: MaxConcurrentAccounts, from the stack's parameter.
        "maxConcurrency": config.organization.max_concurrent_accounts,
    }


def sweep_step(event: Mapping[str, Any], config: WorkerConfig, clients: ClientFactory) -> dict[str, Any]:
    """Step 2, one Map item: read one (account, region) through its member role."""
    job = _job(event)
    now = scheduled_run_time(event)
    item = event.get("target")
    if not isinstance(item, Mapping) or not isinstance(item.get("account"), str):
        raise InvalidStepEvent(f"event field 'target' must be an object with account and region, got {item!r}")
    target = Target.from_item(item)
    if not ACCOUNT_ID.fullmatch(target.account_id):
        # It goes into the role ARN to assume: nothing but an account id may stand there.
        raise InvalidStepEvent(f"event field 'target.account' must be a 12-digit account id, got {target.account_id!r}")
    if target.region not in config.regions:
        raise InvalidStepEvent(f"region {target.region!r} is not governed (GOVERNED_REGIONS)")
    role = config.organization.member_role_name
    sweep = sweep_target(job, target, central_member_clients(clients, role, job), now=now, role_name=role)
    return _files(clients, config.bucket, job, now).answer(sweep)


def worker_step(event: Mapping[str, Any], config: WorkerConfig, clients: ClientFactory) -> dict[str, Any]:
    step = event.get("step")
    if step == "targets":
        return targets_step(event, config, clients)
    if step == "sweep":
        return sweep_step(event, config, clients)
    raise InvalidStepEvent(f"event field 'step' must be targets or sweep, got {step!r}")
