"""Deletion records: everything needed to re-create a deleted profile, written before it is deleted.

Bedrock has no "undelete". What a profile is made of is its name, description, tags and the
source it was copied from, so the record keeps exactly those (plus its old ARN and id, its last
use and why it went). :func:`restore_profile` re-creates a profile from a record. The re-created
profile gets a NEW ARN and id (Bedrock assigns them): every caller that used the old ARN must be
updated.

Recovering the source: Bedrock does not return ``copyFrom``; ``GetInferenceProfile`` returns the
``models`` the profile routes to, and a profile routes exactly where its source does. So:

1. one model, a foundation model in the profile's own region: that foundation model's ARN
   (a single-region profile, the only way a foundation model can be copied);
2. otherwise: the system-defined profile of that region whose models are exactly the same set
   (a cross-region profile); if several match, the first by id, noted in the record;
3. neither: the source is unknown and the profile is not deleted (nothing may be lost).

Copying from the chosen source yields the same model list, so the re-created profile routes as the
old one did, even in the rare case where both rules 1 and 2 would fit.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from bedrock_governance.aws.bedrock import BedrockProfiles
from bedrock_governance.errors import GovernanceError
from bedrock_governance.models import IDLE_SINCE_TAG, InferenceProfile, frozen_tags

RECORD_PREFIX: Final = "deletion-records/"
RECORD_TYPE: Final = "bedrock-inference-profile-deletion-record"
RECORD_VERSION: Final = 1
# Tags the governance jobs write; not carried over, so a restored profile starts with a clean slate.
GOVERNANCE_MARKS: Final = frozenset({IDLE_SINCE_TAG})
NEW_ARN_NOTICE: Final = (
    "A re-created profile gets a NEW ARN and id; update every application, policy and dashboard that used the old ARN."
)

FOUNDATION_MODEL: Final = "foundation-model"
SYSTEM_PROFILE: Final = "system-profile"


class InvalidDeletionRecord(GovernanceError):
    """A document is not a deletion record this code can restore from."""


@dataclass(frozen=True)
class CopySource:
    arn: str
    kind: str  # FOUNDATION_MODEL or SYSTEM_PROFILE
    explanation: str


def _arn_parts(arn: str) -> tuple[str, str, str] | None:
    """(region, resource type, resource id) of a Bedrock ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "bedrock" or "/" not in parts[5]:
        return None
    resource_type, _, resource_id = parts[5].partition("/")
    return parts[3], resource_type, resource_id


def copy_source_for(
    model_arns: Sequence[str], region: str, system_profiles: Sequence[Mapping[str, Any]]
) -> CopySource | None:
    """The ARN to copy from so a new profile routes to exactly ``model_arns`` (see module doc)."""
    models = frozenset(model_arns)
    if len(models) == 1:
        (only,) = models
        parts = _arn_parts(only)
        if parts is not None and parts[0] == region and parts[1] == "foundation-model":
            return CopySource(only, FOUNDATION_MODEL, "one model in its own region: copied from the foundation model")
    matches = sorted(
        str(summary["inferenceProfileArn"])
        for summary in system_profiles
        if summary.get("inferenceProfileArn")
        and frozenset(str(model.get("modelArn", "")) for model in summary.get("models", [])) == models
    )
    if not matches:
        return None
    note = f"; {len(matches) - 1} other system profile(s) route the same way: {', '.join(matches[1:])}"
    return CopySource(
        matches[0],
        SYSTEM_PROFILE,
        "routes to the same models as this system-defined profile" + (note if len(matches) > 1 else ""),
    )


