"""The organization row of `make bench`: accounts x regions x profiles, swept as the state machine
sweeps them, measured on the embedded AWS and modelled on AWS.

Measured: the API calls of each (account, region) worker (each worker counted on its own), the
bytes of its answer, the wall time of all workers one after another (what one sequential process
does), and the aggregation step's wall time and peak memory (tracemalloc) over every answer.
Modelled on AWS: calls x a per-call latency x the sequential depth (waves of MaxConcurrentAccounts
workers), side by side with the same estate swept by one sequential process; the Step Functions
state transitions and Lambda GB-seconds of one run, for the cost table.
"""

from __future__ import annotations

import json
import math
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import boto3

ASSUMED_CALL_LATENCY_S: Final = 0.2
STATE_MACHINE_TRANSITIONS: Final = 4  # ListTargets, SweepTargets (the Map), Aggregate, and the end
CHILD_TRANSITIONS: Final = 2  # a child execution: its start and its one Task state
WORKER_MEMORY_GB: Final = 0.5  # MemorySize 512 in template.yaml's Globals
TRANSITION_PRICE_USD: Final = 0.025 / 1000  # Standard workflows, us-east-1
GB_SECOND_PRICE_USD: Final = 0.0000133334  # Lambda arm64, us-east-1
INVOCATION_PRICE_USD: Final = 0.20 / 1_000_000


@dataclass(frozen=True)
class OrganizationBenchSettings:
    accounts: int = 100
    regions: tuple[str, ...] = ("us-east-1", "eu-central-1", "ap-southeast-2")
    profiles_per_target: int = 50
    concurrency: int = 20  # MaxConcurrentAccounts' default
    ous: int = 4


def account_scope_calls(profiles: int, *, idle: bool) -> int:
    """What account scope spends on one region of ``profiles`` tagged profiles: ListInferenceProfiles
    pages of 1,000, GetResources pages of 100, and for the idle job GetMetricData requests of 500."""
    calls = math.ceil(profiles / 1000) + max(1, math.ceil(profiles / 100))
    return calls + (math.ceil(profiles / 500) if idle else 0)


