"""Seed a realistic Bedrock estate into the embedded AWS: profiles, usage and a cost ledger.

One library function with a size knob, shared by the demo, the benchmark and the tests. The
usage (CloudWatch) and the cost ledger (Cost Explorer) are derived from the same daily
invocation counts, so the cost report agrees with what the idle sweep sees.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

import boto3

from embedded_aws import catalog
from embedded_aws.bedrock import set_profile_created_at
from embedded_aws.costexplorer import CostRow, seed_ledger, set_cost_allocation_tags

ACCOUNT_ID: Final = "123456789012"
DEFAULT_REGIONS: Final = ("us-east-1", "eu-central-1", "ap-southeast-2")
DEFAULT_PROJECTS: Final = ("Chatbot", "DocSearch", "Summarizer", "CodeAssist", "Translate", "Insights")
ENVIRONMENTS: Final = ("dev", "staging", "prod")
COST_CENTERS: Final = ("CC-1001", "CC-2040", "CC-3300")
OWNERS: Final = ("alice@example.com", "bob@example.com", "carol@example.com", "dan@example.com")
# The policy the seeded violations are written against (the demo deploys with it).
ALLOWED_TAG_VALUES: Final = {"Environment": list(ENVIRONMENTS)}
REQUIRED_TAG_KEYS: Final = ("Project", "Environment", "CostCenter", "Owner")


class Compliance(StrEnum):
    COMPLIANT = "compliant"
    MISSING_KEY = "missing-key"
    BLANK_VALUE = "blank-value"
    VALUE_NOT_ALLOWED = "value-not-allowed"
    KEY_NEAR_MISS = "key-near-miss"
    VALUE_NEAR_MISS = "value-near-miss"
    UNTAGGED = "untagged"


class Usage(StrEnum):
    BUSY = "busy"
    QUIET = "quiet"
    IDLE = "idle"
    EXEMPT = "exempt"
    YOUNG = "young"


# Roughly seven in ten profiles are tagged right; the rest cycle through every kind of mistake.
_COMPLIANCE_CYCLE: Final = (
    [Compliance.COMPLIANT] * 7
    + [Compliance.MISSING_KEY, Compliance.KEY_NEAR_MISS, Compliance.VALUE_NEAR_MISS]
    + [Compliance.COMPLIANT] * 7
    + [Compliance.VALUE_NOT_ALLOWED, Compliance.BLANK_VALUE, Compliance.UNTAGGED]
)
_USAGE_CYCLE: Final = (
    [Usage.BUSY] * 4 + [Usage.QUIET] * 2 + [Usage.IDLE, Usage.BUSY, Usage.IDLE, Usage.EXEMPT, Usage.BUSY, Usage.YOUNG]
)


@dataclass(frozen=True)
class EstateSpec:
    """What to seed. ``profiles`` is the size knob; the rest has realistic defaults."""

    profiles: int = 60
    regions: tuple[str, ...] = DEFAULT_REGIONS
    projects: tuple[str, ...] = DEFAULT_PROJECTS
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    history_days: int = 56
    """Days of CloudWatch usage and cost ledger before ``now`` (8 weeks)."""
    usage: bool = True
    costs: bool = True
    random_seed: int = 2026
    account_id: str = ACCOUNT_ID


DEMO_PROFILES: Final = 72
"""The size of the estate `make demo` seeds."""


def demo_spec(now: datetime, profiles: int = DEMO_PROFILES) -> EstateSpec:
    """The estate `make demo` seeds, as of ``now``; ``python -m embedded_aws.server --seed demo``
    seeds the same one, so the command line has the demo's profiles, usage and costs to work on."""
    return EstateSpec(profiles=profiles, now=now)


@dataclass(frozen=True)
class SeededProfile:
    arn: str
    profile_id: str
    name: str
    region: str
    project: str
    environment: str
    tags: dict[str, str]
    compliance: Compliance
    usage: Usage
    source_arn: str
    service_name: str
    created_at: datetime
    daily_invocations: tuple[int, ...]
    """Invocations per day, oldest first, the last entry being the day before ``now``."""


@dataclass(frozen=True)
class Estate:
    spec: EstateSpec
    profiles: tuple[SeededProfile, ...]
    ledger_rows: int

    def where(self, *, usage: Usage | None = None, compliance: Compliance | None = None) -> list[SeededProfile]:
        return [
            p
            for p in self.profiles
            if (usage is None or p.usage is usage) and (compliance is None or p.compliance is compliance)
        ]


def _tags(compliance: Compliance, project: str, environment: str, rng: random.Random) -> dict[str, str]:
    tags = {
        "Project": project,
        "Environment": environment,
        "CostCenter": rng.choice(COST_CENTERS),
        "Owner": rng.choice(OWNERS),
    }
    match compliance:
        case Compliance.MISSING_KEY:
            del tags[rng.choice(["CostCenter", "Owner"])]
        case Compliance.BLANK_VALUE:
            tags["Owner"] = " "
        case Compliance.VALUE_NOT_ALLOWED:
            tags["Environment"] = "production"
        case Compliance.KEY_NEAR_MISS:
            tags["project"] = tags.pop("Project")
        case Compliance.VALUE_NEAR_MISS:
            tags["Environment"] = environment.capitalize()
        case Compliance.UNTAGGED:
            tags = {}
        case Compliance.COMPLIANT:
            pass
    return tags


