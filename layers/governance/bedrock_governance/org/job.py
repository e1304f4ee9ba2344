"""Organization runs: list the targets, sweep each through its member role, aggregate once.

The state machines run these steps as Lambda tasks (targets, a Distributed Map of workers, the
aggregation); the command line runs the same functions with a local thread pool. Aggregation
hands the workers' answers to the account-scope jobs (``TagComplianceJob``, ``IdleProfileJob``)
with ``account/region`` labels for targets, so the decisions, the state, the caps, the circuit
breaker and the message are the ones account scope uses, organization-wide.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from aws_lambda_powertools import Logger

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.organizations import OrganizationDirectory, OrganizationInfo
from bedrock_governance.aws.s3 import JsonStore
from bedrock_governance.core.errors import AwsError, GovernanceError
from bedrock_governance.core.events import as_utc, scheduled_run_time
from bedrock_governance.core.models import InferenceProfile, UsageHistory
from bedrock_governance.org.config import OrganizationConfig
from bedrock_governance.org.policy import (
    Account,
    OrganizationJob,
    OrganizationView,
    Target,
    TargetPlan,
    TargetSweep,
    in_management_account,
    label_of_arn,
    plan_targets,
)

logger = Logger(child=True)

RUNS_PREFIX: Final = "runs/"
# A Lambda task's answer must fit the 256 KB state payload with room for the Map's envelope; a
# larger sweep is written to S3 by the worker and the answer points at it.
INLINE_ANSWER_BYTES: Final = 200_000
# An explicit --accounts list is not an organization: its alert state is kept under this id.
ACCOUNT_LIST_ID: Final = "account-list"


class InvalidStepEvent(GovernanceError):
    """The state machine (or a person) sent an event this step cannot carry out."""


class TargetUnavailable(AwsError):
    """A worker could not sweep its (account, region); the message carries the reason and the fix."""


def run_id(job: OrganizationJob, now: datetime) -> str:
    """The same for a retried or re-run schedule of the same time, so it finds the same files."""
    return f"{job.value}/{as_utc(now):%Y-%m-%dT%H%M%SZ}"


def session_name(job: OrganizationJob) -> str:
    # Shown in the member account's CloudTrail as the assumed role's session.
    return f"bedrock-governance-{job.value}"


@dataclass(frozen=True)
class OrganizationPlan:
    """What the first step found: the organization (or an explicit account list) and its targets."""

    info: OrganizationInfo
    plan: TargetPlan

    @property
    def view(self) -> OrganizationView:
        return OrganizationView.of(self.info.organization_id, self.plan)

    def to_json(self) -> dict[str, Any]:
        return {
            "organizationId": self.info.organization_id,
            "managementAccountId": self.info.management_account_id,
            **self.plan.to_json(),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> OrganizationPlan:
        info = OrganizationInfo(str(document["organizationId"]), str(document.get("managementAccountId", "")))
        return cls(info, TargetPlan.from_json(document))


def list_targets(
    config: OrganizationConfig, regions: Sequence[str], directory: OrganizationDirectory | None
) -> OrganizationPlan:
    """ACTIVE accounts under the OUs (or the explicit list), minus the excluded, x the regions."""
    if config.accounts:
        accounts = [Account(account_id, "") for account_id in config.accounts]
        info = OrganizationInfo(ACCOUNT_LIST_ID, "")
        if directory is not None:
            # Names are nice to have: an explicit list works without Organizations access.
            try:
                known = {a.account_id: a for a in directory.accounts()}
                info = directory.describe()
                accounts = [known.get(a.account_id, a) for a in accounts]
            except AwsError as error:
                logger.info("Account names not available", extra={"error": str(error)})
        return OrganizationPlan(info, plan_targets(accounts, regions, excluded=config.excluded_accounts))
    if directory is None:
        raise GovernanceError("organization scope needs Organizations (or an explicit account list)")
    info = directory.describe()
    accounts = directory.accounts(config.parent_ids)
    return OrganizationPlan(info, plan_targets(accounts, regions, excluded=config.excluded_accounts))


def _own_profiles_only(sweep: TargetSweep) -> TargetSweep:
    """The answer without profiles of another account or region: a corrupted (or forged) answer in
    the bucket must not make one target's worker speak for another account."""
    own = tuple(p for p in sweep.profiles if label_of_arn_or_none(p.arn) == sweep.target.label)
    if len(own) == len(sweep.profiles):
        return sweep
    logger.warning(
        "Profiles of another target dropped from an answer",
        extra={"target": sweep.target.label, "dropped": len(sweep.profiles) - len(own)},
    )
    return dataclasses.replace(sweep, profiles=own)


def label_of_arn_or_none(arn: str) -> str | None:
    try:
        return label_of_arn(arn)
    except ValueError:
        return None


class SweepLookup:
    """The workers' answers by label, as the account-scope jobs ask for a region's."""

    def __init__(self, sweeps: Sequence[TargetSweep], management_account_id: str = "") -> None:
        self._by_label = {sweep.target.label: _own_profiles_only(sweep) for sweep in sweeps}
        self._management = management_account_id

    def _sweep(self, label: str) -> TargetSweep:
        sweep = self._by_label.get(label)
        if sweep is None:
            # The Map lost it (a worker that timed out or crashed): reported, never taken as empty.
            raise TargetUnavailable("states", "Map", "WorkerFailed", "the worker returned no answer for this target")
        if sweep.failure is not None:
            failure = in_management_account(sweep.failure, self._management)
            message = f"{failure.message}: {failure.fix}" if failure.fix else failure.message
            service = "sts" if failure.step == "assume-role" else "member-account"
            raise TargetUnavailable(service, failure.step, failure.error_code, message)
        return sweep

    def inventory(self, label: str) -> list[InferenceProfile]:
        return list(self._sweep(label).profiles)

    def evidence(
        self, now: datetime
    ) -> Callable[[str], Iterator[tuple[Sequence[InferenceProfile], Mapping[str, UsageHistory]]]]:
        del now  # the workers read the usage up to the run's time already

        def evidence(label: str) -> Iterator[tuple[Sequence[InferenceProfile], Mapping[str, UsageHistory]]]:
            sweep = self._sweep(label)
            yield sweep.profiles, sweep.usage

        return evidence