def run_organization_bench(  # noqa: PLR0915 - one measurement after another, in the order they run
    settings: OrganizationBenchSettings, now: datetime, progress: Callable[[str], None]
) -> dict[str, Any]:
    """Seed the organization into a fresh embedded AWS, sweep it, aggregate it; figures as JSON."""
    from bedrock_governance.aws.clients import ClientFactory  # noqa: PLC0415 - imported once the bench runs
    from bedrock_governance.aws.organizations import OrganizationDirectory  # noqa: PLC0415
    from bedrock_governance.idle.config import IdleConfig  # noqa: PLC0415
    from bedrock_governance.idle.organization import aggregate_idle  # noqa: PLC0415
    from bedrock_governance.org.config import GovernanceScope, OrganizationConfig  # noqa: PLC0415
    from bedrock_governance.org.job import central_member_clients, list_targets  # noqa: PLC0415
    from bedrock_governance.org.policy import OrganizationJob, TargetSweep  # noqa: PLC0415
    from bedrock_governance.org.worker import sweep_target  # noqa: PLC0415
    from embedded_aws import embedded_aws  # noqa: PLC0415
    from embedded_aws.calls import count_api_calls  # noqa: PLC0415
    from embedded_aws.organization import OrganizationSpec, seed_organization  # noqa: PLC0415

    per_ou = math.ceil(settings.accounts / settings.ous)
    spec = OrganizationSpec(
        ous=tuple(f"OU{index + 1}" for index in range(settings.ous)),
        accounts_per_ou=per_ou,
        regions=settings.regions,
        profiles_per_account=settings.profiles_per_target * len(settings.regions),
        without_role=(),
        suspended=(),
        excluded=(),
        now=now,
    )
    with embedded_aws():
        started = time.perf_counter()
        progress(
            f"Organization of {per_ou * settings.ous} accounts x {len(settings.regions)} regions x "
            f"{settings.profiles_per_target} profiles: seeding"
        )
        estate = seed_organization(spec)
        # Never-tagged profiles are not in the Tagging API's answer: each costs one ListTagsForResource.
        untagged = Counter(
            (account.account_id, profile.region)
            for account in estate.accounts
            for profile in (account.estate.profiles if account.estate else ())
            if not profile.tags
        )
        seeded_s = time.perf_counter() - started
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="bench-organization")
        topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="bench-organization")["TopicArn"]
        clients = ClientFactory(boto3.session.Session(region_name="us-east-1"))
        directory = OrganizationDirectory(clients.organizations())
        # The management account has no member role (StackSets never deploy there): excluded, so
        # that every worker measures a complete sweep.
        organization = OrganizationConfig(
            scope=GovernanceScope.ORGANIZATION, excluded_accounts=(directory.describe().management_account_id,)
        )
        with count_api_calls() as listing:
            plan = list_targets(organization, settings.regions, directory)
        plan_targets = list(plan.plan.targets)
        job = OrganizationJob.IDLE_PROFILES
        role = organization.member_role_name
        member = central_member_clients(clients, role, job)
        progress(f"  {len(plan_targets)} workers, one after another")
        per_target: list[Counter[str]] = []
        answer_bytes: list[int] = []
        sweeps = []
        sweep_started = time.perf_counter()
        for target in plan_targets:
            with count_api_calls() as calls:
                # A fresh factory, as each worker invocation has its own clients (and counting
                # sees only clients made inside the block).
                own = central_member_clients(ClientFactory(boto3.session.Session(region_name="us-east-1")), role, job)
                sweep = sweep_target(job, target, own, now=now, role_name=role)
            sweeps.append(sweep)
            per_target.append(Counter(calls.by_operation()))
            answer_bytes.append(len(json.dumps(sweep.to_json(), separators=(",", ":")).encode()))
        sequential_sweep_s = time.perf_counter() - sweep_started
        failed = [s for s in sweeps if s.failure is not None]
        config = IdleConfig(regions=settings.regions, alert_topic_arn=topic, records_bucket="bench-organization")
        progress("  aggregation (the idle job's decisions for the whole organization, read-only)")
        # As the aggregation step receives them: the answers as JSON text (the Map's result files).
        tracemalloc.start()
        answers = [json.dumps(sweep.to_json()) for sweep in sweeps]
        del sweeps
        aggregate_started = time.perf_counter()
        with count_api_calls() as aggregation_calls:
            parsed = [TargetSweep.from_json(json.loads(answer)) for answer in answers]
            result = aggregate_idle(
                config, clients, plan, parsed, now, clients_for=member, read_only=True, publish=False
            )
        aggregate_s = time.perf_counter() - aggregate_started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    calls_per_target = [sum(counter.values()) for counter in per_target]
    typical = Counter(per_target[0]) if per_target else Counter()
    formula = account_scope_calls(settings.profiles_per_target, idle=True) + 1
    expected = [formula + untagged[(t.account_id, t.region)] for t in plan_targets]
    targets = len(plan_targets)
    waves = math.ceil(targets / settings.concurrency)
    depth = max(calls_per_target, default=0)
    listing_calls = listing.count()
    aggregation_overhead_calls = 3  # the plan, the manifest and one result file from S3
    modelled_parallel_s = (
        listing_calls + waves * depth + aggregation_overhead_calls
    ) * ASSUMED_CALL_LATENCY_S + aggregate_s
    modelled_sequential_s = (listing_calls + sum(calls_per_target)) * ASSUMED_CALL_LATENCY_S + aggregate_s
    worker_seconds = [calls * ASSUMED_CALL_LATENCY_S for calls in calls_per_target]
    gb_seconds = (sum(worker_seconds) + modelled_parallel_s) * WORKER_MEMORY_GB
    transitions = STATE_MACHINE_TRANSITIONS + CHILD_TRANSITIONS * targets
    per_100 = 100 / max(1, len({t.account_id for t in plan_targets}))
    return {
        "accounts": len({t.account_id for t in plan_targets}),
        "regions": list(settings.regions),
        "profiles_per_target": settings.profiles_per_target,
        "profiles": result.facts.checked,
        "targets": targets,
        "worker_invocations": targets,
        "failed_targets": len(failed),
        "seed_s": seeded_s,
        "calls_per_target": {"min": min(calls_per_target, default=0), "max": depth, "typical": dict(typical)},
        "account_scope_formula_plus_assume_role": formula,
        "untagged_per_target_max": max(untagged.values(), default=0),
        "calls_match_formula": calls_per_target == expected,
        "mismatches": [
            {"target": t.label, "calls": dict(c), "expected": e}
            for t, c, e in zip(plan_targets, per_target, expected, strict=True)
            if sum(c.values()) != e
        ][:5],
        "listing_calls": listing.by_operation(),
        "answer_bytes_max": max(answer_bytes, default=0),
        "answer_bytes_total": sum(answer_bytes),
        "sequential_sweep_embedded_s": sequential_sweep_s,
        "aggregation": {
            "wall_s": aggregate_s,
            "peak_mb": peak / 2**20,
            "calls": aggregation_calls.by_operation(),
            "checked": result.facts.checked,
            "newly_idle": result.facts.counts()["newlyIdle"],
        },
        "model": {
            "latency_s": ASSUMED_CALL_LATENCY_S,
            "concurrency": settings.concurrency,
            "waves": waves,
            "aws_parallel_s": modelled_parallel_s,
            "aws_sequential_s": modelled_sequential_s,
            "state_transitions": transitions,
            "lambda_gb_seconds": gb_seconds,
            "cost_per_run_usd": transitions * TRANSITION_PRICE_USD
            + gb_seconds * GB_SECOND_PRICE_USD
            + (targets + 2) * INVOCATION_PRICE_USD,
            "per_100_accounts": {
                "state_transitions": transitions * per_100,
                "lambda_gb_seconds": gb_seconds * per_100,
            },
        },
    }