def _service_name(spec: catalog.ModelSpec) -> str:
    """Third-party models bill under their own Marketplace service name."""
    if spec.provider in {"Amazon", "Meta", "Mistral AI", "DeepSeek"}:
        return "Amazon Bedrock"
    return f"{spec.name} (Amazon Bedrock Edition)"


def _price_per_invocation(spec: catalog.ModelSpec) -> Decimal:
    # Roughly 1,500 input and 400 output tokens a call at list prices of the model's class.
    name = spec.model_id
    if "opus" in name:
        return Decimal("0.0525")
    if "sonnet" in name or "large" in name or "70b" in name:
        return Decimal("0.0105")
    if "haiku" in name or "nova-pro" in name:
        return Decimal("0.0028")
    return Decimal("0.0009")


def _daily_invocations(usage: Usage, days: int, rng: random.Random) -> tuple[int, ...]:
    match usage:
        case Usage.BUSY:
            return tuple(rng.randint(300, 2_500) for _ in range(days))
        case Usage.QUIET:
            counts = [rng.randint(1, 6) if rng.random() < 0.3 else 0 for _ in range(days)]
            counts[-rng.randint(1, 5)] = rng.randint(1, 4)  # used within the last week
            return tuple(counts)
        case Usage.IDLE:
            # In use during the first weeks of the history, silent for the last 45 days or more.
            silent = max(0, days - min(days, rng.randint(45, 50)))
            return tuple(rng.randint(20, 200) if day < silent else 0 for day in range(days))
        case Usage.EXEMPT | Usage.YOUNG:
            return (0,) * days


@dataclass(frozen=True)
class _Source:
    arn: str
    spec: catalog.ModelSpec


def _sources(region: str, account_id: str) -> list[_Source]:
    """Foundation models offered on demand here, then the system profiles of the region's geography."""
    on_demand = [
        _Source(model.arn, model.spec)
        for model in catalog.foundation_models(region)
        if "ON_DEMAND" in model.inference_types and "TEXT" in model.spec.output_modalities
    ]
    system: list[_Source] = []
    for profile in catalog.system_profiles(region):
        model_id = profile.profile_id.split(".", 1)[1]
        spec = next((m.spec for m in catalog.foundation_models(region) if m.spec.model_id == model_id), None)
        if spec is not None and "TEXT" in spec.output_modalities:
            system.append(_Source(profile.arn(region, account_id), spec))
    return on_demand + system


