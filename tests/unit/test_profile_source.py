from __future__ import annotations

import pytest

from bedrock_governance.profiles import SourceNotFound, resolve_copy_source

REGION = "eu-central-1"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET4 = "anthropic.claude-sonnet-4-20250514-v1:0"
MODELS = [
    {
        "modelId": HAIKU,
        "modelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}",
        "inferenceTypesSupported": ["ON_DEMAND"],
    },
    {
        "modelId": SONNET4,
        "modelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{SONNET4}",
        "inferenceTypesSupported": ["INFERENCE_PROFILE"],
    },
]
SYSTEM = [
    {
        "inferenceProfileId": f"global.{SONNET4}",
        "inferenceProfileArn": f"arn:aws:bedrock:{REGION}:123456789012:inference-profile/global.{SONNET4}",
    },
    {
        "inferenceProfileId": f"eu.{SONNET4}",
        "inferenceProfileArn": f"arn:aws:bedrock:{REGION}:123456789012:inference-profile/eu.{SONNET4}",
    },
]


def test_on_demand_models_are_copied_directly() -> None:
    choice = resolve_copy_source(HAIKU, REGION, MODELS, SYSTEM)
    assert choice.kind == "foundation-model"
    assert choice.arn == f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}"


def test_models_without_on_demand_use_the_geography_profile_before_global() -> None:
    choice = resolve_copy_source(SONNET4, REGION, MODELS, SYSTEM)
    assert choice.kind == "system-profile"
    assert choice.arn.endswith(f"inference-profile/eu.{SONNET4}")
    assert "no on-demand inference" in choice.reason
    only_global = resolve_copy_source(SONNET4, REGION, MODELS, SYSTEM[:1])
    assert only_global.arn.endswith(f"inference-profile/global.{SONNET4}")


def test_a_named_system_profile_is_used_as_given() -> None:
    choice = resolve_copy_source(f"global.{SONNET4}", REGION, MODELS, SYSTEM)
    assert choice.arn.endswith(f"global.{SONNET4}")


def test_a_model_arn_is_understood_like_its_id() -> None:
    arn = f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}"
    assert resolve_copy_source(arn, REGION, MODELS, SYSTEM).arn == arn


def test_an_unavailable_model_is_refused_with_the_reason() -> None:
    with pytest.raises(SourceNotFound, match=r"meta.llama9.*not available in eu-central-1"):
        resolve_copy_source("meta.llama9-v1:0", REGION, MODELS, SYSTEM)