def render_rows(figures: dict[str, Any]) -> list[str]:
    """The organization row and its notes, for the bench's table."""
    model = figures["model"]
    typical = ", ".join(
        f"{operation} {count}" for operation, count in sorted(figures["calls_per_target"]["typical"].items())
    )
    aggregation = figures["aggregation"]
    return [
        "",
        f"Organization scope: {figures['accounts']} accounts x {len(figures['regions'])} regions x "
        f"{figures['profiles_per_target']} profiles = {figures['profiles']:,} profiles, "
        f"{figures['worker_invocations']} worker invocations ({figures['failed_targets']} failed)",
        f"  calls per (account, region): {figures['calls_per_target']['min']}-{figures['calls_per_target']['max']} "
        f"({typical})",
        f"  = account scope's ceil(N/1000) + ceil(N/100) + ceil(N/500) + 1 ListTagsForResource per never-tagged "
        f"profile, + 1 AssumeRole = {figures['account_scope_formula_plus_assume_role']} + untagged (at most "
        f"{figures['untagged_per_target_max']}): {'ok, every target' if figures['calls_match_formula'] else 'MISSED'}",
        f"  worker answer: at most {figures['answer_bytes_max'] / 1024:.1f} KB (state payload limit 256 KB); "
        f"all {figures['answer_bytes_total'] / 2**20:.1f} MB go to S3 through the Map's ResultWriter",
        f"  aggregation step: {aggregation['wall_s']:.1f} s, peak {aggregation['peak_mb']:.0f} MB (tracemalloc) of "
        f"512 MB, {aggregation['checked']:,} profiles decided",
        f"  modelled on AWS ({model['latency_s']} s a call): {model['aws_parallel_s']:.0f} s with "
        f"{model['concurrency']} workers at once ({model['waves']} waves) vs {model['aws_sequential_s']:.0f} s for "
        "one sequential process "
        f"(embedded, sequential: {figures['sequential_sweep_embedded_s']:.0f} s)",
        f"  one run: {model['state_transitions']:,} state transitions, {model['lambda_gb_seconds']:.0f} GB-s, "
        f"about ${model['cost_per_run_usd']:.3f}",
    ]