def restorable_tags(tags: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in sorted(tags.items()) if key not in GOVERNANCE_MARKS}


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class DeletionRecord:
    region: str
    name: str
    description: str
    copy_from: str
    copy_from_kind: str
    copy_from_explanation: str
    model_arns: tuple[str, ...]
    tags: Mapping[str, str]  # what a restore applies: every tag except the governance marks
    original_tags: Mapping[str, str]  # every tag the profile had
    old_arn: str
    old_id: str
    created_at: datetime | None
    last_used: datetime | None  # start of the last day with traffic, None when none was seen
    last_use_text: str
    usage_read_since: datetime | None
    idle_since: str | None
    reason: str
    deleted_at: datetime
    status: str = "deleting"  # "deleting" until the delete call returns, then "deleted" or "not-deleted"
    status_detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", frozen_tags(self.tags))
        object.__setattr__(self, "original_tags", frozen_tags(self.original_tags))

    @property
    def key(self) -> str:
        """Where the record lives in the bucket: browsable by region and name, unique by old id."""
        return f"{RECORD_PREFIX}{self.region}/{self.name}/{self.old_id}.json"

    def with_status(self, status: str, detail: str = "") -> DeletionRecord:
        return replace(self, status=status, status_detail=detail)

    def restore_command(self) -> str:
        """The AWS CLI command that re-creates the profile, for people without this package."""
        tags = " ".join(shlex.quote(f"key={key},value={value}") for key, value in self.tags.items())
        command = (
            f"aws bedrock create-inference-profile --region {self.region} "
            f"--inference-profile-name {shlex.quote(self.name)} "
            f"--model-source copyFrom={shlex.quote(self.copy_from)}"
        )
        if self.description:
            command += f" --description {shlex.quote(self.description)}"
        if tags:
            command += f" --tags {tags}"
        return command

    def to_json(self) -> dict[str, Any]:
        return {
            "type": RECORD_TYPE,
            "version": RECORD_VERSION,
            "status": self.status,
            "statusDetail": self.status_detail or None,
            "region": self.region,
            "profileName": self.name,
            "description": self.description,
            "copyFrom": self.copy_from,
            "copyFromKind": self.copy_from_kind,
            "copyFromExplanation": self.copy_from_explanation,
            "modelArns": list(self.model_arns),
            "tags": dict(self.tags),
            "originalTags": dict(sorted(self.original_tags.items())),
            "oldArn": self.old_arn,
            "oldId": self.old_id,
            "createdAt": self.created_at.isoformat() if self.created_at else None,
            "lastUse": self.last_used.isoformat() if self.last_used else None,
            "lastUseText": self.last_use_text,
            "usageReadSince": self.usage_read_since.isoformat() if self.usage_read_since else None,
            "idleSince": self.idle_since,
            "reason": self.reason,
            "deletedAt": self.deleted_at.isoformat(),
            "restore": {"notice": NEW_ARN_NOTICE, "awsCli": self.restore_command()},
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> DeletionRecord:
        if document.get("type") != RECORD_TYPE or document.get("version") != RECORD_VERSION:
            raise InvalidDeletionRecord(
                f"not a version-{RECORD_VERSION} {RECORD_TYPE} (type={document.get('type')!r}, "
                f"version={document.get('version')!r})"
            )
        try:
            tags = document.get("tags") or {}
            original = document.get("originalTags") or tags
            if not isinstance(tags, Mapping) or not isinstance(original, Mapping):
                raise TypeError("tags must be objects")
            return cls(
                region=str(document["region"]),
                name=str(document["profileName"]),
                description=str(document.get("description") or ""),
                copy_from=str(document["copyFrom"]),
                copy_from_kind=str(document.get("copyFromKind") or ""),
                copy_from_explanation=str(document.get("copyFromExplanation") or ""),
                model_arns=tuple(str(arn) for arn in document.get("modelArns", [])),
                tags={str(k): str(v) for k, v in tags.items()},
                original_tags={str(k): str(v) for k, v in original.items()},
                old_arn=str(document["oldArn"]),
                old_id=str(document["oldId"]),
                created_at=_time(document.get("createdAt")),
                last_used=_time(document.get("lastUse")),
                last_use_text=str(document.get("lastUseText") or ""),
                usage_read_since=_time(document.get("usageReadSince")),
                idle_since=document.get("idleSince"),
                reason=str(document.get("reason") or ""),
                deleted_at=datetime.fromisoformat(str(document["deletedAt"])),
                status=str(document.get("status") or "deleting"),
                status_detail=str(document.get("statusDetail") or ""),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidDeletionRecord(f"malformed deletion record: {error}") from error


def build_record(
    profile: InferenceProfile,
    details: Mapping[str, Any],
    current_tags: Mapping[str, str],
    source: CopySource,
    *,
    last_used: datetime | None,
    last_use_text: str,
    usage_read_since: datetime | None,
    idle_since: str | None,
    reason: str,
    deleted_at: datetime,
) -> DeletionRecord:
    """The record of ``profile`` from its fresh ``GetInferenceProfile`` answer and tags."""
    created = details.get("createdAt", profile.created_at)
    return DeletionRecord(
        region=profile.region,
        name=str(details.get("inferenceProfileName", profile.name)),
        description=str(details.get("description") or profile.description or ""),
        copy_from=source.arn,
        copy_from_kind=source.kind,
        copy_from_explanation=source.explanation,
        model_arns=tuple(str(model["modelArn"]) for model in details.get("models", [])) or profile.model_arns,
        tags=restorable_tags(current_tags),
        original_tags=dict(current_tags),
        old_arn=profile.arn,
        old_id=profile.profile_id,
        created_at=created if isinstance(created, datetime) else None,
        last_used=last_used,
        last_use_text=last_use_text,
        usage_read_since=usage_read_since,
        idle_since=idle_since,
        reason=reason,
        deleted_at=deleted_at,
    )


def restore_profile(
    record: DeletionRecord, bedrock: BedrockProfiles, *, client_request_token: str | None = None
) -> str:
    """Re-create the profile a record describes and return its ARN.

    The new profile has the same name, description, tags and source, but a NEW ARN and id:
    Bedrock assigns them and there is no way to get the old ones back. ``bedrock`` must be the
    adapter of ``record.region``. Fails with ``Conflict`` if a profile with that name exists, and
    with ``InvalidRequest`` if the source no longer accepts copies (e.g. a retired model).
    Pass ``client_request_token`` to make a retried restore idempotent.
    """
    created = bedrock.create_profile(
        name=record.name,
        copy_from=record.copy_from,
        tags=dict(record.tags),
        description=record.description or None,
        client_request_token=client_request_token,
    )
    return created.arn