MemberClients = Callable[[Target], ClientFactory]


def member_clients(central: ClientFactory, role_name: str, session_name: str) -> MemberClients:
    """Clients in a target's account, through its member role (one AssumeRole per target)."""

    def clients(target: Target) -> ClientFactory:
        return central.for_account(target.account_id, role_name, session_name=session_name, region=target.region)

    return clients


def central_member_clients(clients: ClientFactory, role_name: str, job: OrganizationJob) -> MemberClients:
    return member_clients(clients, role_name, session_name(job))


# --- the state machine's files: the plan, and sweeps too large for a task's answer


class RunFiles:
    """Where one organization run keeps its plan and large worker answers, in the stack's bucket."""

    def __init__(self, store: JsonStore, run: str) -> None:
        self._store = store
        self._run = run

    @property
    def prefix(self) -> str:
        return f"{RUNS_PREFIX}{self._run}/"

    @property
    def plan_key(self) -> str:
        return f"{self.prefix}plan.json"

    @property
    def targets_key(self) -> str:
        return f"{self.prefix}targets.json"

    def put_plan(self, plan: OrganizationPlan) -> None:
        self._store.put(self.plan_key, plan.to_json())
        # The Distributed Map's ItemReader reads a JSON array.
        body = json.dumps([target.to_item() for target in plan.plan.targets]).encode()
        self._store.put_bytes(self.targets_key, body, "application/json")

    def plan(self) -> OrganizationPlan:
        document = self._store.get(self.plan_key)
        if document is None:
            raise GovernanceError(f"the run's plan {self._store.uri(self.plan_key)} is missing")
        return OrganizationPlan.from_json(document)

    def answer(self, sweep: TargetSweep) -> dict[str, Any]:
        """The worker's answer: the sweep itself, or where it was written when it is too large."""
        document = sweep.to_json()
        body = json.dumps(document, separators=(",", ":")).encode()
        if len(body) <= INLINE_ANSWER_BYTES:
            return document
        key = f"{self.prefix}sweeps/{sweep.target.account_id}-{sweep.target.region}.json"
        self._store.put_bytes(key, body, "application/json")
        return {**sweep.target.to_item(), "sweepKey": key}

    def read_answer(self, answer: Mapping[str, Any]) -> TargetSweep:
        key = answer.get("sweepKey")
        if key is None:
            return TargetSweep.from_json(answer)
        body = self._store.get_bytes(str(key))
        if body is None:
            raise GovernanceError(f"the worker's answer {self._store.uri(str(key))} is missing")
        return TargetSweep.from_json(json.loads(body))


def read_map_results(store: JsonStore, result_writer: Mapping[str, Any], files: RunFiles) -> list[TargetSweep]:
    """The answers a Distributed Map's ResultWriter wrote: its manifest, then each SUCCEEDED file.

    A FAILED or PENDING child execution has no answer: its target is then reported as not
    checked by the aggregation (``SweepLookup``), never taken as an empty account."""
    details = result_writer.get("ResultWriterDetails", result_writer)
    manifest_key = str(details["Key"])
    manifest = store.get(manifest_key)
    if manifest is None:
        raise GovernanceError(f"the Map's manifest {store.uri(manifest_key)} is missing")
    sweeps: list[TargetSweep] = []
    for entry in manifest.get("ResultFiles", {}).get("SUCCEEDED", []):
        body = store.get_bytes(str(entry["Key"]))
        if body is None:
            raise GovernanceError(f"the Map's result file {store.uri(str(entry['Key']))} is missing")
        for execution in json.loads(body):
            output = execution.get("Output")
            if not output:
                continue
            answer = json.loads(output) if isinstance(output, str) else output
            sweeps.append(files.read_answer(answer))
    return sweeps


def gathered(
    event: Mapping[str, Any],
    bucket: str,
    job: OrganizationJob,
    clients: ClientFactory,
    organization: OrganizationConfig,
) -> tuple[OrganizationPlan, list[TargetSweep], datetime]:
    """What an aggregation step decides from: the run's plan, the workers' answers, the run's time."""
    if not organization.is_organization:
        # An account-scope stack has no member roles and no plans: such an event is a mistake.
        raise InvalidStepEvent("an aggregation step runs only in organization scope (GOVERNANCE_SCOPE=ORGANIZATION)")
    now = scheduled_run_time(event)
    store = JsonStore(clients.s3(clients.default_region or "us-east-1"), bucket)
    files = RunFiles(store, run_id(job, now))
    plan = files.plan()
    results = event.get("results")
    if isinstance(results, list):  # an inline Map (no ResultWriter): the answers themselves
        sweeps = [files.read_answer(answer) for answer in results if isinstance(answer, Mapping)]
    elif isinstance(results, Mapping):
        sweeps = read_map_results(store, results, files)
    else:
        raise InvalidStepEvent("event field 'results' must be the Map's output (a list or its ResultWriterDetails)")
    return plan, sweeps, now


def is_aggregation(event: Mapping[str, Any] | None) -> bool:
    """An event from a state machine's last step (``{"step": "aggregate", ...}``)."""
    return isinstance(event, Mapping) and event.get("step") == "aggregate"
