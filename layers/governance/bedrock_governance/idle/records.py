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

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from bedrock_governance.core.arn import parse_arn
from bedrock_governance.core.errors import GovernanceError
from bedrock_governance.core.models import IDLE_SINCE_TAG, InferenceProfile, frozen_tags
from bedrock_governance.core.settings import REGION_PATTERN

ACCOUNT_PATTERN: Final = re.compile(r"[0-9]{12}")
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
    try:
        parsed = parse_arn(arn)
    except ValueError:
        return None
    if parsed.service != "bedrock" or not parsed.resource_type:
        return None
    return parsed.region, parsed.resource_type, parsed.resource_id


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
    account: str = ""  # set in organization scope: the member account the profile lived in

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", frozen_tags(self.tags))
        object.__setattr__(self, "original_tags", frozen_tags(self.original_tags))

    @property
    def key(self) -> str:
        """Where the record lives in the bucket: browsable by region and name (and account, in
        organization scope), unique by old id."""
        account = f"{self.account}/" if self.account else ""
        return f"{RECORD_PREFIX}{account}{self.region}/{self.name}/{self.old_id}.json"

    def with_status(self, status: str, detail: str = "") -> DeletionRecord:
        return replace(self, status=status, status_detail=detail)

    def restore_command(self) -> str:
        """The AWS CLI command that re-creates the profile, for people without this package."""
        tags = " ".join(shlex.quote(f"key={key},value={value}") for key, value in self.tags.items())
        # Every field is quoted: a record is a file anyone with bucket access can edit, and this
        # command is printed for people to paste.
        command = (
            f"aws bedrock create-inference-profile --region {shlex.quote(self.region)} "
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
            **({"account": self.account} if self.account else {}),
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
    def from_json(cls, document: object) -> DeletionRecord:
        """A record from its JSON document, or :class:`InvalidDeletionRecord` saying what is wrong."""
        if not isinstance(document, Mapping):
            raise InvalidDeletionRecord(f"a deletion record is a JSON object, not a JSON {_json_kind(document)}")
        if document.get("type") != RECORD_TYPE or document.get("version") != RECORD_VERSION:
            raise InvalidDeletionRecord(
                f"not a version-{RECORD_VERSION} {RECORD_TYPE} (type={document.get('type')!r}, "
                f"version={document.get('version')!r})"
            )
        region = _required(document, "region")
        if not REGION_PATTERN.match(region):
            raise InvalidDeletionRecord(f'field "region" {region!r} is not an AWS region name such as eu-central-1')
        tags = _tag_map(document, "tags", document.get("tags") or {})
        original = _tag_map(document, "originalTags", document.get("originalTags") or tags)
        account = _optional(document, "account")
        if account and not ACCOUNT_PATTERN.fullmatch(account):
            raise InvalidDeletionRecord(f'field "account" {account!r} is not a 12-digit account id')
        return cls(
            region=region,
            name=_required(document, "profileName"),
            description=_optional(document, "description"),
            copy_from=_required(document, "copyFrom"),
            copy_from_kind=_optional(document, "copyFromKind"),
            copy_from_explanation=_optional(document, "copyFromExplanation"),
            model_arns=_string_list(document, "modelArns"),
            tags=tags,
            original_tags=original,
            old_arn=_required(document, "oldArn"),
            old_id=_required(document, "oldId"),
            created_at=_time_field(document, "createdAt"),
            last_used=_time_field(document, "lastUse"),
            last_use_text=_optional(document, "lastUseText"),
            usage_read_since=_time_field(document, "usageReadSince"),
            idle_since=_optional(document, "idleSince") or None,
            reason=_optional(document, "reason"),
            deleted_at=_required_time(document, "deletedAt"),
            status=_optional(document, "status") or "deleting",
            status_detail=_optional(document, "statusDetail"),
            account=account,
        )


def _json_kind(value: object) -> str:
    match value:
        case list():
            return "list"
        case str():
            return "string"
        case bool():
            return "boolean"
        case int() | float():
            return "number"
        case None:
            return "null"
        case _:
            return type(value).__name__


def _required(document: Mapping[str, Any], field: str) -> str:
    if field not in document or document[field] is None:
        raise InvalidDeletionRecord(f'the deletion record lacks the field "{field}"')
    value = document[field]
    if not isinstance(value, str) or not value.strip():
        raise InvalidDeletionRecord(f'field "{field}" must be a non-empty string, not a JSON {_json_kind(value)}')
    return value


def _optional(document: Mapping[str, Any], field: str) -> str:
    value = document.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidDeletionRecord(f'field "{field}" must be a string, not a JSON {_json_kind(value)}')
    return value


def _string_list(document: Mapping[str, Any], field: str) -> tuple[str, ...]:
    value = document.get(field) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidDeletionRecord(f'field "{field}" must be a list of strings')
    return tuple(value)


def _tag_map(document: Mapping[str, Any], field: str, value: object) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidDeletionRecord(f'field "{field}" must be an object of tag key to string value')
    return {str(key): item for key, item in value.items()}


def _required_time(document: Mapping[str, Any], field: str) -> datetime:
    value = _time_field(document, field)
    if value is None:
        raise InvalidDeletionRecord(f'the deletion record lacks the field "{field}"')
    return value


def _time_field(document: Mapping[str, Any], field: str) -> datetime | None:
    value = document.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidDeletionRecord(f'field "{field}" must be an ISO 8601 time, not a JSON {_json_kind(value)}')
    try:
        return datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidDeletionRecord(f'field "{field}" {value!r} is not an ISO 8601 time') from error


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
    account: str = "",
) -> DeletionRecord:
    """The record of ``profile`` from its fresh ``GetInferenceProfile`` answer and tags; ``account``
    (organization scope) puts the member account into the record and its key."""
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
        account=account,
    )
