"""Which source an application profile should be copied from, in a given region: pure.

Whether a model can be copied directly depends on the model in that region, not on the region:
a foundation model that supports ON_DEMAND there is copied by its ARN; otherwise it is reachable
only through a system-defined (cross-region) profile of the region's geography.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_governance.errors import GovernanceError

# A geography's own profile keeps traffic (and data) in the geography; global is the fallback.
GEOGRAPHY_PREFERENCE = ("us", "eu", "apac", "ca", "jp", "au", "us-gov", "global")


class SourceNotFound(GovernanceError):
    """The model cannot be used in the region, directly or through a system-defined profile."""


@dataclass(frozen=True)
class CopySourceChoice:
    arn: str
    kind: str  # "foundation-model" or "system-profile"
    reason: str


def _model_id_of(identifier: str) -> str:
    """A model id from a model id, a foundation-model ARN or a system profile id/ARN."""
    tail = identifier.rsplit("/", 1)[-1]
    prefix, _, rest = tail.partition(".")
    return rest if prefix in GEOGRAPHY_PREFERENCE and rest else tail


def resolve_copy_source(
    model: str,
    region: str,
    foundation_models: Sequence[Mapping[str, Any]],
    system_profiles: Sequence[Mapping[str, Any]],
) -> CopySourceChoice:
    """The ARN to put in ``modelSource.copyFrom`` for ``model`` in ``region``.

    ``model`` is a model id (``anthropic.claude-3-haiku-20240307-v1:0``), a foundation-model ARN,
    or a system profile id or ARN (then used as given, if the region offers it).
    ``foundation_models`` is ListFoundationModels' ``modelSummaries`` for the region and
    ``system_profiles`` ListInferenceProfiles(SYSTEM_DEFINED)'s summaries.
    """
    tail = model.rsplit("/", 1)[-1]
    for profile in system_profiles:
        if tail in {profile.get("inferenceProfileId"), profile.get("inferenceProfileArn")} or model == profile.get(
            "inferenceProfileArn"
        ):
            return CopySourceChoice(
                str(profile["inferenceProfileArn"]), "system-profile", f"the system-defined profile {tail} as asked"
            )
    model_id = _model_id_of(model)
    summary = next((m for m in foundation_models if m.get("modelId") == model_id), None)
    if summary is not None and "ON_DEMAND" in summary.get("inferenceTypesSupported", []):
        return CopySourceChoice(
            str(summary["modelArn"]), "foundation-model", f"{model_id} supports on-demand inference in {region}"
        )
    candidates = {
        str(profile.get("inferenceProfileId", "")).partition(".")[0]: profile
        for profile in system_profiles
        if _model_id_of(str(profile.get("inferenceProfileId", ""))) == model_id
    }
    for geography in GEOGRAPHY_PREFERENCE:
        if geography in candidates:
            profile = candidates[geography]
            why = "is not offered" if summary is None else "has no on-demand inference"
            return CopySourceChoice(
                str(profile["inferenceProfileArn"]),
                "system-profile",
                f"{model_id} {why} in {region}; copied from the system-defined profile {profile['inferenceProfileId']}",
            )
    raise SourceNotFound(
        f"{model_id} is not available in {region}, neither on demand nor through a system-defined profile "
        "(check model access and the region)"
    )


def _copyable_model_ids(foundation_models: Sequence[Mapping[str, Any]]) -> list[str]:
    return [
        str(m["modelId"])
        for m in foundation_models
        if m.get("modelId") and "ON_DEMAND" in m.get("inferenceTypesSupported", [])
    ]


def source_offered(
    copy_from: str, foundation_models: Sequence[Mapping[str, Any]], system_profiles: Sequence[Mapping[str, Any]]
) -> bool:
    """Whether ``copy_from`` (a foundation-model or system profile ARN, as in a deletion record) can
    still be copied in the region these lists describe: an on-demand foundation model there, or one
    of its system-defined profiles."""
    if any(copy_from == profile.get("inferenceProfileArn") for profile in system_profiles):
        return True
    if ":foundation-model/" not in copy_from:
        return False
    return copy_from.rsplit("/", 1)[-1] in _copyable_model_ids(foundation_models)


def suggest_models(
    copy_from: str,
    foundation_models: Sequence[Mapping[str, Any]],
    system_profiles: Sequence[Mapping[str, Any]],
    limit: int = 3,
) -> list[str]:
    """Model ids ``profiles create --model`` accepts in the region, the gone source's provider first.

    Offered when a deletion record's source has been retired from the region.
    """
    usable = set(_copyable_model_ids(foundation_models)) | {
        _model_id_of(str(profile.get("inferenceProfileId", "")))
        for profile in system_profiles
        if profile.get("inferenceProfileId")
    }
    provider = _model_id_of(copy_from).partition(".")[0]
    same_provider = sorted(model for model in usable if model.partition(".")[0] == provider)
    others = sorted(usable - set(same_provider))
    return (same_provider + others)[:limit]
