"""Static Bedrock catalogue for the embedded AWS: foundation models and system-defined profiles.

The data mirrors the shape of the real catalogue, not its full size. What matters for this
project is that it shows the real pattern: which source an application profile can copy from
depends on the model *in that region*. Older models answer ``ON_DEMAND`` almost everywhere;
newer ones answer only ``INFERENCE_PROFILE`` and can be reached only through a system-defined
(cross-region) profile, which is the rule in eu-central-1 and, for the newest models, in
us-east-1 too.

System-defined profiles are derived from the models: a model that lists a geography gets a
profile ``<geo>.<model id>`` in every region of that geography where the model is available,
routing to all of those regions (at most five, as ``InferenceProfileModels`` allows). A
``global.`` profile routes to every commercial region; AWS reports that as a model ARN with
an empty region next to the source region's ARN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Final

ON_DEMAND: Final = "ON_DEMAND"
PROVISIONED: Final = "PROVISIONED"
# Reported by the real ListFoundationModels although the botocore enum lacks it.
INFERENCE_PROFILE: Final = "INFERENCE_PROFILE"

GEOGRAPHIES: Final[Mapping[str, tuple[str, ...]]] = {
    "us": ("us-east-1", "us-east-2", "us-west-2"),
    "eu": ("eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1"),
    "apac": ("ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ap-south-1"),
}
GLOBAL: Final = "global"
REGIONS: Final[tuple[str, ...]] = tuple(region for regions in GEOGRAPHIES.values() for region in regions)

_GEOGRAPHY_LABELS: Final[Mapping[str, str]] = {"us": "US", "eu": "EU", "apac": "APAC", GLOBAL: "Global"}
# InferenceProfileModels allows 1..5 entries.
MAX_PROFILE_MODELS: Final = 5


@dataclass(frozen=True)
class ModelSpec:
    """One foundation model and where it is offered, with which inference types."""

    model_id: str
    name: str
    provider: str
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    streaming: bool
    customizations: tuple[str, ...]
    availability: Mapping[str, tuple[str, ...]]  # region -> inferenceTypesSupported
    geographies: tuple[str, ...]  # system-defined profile prefixes: us, eu, apac, global
    released: date
    lifecycle: str = "ACTIVE"


@dataclass(frozen=True)
class RegionalModel:
    """A foundation model as ListFoundationModels shows it in one region."""

    spec: ModelSpec
    region: str
    inference_types: tuple[str, ...]

    @property
    def arn(self) -> str:
        return foundation_model_arn(self.region, self.spec.model_id)


@dataclass(frozen=True)
class SystemProfile:
    """A system-defined (cross-region) inference profile as seen from one source region."""

    profile_id: str
    name: str
    description: str
    model_arns: tuple[str, ...]
    created_at: datetime

    def arn(self, region: str, account_id: str) -> str:
        return f"arn:aws:bedrock:{region}:{account_id}:inference-profile/{self.profile_id}"


def foundation_model_arn(region: str, model_id: str) -> str:
    """Foundation-model ARNs have an empty account field."""
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


def _offer(regions: tuple[str, ...] | list[str], *types: str) -> dict[str, tuple[str, ...]]:
    return dict.fromkeys(regions, types)


_US = GEOGRAPHIES["us"]
_EU = GEOGRAPHIES["eu"]
_APAC = GEOGRAPHIES["apac"]
_TEXT = ("TEXT",)
_TEXT_IMAGE = ("TEXT", "IMAGE")

MODELS: Final[tuple[ModelSpec, ...]] = (
    ModelSpec(
        model_id="amazon.titan-text-express-v1",
        name="Titan Text G1 - Express",
        provider="Amazon",
        input_modalities=_TEXT,
        output_modalities=_TEXT,
        streaming=True,
        customizations=("FINE_TUNING", "CONTINUED_PRE_TRAINING"),
        availability=_offer(
            ["us-east-1", "us-west-2", "eu-central-1", "eu-west-1", "eu-west-3", "ap-northeast-1", "ap-south-1"],
            ON_DEMAND,
        ),
        geographies=(),
        released=date(2023, 11, 29),
    ),
    ModelSpec(
        model_id="amazon.titan-embed-text-v2:0",
        name="Titan Text Embeddings V2",
        provider="Amazon",
        input_modalities=_TEXT,
        output_modalities=("EMBEDDING",),
        streaming=False,
        customizations=(),
        availability=_offer(REGIONS, ON_DEMAND),
        geographies=(),
        released=date(2024, 4, 30),
    ),
    ModelSpec(
        model_id="amazon.titan-image-generator-v2:0",
        name="Titan Image Generator G1 v2",
        provider="Amazon",
        input_modalities=_TEXT_IMAGE,
        output_modalities=("IMAGE",),
        streaming=False,
        customizations=("FINE_TUNING",),
        availability=_offer(["us-east-1", "us-west-2"], ON_DEMAND, PROVISIONED),
        geographies=(),
        released=date(2024, 8, 6),
    ),
    *(
        ModelSpec(
            model_id=f"amazon.nova-{size}-v1:0",
            name=f"Nova {size.capitalize()}",
            provider="Amazon",
            input_modalities=_TEXT if size == "micro" else _TEXT_IMAGE,
            output_modalities=_TEXT,
            streaming=True,
            customizations=("FINE_TUNING", "DISTILLATION") if size != "micro" else ("FINE_TUNING",),
            availability={
                "us-east-1": (ON_DEMAND,),
                "us-east-2": (INFERENCE_PROFILE,),
                "us-west-2": (INFERENCE_PROFILE,),
                **_offer(_EU, INFERENCE_PROFILE),
                "eu-north-1": (ON_DEMAND, INFERENCE_PROFILE),
                "ap-northeast-1": (INFERENCE_PROFILE,),
                "ap-southeast-2": (INFERENCE_PROFILE,),
            },
            geographies=("us", "eu", "apac"),
            released=date(2024, 12, 3),
        )
        for size in ("micro", "lite", "pro")
    ),
    ModelSpec(
        model_id="anthropic.claude-3-haiku-20240307-v1:0",
        name="Claude 3 Haiku",
        provider="Anthropic",
        input_modalities=_TEXT_IMAGE,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability={
            "us-east-1": (ON_DEMAND,),
            "us-east-2": (INFERENCE_PROFILE,),
            "us-west-2": (ON_DEMAND,),
            **_offer(["eu-central-1", "eu-west-1", "eu-west-3"], ON_DEMAND),
            **_offer(_APAC, ON_DEMAND),
        },
        geographies=("us", "eu", "apac"),
        released=date(2024, 3, 13),
    ),
    ModelSpec(
        # The provisioned-throughput variant: listed separately, as in the real catalogue.
        model_id="anthropic.claude-3-haiku-20240307-v1:0:200k",
        name="Claude 3 Haiku",
        provider="Anthropic",
        input_modalities=_TEXT_IMAGE,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability=_offer(["us-east-1", "us-west-2"], PROVISIONED),
        geographies=(),
        released=date(2024, 3, 13),
    ),
    ModelSpec(
        model_id="anthropic.claude-3-5-sonnet-20240620-v1:0",
        name="Claude 3.5 Sonnet",
        provider="Anthropic",
        input_modalities=_TEXT_IMAGE,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability={
            "us-east-1": (ON_DEMAND,),
            "us-west-2": (ON_DEMAND,),
            "eu-central-1": (ON_DEMAND,),
            "eu-west-1": (INFERENCE_PROFILE,),
            "eu-west-3": (INFERENCE_PROFILE,),
            "ap-northeast-1": (ON_DEMAND,),
            "ap-northeast-2": (ON_DEMAND,),
            "ap-southeast-1": (INFERENCE_PROFILE,),
            "ap-southeast-2": (INFERENCE_PROFILE,),
        },
        geographies=("us", "eu", "apac"),
        released=date(2024, 6, 20),
        lifecycle="LEGACY",
    ),
    ModelSpec(
        model_id="anthropic.claude-3-5-sonnet-20241022-v2:0",
        name="Claude 3.5 Sonnet v2",
        provider="Anthropic",
        input_modalities=_TEXT_IMAGE,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability={
            "us-east-1": (INFERENCE_PROFILE,),
            "us-east-2": (INFERENCE_PROFILE,),
            "us-west-2": (ON_DEMAND, INFERENCE_PROFILE),
            **_offer(["ap-northeast-1", "ap-southeast-1", "ap-southeast-2"], INFERENCE_PROFILE),
        },
        geographies=("us", "apac"),
        released=date(2024, 10, 22),
        lifecycle="LEGACY",
    ),
    ModelSpec(
        model_id="anthropic.claude-3-5-haiku-20241022-v1:0",
        name="Claude 3.5 Haiku",
        provider="Anthropic",
        input_modalities=_TEXT,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability={
            "us-east-1": (INFERENCE_PROFILE,),
            "us-east-2": (INFERENCE_PROFILE,),
            "us-west-2": (ON_DEMAND, INFERENCE_PROFILE),
        },
        geographies=("us",),
        released=date(2024, 11, 4),
    ),
    ModelSpec(
        model_id="anthropic.claude-3-7-sonnet-20250219-v1:0",
        name="Claude 3.7 Sonnet",
        provider="Anthropic",
        input_modalities=_TEXT_IMAGE,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability=_offer(REGIONS, INFERENCE_PROFILE),
        geographies=("us", "eu", "apac"),
        released=date(2025, 2, 24),
    ),
    ModelSpec(
        model_id="anthropic.claude-sonnet-4-20250514-v1:0",
        name="Claude Sonnet 4",
        provider="Anthropic",
        input_modalities=_TEXT_IMAGE,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability=_offer(REGIONS, INFERENCE_PROFILE),
        geographies=("us", "eu", "apac", GLOBAL),
        released=date(2025, 5, 22),
    ),
    ModelSpec(
        model_id="anthropic.claude-sonnet-4-5-20250929-v1:0",
        name="Claude Sonnet 4.5",
        provider="Anthropic",
        input_modalities=_TEXT_IMAGE,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability=_offer(REGIONS, INFERENCE_PROFILE),
        geographies=("us", "eu", GLOBAL),
        released=date(2025, 9, 29),
    ),
    ModelSpec(
        model_id="anthropic.claude-haiku-4-5-20251001-v1:0",
        name="Claude Haiku 4.5",
        provider="Anthropic",
        input_modalities=_TEXT_IMAGE,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability=_offer([*_US, *_EU], INFERENCE_PROFILE),
        geographies=("us", "eu", GLOBAL),
        released=date(2025, 10, 15),
    ),
    ModelSpec(
        model_id="anthropic.claude-opus-4-1-20250805-v1:0",
        name="Claude Opus 4.1",
        provider="Anthropic",
        input_modalities=_TEXT_IMAGE,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability=_offer(_US, INFERENCE_PROFILE),
        geographies=("us",),
        released=date(2025, 8, 5),
    ),
    ModelSpec(
        model_id="meta.llama3-8b-instruct-v1:0",
        name="Llama 3 8B Instruct",
        provider="Meta",
        input_modalities=_TEXT,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability=_offer(["us-east-1", "us-west-2", "eu-west-1", "ap-south-1"], ON_DEMAND),
        geographies=(),
        released=date(2024, 4, 23),
    ),
    ModelSpec(
        model_id="meta.llama3-70b-instruct-v1:0",
        name="Llama 3 70B Instruct",
        provider="Meta",
        input_modalities=_TEXT,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability=_offer(["us-east-1", "us-west-2", "eu-west-1", "ap-south-1"], ON_DEMAND),
        geographies=(),
        released=date(2024, 4, 23),
    ),
    ModelSpec(
        model_id="meta.llama3-1-70b-instruct-v1:0",
        name="Llama 3.1 70B Instruct",
        provider="Meta",
        input_modalities=_TEXT,
        output_modalities=_TEXT,
        streaming=True,
        customizations=("FINE_TUNING", "DISTILLATION"),
        availability={
            "us-east-1": (INFERENCE_PROFILE,),
            "us-east-2": (INFERENCE_PROFILE,),
            "us-west-2": (ON_DEMAND, INFERENCE_PROFILE),
        },
        geographies=("us",),
        released=date(2024, 7, 23),
    ),
    ModelSpec(
        model_id="meta.llama3-3-70b-instruct-v1:0",
        name="Llama 3.3 70B Instruct",
        provider="Meta",
        input_modalities=_TEXT,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability=_offer(_US, INFERENCE_PROFILE),
        geographies=("us",),
        released=date(2024, 12, 19),
    ),
    ModelSpec(
        model_id="mistral.mistral-large-2402-v1:0",
        name="Mistral Large (24.02)",
        provider="Mistral AI",
        input_modalities=_TEXT,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability=_offer(["us-east-1", "us-west-2", "eu-west-1", "eu-west-3", "ap-southeast-2"], ON_DEMAND),
        geographies=(),
        released=date(2024, 4, 2),
    ),
    ModelSpec(
        model_id="cohere.embed-english-v3",
        name="Embed English",
        provider="Cohere",
        input_modalities=_TEXT,
        output_modalities=("EMBEDDING",),
        streaming=False,
        customizations=(),
        availability=_offer(
            ["us-east-1", "us-west-2", "eu-central-1", "eu-west-1", "ap-northeast-1", "ap-southeast-2"],
            ON_DEMAND,
            PROVISIONED,
        ),
        geographies=(),
        released=date(2023, 11, 13),
    ),
    ModelSpec(
        model_id="deepseek.r1-v1:0",
        name="DeepSeek-R1",
        provider="DeepSeek",
        input_modalities=_TEXT,
        output_modalities=_TEXT,
        streaming=True,
        customizations=(),
        availability=_offer(_US, INFERENCE_PROFILE),
        geographies=("us",),
        released=date(2025, 3, 10),
    ),
)


def geography_of(region: str) -> str | None:
    """The geography prefix (us, eu, apac) of a region, or None outside the catalogue."""
    return next((geo for geo, regions in GEOGRAPHIES.items() if region in regions), None)


def foundation_models(region: str) -> list[RegionalModel]:
    """The models offered in ``region``, in catalogue order (empty for unknown regions)."""
    return [
        RegionalModel(spec=spec, region=region, inference_types=spec.availability[region])
        for spec in MODELS
        if region in spec.availability
    ]


def foundation_model(region: str, model_id: str) -> RegionalModel | None:
    return next((model for model in foundation_models(region) if model.spec.model_id == model_id), None)


def _system_profile(spec: ModelSpec, geo: str, region: str) -> SystemProfile | None:
    if geo == GLOBAL:
        # The empty-region ARN stands for "any commercial region".
        arns: tuple[str, ...] = (
            foundation_model_arn(region, spec.model_id),
            foundation_model_arn("", spec.model_id),
        )
        where = "all commercial AWS Regions"
    else:
        if geography_of(region) != geo:
            return None
        destinations = [r for r in GEOGRAPHIES[geo] if r in spec.availability]
        arns = tuple(foundation_model_arn(r, spec.model_id) for r in destinations)
        where = ", ".join(destinations[:-1]) + f" and {destinations[-1]}" if len(destinations) > 1 else destinations[0]
    if len(arns) > MAX_PROFILE_MODELS:
        raise ValueError(f"{geo}.{spec.model_id} would route to more than {MAX_PROFILE_MODELS} regions")
    label = _GEOGRAPHY_LABELS[geo]
    return SystemProfile(
        profile_id=f"{geo}.{spec.model_id}",
        name=f"{label} {spec.provider} {spec.name}",
        description=f"Routes requests to {spec.provider} {spec.name} in {where}.",
        model_arns=arns,
        created_at=datetime.combine(spec.released, datetime.min.time(), tzinfo=UTC),
    )


@cache
def _system_profiles(region: str) -> tuple[SystemProfile, ...]:
    profiles: list[SystemProfile] = []
    for spec in MODELS:
        if region not in spec.availability:
            continue
        for geo in spec.geographies:
            profile = _system_profile(spec, geo, region)
            if profile is not None:
                profiles.append(profile)
    return tuple(profiles)


def system_profiles(region: str) -> list[SystemProfile]:
    """The system-defined profiles callable from ``region``, in a stable order."""
    return list(_system_profiles(region))


def system_profile(region: str, profile_id: str) -> SystemProfile | None:
    return next((p for p in _system_profiles(region) if p.profile_id == profile_id), None)
