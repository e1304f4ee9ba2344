"""One worker per (account, region): assume the member role, read what the job needs, answer in JSON.

The worker reads and never decides: the aggregation step decides for the whole organization with
the jobs' own code. A failure is the answer, never an exception, so one account cannot fail the
Distributed Map (or the command line's pool) for the others.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from types import MappingProxyType

from aws_lambda_powertools import Logger

from bedrock_governance.aws.inventory import region_inventory
from bedrock_governance.core.errors import AwsError
from bedrock_governance.core.models import InferenceProfile, UsageHistory
from bedrock_governance.idle.job import aws_evidence, region_apis
from bedrock_governance.org.job import MemberClients, OrganizationPlan
from bedrock_governance.org.policy import OrganizationJob, Target, TargetSweep, explain_failure

logger = Logger(child=True)


def sweep_target(
    job: OrganizationJob, target: Target, clients_for: MemberClients, *, now: datetime, role_name: str
) -> TargetSweep:
    """Read one target as the account-scope sweep reads a region: profiles with tags, and for the
    idle job their daily usage up to ``now`` (the run's decision time, the same for every worker)."""
    try:
        clients = clients_for(target)
    except AwsError as error:
        failure = explain_failure(target, "assume-role", error.code, error.aws_message, role_name)
        logger.warning("Member role not assumed", extra={"failure": failure.to_dict()})
        return TargetSweep(target, failure=failure)
    region = target.region
    profiles: list[InferenceProfile] = []
    usage: dict[str, UsageHistory] = {}
    try:
        # The account-scope jobs' own reads, with the member account's clients.
        if job is OrganizationJob.IDLE_PROFILES:
            for batch, batch_usage in aws_evidence(region_apis(clients), now)(region):
                profiles += batch
                usage |= batch_usage
        else:
            profiles = region_inventory(clients)(region)
    except AwsError as error:
        failure = explain_failure(target, "sweep", error.code, error.aws_message, role_name)
        logger.warning("Target sweep failed", extra={"failure": failure.to_dict()})
        return TargetSweep(target, failure=failure)
    return TargetSweep(target, tuple(profiles), MappingProxyType(usage))


def sweep_all(
    job: OrganizationJob,
    plan: OrganizationPlan,
    clients_for: MemberClients,
    *,
    now: datetime,
    role_name: str,
    max_workers: int,
) -> list[TargetSweep]:
    """The command line's Distributed Map: every target's worker, ``max_workers`` at a time."""
    targets = plan.plan.targets

    def work(target: Target) -> TargetSweep:
        return sweep_target(job, target, clients_for, now=now, role_name=role_name)

    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(targets) or 1))) as pool:
        return list(pool.map(work, targets))