def seed_estate(
    spec: EstateSpec = EstateSpec(),
    *,
    session: boto3.session.Session | None = None,
    endpoint_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Estate:
    """Create the estate in the embedded AWS (in-process, or the server in this process)."""
    rng = random.Random(spec.random_seed)
    session = session or boto3.session.Session()
    say = progress or (lambda _message: None)
    today = spec.now.date()
    profiles: list[SeededProfile] = []
    sources = {region: _sources(region, spec.account_id) for region in spec.regions}
    bedrock = {
        region: session.client("bedrock", region_name=region, endpoint_url=endpoint_url) for region in spec.regions
    }
    say(f"creating {spec.profiles} application inference profiles in {len(spec.regions)} regions")
    for index in range(spec.profiles):
        region = spec.regions[index % len(spec.regions)]
        project = spec.projects[(index // len(spec.regions)) % len(spec.projects)]
        environment = ENVIRONMENTS[(index // (len(spec.regions) * len(spec.projects))) % len(ENVIRONMENTS)]
        compliance = _COMPLIANCE_CYCLE[index % len(_COMPLIANCE_CYCLE)]
        # Walk the usage cycle within each region, so every region has every kind of usage.
        usage = _USAGE_CYCLE[((index // len(spec.regions)) * 7 + index % len(spec.regions)) % len(_USAGE_CYCLE)]
        region_sources = sources[region]
        # Alternate between on-demand models and system profiles so both kinds of source appear.
        source = region_sources[(index * 5) % len(region_sources)]
        tags = _tags(compliance, project, environment, rng)
        if usage is Usage.EXEMPT:
            tags["governance:keep"] = "true"
        name = f"{project.lower()}-{environment}-{index:05d}"
        request: dict[str, Any] = {
            "inferenceProfileName": name,
            "description": f"{project} {environment} traffic via {source.spec.model_id}",
            "modelSource": {"copyFrom": source.arn},
        }
        if tags:
            request["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        response = bedrock[region].create_inference_profile(**request)
        arn = response["inferenceProfileArn"]
        profile_id = arn.rsplit("/", 1)[1]
        age = timedelta(days=rng.randint(2, 6)) if usage is Usage.YOUNG else timedelta(days=spec.history_days + 30)
        created_at = spec.now - age
        # AWS stamps createdAt itself; the seed moves it into the past so profiles have a history.
        set_profile_created_at(spec.account_id, region, profile_id, created_at)
        invocations = _daily_invocations(usage, spec.history_days, rng)
        profiles.append(
            SeededProfile(
                arn=arn,
                profile_id=profile_id,
                name=name,
                region=region,
                project=project,
                environment=environment,
                tags=tags,
                compliance=compliance,
                usage=usage,
                source_arn=source.arn,
                service_name=_service_name(source.spec),
                created_at=created_at,
                daily_invocations=invocations,
            )
        )
        if (index + 1) % 500 == 0:
            say(f"  {index + 1:,} profiles created")
    if spec.usage:
        say(f"writing {spec.history_days} days of CloudWatch usage")
        put_usage(session, endpoint_url, profiles, today)
    rows = 0
    if spec.costs:
        say("writing the Cost Explorer ledger")
        prices = {p.arn: _price_for(p) for p in profiles}
        ledger = list(_ledger_rows(profiles, prices, today, spec, rng))
        seed_ledger(ledger, account_id=spec.account_id)
        set_cost_allocation_tags({"Project": "Active", "Environment": "Active", "CostCenter": "Inactive"})
        rows = len(ledger)
    return Estate(spec=spec, profiles=tuple(profiles), ledger_rows=rows)


def _price_for(profile: SeededProfile) -> Decimal:
    model_id = profile.source_arn.rsplit("/", 1)[1]
    model_id = model_id.split(".", 1)[1] if model_id.split(".", 1)[0] in {"us", "eu", "apac", "global"} else model_id
    for region_model in catalog.foundation_models(profile.region):
        if region_model.spec.model_id == model_id:
            return _price_per_invocation(region_model.spec)
    return Decimal("0.001")


def put_usage(
    session: boto3.session.Session,
    endpoint_url: str | None,
    profiles: Sequence[SeededProfile],
    today: date,
    *,
    days: Iterable[int] | None = None,
) -> None:
    """Write daily Invocations datapoints (AWS/Bedrock, ModelId = profile id), skipping zeros as
    AWS publishes nothing for a profile without traffic."""
    by_region: dict[str, list[dict[str, Any]]] = {}
    for profile in profiles:
        history = len(profile.daily_invocations)
        for day_index in days if days is not None else range(history):
            count = profile.daily_invocations[day_index]
            if count <= 0:
                continue
            when = datetime.combine(today - timedelta(days=history - day_index), datetime.min.time(), UTC)
            by_region.setdefault(profile.region, []).append(
                {
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "ModelId", "Value": profile.profile_id}],
                    "Timestamp": when + timedelta(hours=12),
                    "Value": float(count),
                    "Unit": "Count",
                }
            )
    for region, data in by_region.items():
        client = session.client("cloudwatch", region_name=region, endpoint_url=endpoint_url)
        for start in range(0, len(data), 500):
            client.put_metric_data(Namespace="AWS/Bedrock", MetricData=data[start : start + 500])  # type: ignore[arg-type]


def _ledger_rows(
    profiles: Sequence[SeededProfile],
    prices: dict[str, Decimal],
    today: date,
    spec: EstateSpec,
    rng: random.Random,
) -> Iterable[CostRow]:
    # Billing data for the last two days is still estimated, as Cost Explorer marks it.
    estimated_from = today - timedelta(days=2)
    for profile in profiles:
        history = len(profile.daily_invocations)
        for day_index, count in enumerate(profile.daily_invocations):
            if count <= 0:
                continue
            day = today - timedelta(days=history - day_index)
            yield CostRow(
                day=day,
                service=profile.service_name,
                usage_type=f"{_region_code(profile.region)}-InvokeModel-Units",
                region=profile.region,
                tags=profile.tags,
                unblended_cost=(prices[profile.arn] * count).quantize(Decimal("0.000001")),
                usage_quantity=Decimal(count),
                estimated=day >= estimated_from,
            )
    # Direct model calls that bypass application profiles: spend nobody is tagged for.
    for day_offset in range(spec.history_days, 0, -1):
        day = today - timedelta(days=day_offset)
        yield CostRow(
            day=day,
            service="Amazon Bedrock",
            usage_type="USE1-InvokeModel-Units",
            region=spec.regions[0],
            tags={},
            unblended_cost=Decimal(rng.randint(150, 900)) / Decimal(100),
            usage_quantity=Decimal(rng.randint(100, 600)),
            estimated=day >= estimated_from,
        )


def _region_code(region: str) -> str:
    codes = {"us-east-1": "USE1", "us-east-2": "USE2", "us-west-2": "USW2", "eu-central-1": "EUC1", "eu-west-1": "EU"}
    return codes.get(region, region.upper().replace("-", "")[:6])
