"""Application inference profiles created and restored the governed way: AWS's checks first, the right source.

The command line's ``profiles create`` and ``profiles restore`` use this module; it holds no
argument parsing and prints nothing.

Which source to copy from, in a given region (pure): whether a model can be copied directly
depends on the model in that region, not on the region: a foundation model that supports
ON_DEMAND there is copied by its ARN; otherwise it is reachable only through a system-defined
(cross-region) profile of the region's geography.

What AWS checks before it creates an application inference profile, checked first (pure):
``CreateInferenceProfile`` refuses a request whose name, description or tags break the limits
of Bedrock's API model (botocore's ``bedrock`` service model, checked against the AWS docs), or
whose name is taken in the region. A dry run that says "Would create" for such a request is
wrong, and a real create would fail half-way through a script; so both run these checks first.

* name: 1..64 characters, pattern ``([0-9a-zA-Z][ _-]?)+`` (letters and digits, a single space,
  ``_`` or ``-`` between them), unique among the region's application profiles;
* description (optional): 1..200 characters, pattern ``([0-9a-zA-Z:.][ _-]?)+``;
* tags: at most 50 per resource, key 1..128 and value 0..256 characters of
  ``[a-zA-Z0-9\\s._:/=+@-]``, no key starting with the reserved ``aws:`` prefix.
"""

from __future__ import annotations

import re
import shlex
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from bedrock_governance.aws import ports
from bedrock_governance.core.errors import GovernanceError
from bedrock_governance.idle.records import DeletionRecord
from bedrock_governance.tags.policy import TagPolicy, evaluate_tags

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


# --- AWS's checks


NAME_MAX: Final = 64
NAME_PATTERN: Final = re.compile(r"([0-9a-zA-Z][ _-]?)+")
DESCRIPTION_MAX: Final = 200
DESCRIPTION_PATTERN: Final = re.compile(r"([0-9a-zA-Z:.][ _-]?)+")
TAG_KEY_MAX: Final = 128
TAG_VALUE_MAX: Final = 256
TAG_PATTERN: Final = re.compile(r"[a-zA-Z0-9\s._:/=+@-]*", re.ASCII)
MAX_TAGS: Final = 50
RESERVED_TAG_PREFIX: Final = "aws:"


@dataclass(frozen=True)
class ProfileProblem:
    """One reason AWS would refuse the request; ``field`` is what the user gave it as."""

    field: str
    message: str

    def describe(self) -> str:
        return f"{self.field}: {self.message}"


def _shown(value: str, limit: int = 70) -> str:
    """A value as the user typed it, quoted, cut short when long."""
    return f'"{value}"' if len(value) <= limit else f'"{value[:limit]}..." ({len(value)} characters)'


def name_problems(name: str, existing_names: Collection[str] = ()) -> list[ProfileProblem]:
    if not name:
        return [ProfileProblem("name", "is empty; a profile name has 1 to 64 characters")]
    if len(name) > NAME_MAX:
        return [ProfileProblem("name", f"has {len(name)} characters; at most {NAME_MAX}")]
    if not NAME_PATTERN.fullmatch(name):
        return [
            ProfileProblem(
                "name",
                f"{_shown(name)} is not letters and digits with single spaces, _ or - between them "
                "(it must start with a letter or digit)",
            )
        ]
    if name in existing_names:
        return [ProfileProblem("name", f"{_shown(name)} is taken: an application profile of that name exists")]
    return []


def description_problems(description: str | None) -> list[ProfileProblem]:
    if description is None:
        return []
    if not description:
        return [ProfileProblem("description", "is empty; leave it out or give 1 to 200 characters")]
    if len(description) > DESCRIPTION_MAX:
        return [ProfileProblem("description", f"has {len(description)} characters; at most {DESCRIPTION_MAX}")]
    if not DESCRIPTION_PATTERN.fullmatch(description):
        return [
            ProfileProblem(
                "description",
                f"{_shown(description)} may hold only letters, digits, : and . with single spaces, _ or - between them",
            )
        ]
    return []


def tag_problems(tags: Mapping[str, str]) -> list[ProfileProblem]:
    problems: list[ProfileProblem] = []
    if len(tags) > MAX_TAGS:
        problems.append(ProfileProblem("tags", f"{len(tags)} tags; a profile takes at most {MAX_TAGS}"))
    for key, value in tags.items():
        where = f"tag {_shown(key, 40)}"
        if not key or len(key) > TAG_KEY_MAX:
            problems.append(ProfileProblem(where, f"the key has {len(key)} characters; 1 to {TAG_KEY_MAX}"))
        elif not TAG_PATTERN.fullmatch(key):
            problems.append(ProfileProblem(where, "the key may hold only letters, digits, spaces and ._:/=+@-"))
        elif key.lower().startswith(RESERVED_TAG_PREFIX):
            problems.append(ProfileProblem(where, f"keys starting with {RESERVED_TAG_PREFIX} are reserved for AWS"))
        if len(value) > TAG_VALUE_MAX:
            problems.append(ProfileProblem(where, f"the value has {len(value)} characters; at most {TAG_VALUE_MAX}"))
        elif not TAG_PATTERN.fullmatch(value):
            problems.append(
                ProfileProblem(where, f"the value {_shown(value)} may hold only letters, digits, spaces and ._:/=+@-")
            )
    return problems


def profile_problems(
    name: str, description: str | None, tags: Mapping[str, str], existing_names: Collection[str] = ()
) -> list[ProfileProblem]:
    """Every reason ``CreateInferenceProfile`` would refuse this request ([] when none is known).

    ``existing_names`` are the names of the region's application profiles (ListInferenceProfiles).
    """
    return [*name_problems(name, existing_names), *description_problems(description), *tag_problems(tags)]


# --- restore


def restore_profile(
    record: DeletionRecord, bedrock: ports.ProfileCreator, *, client_request_token: str | None = None
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


# --- the governed way: every check first, then one create


class ProfileRefused(GovernanceError):
    """The request is refused before any write: the tag policy, AWS's checks, a taken name or a
    source no longer offered. The message says why (one line, or a line and its list)."""


@dataclass(frozen=True)
class CreatePlan:
    """A create that passed every check: what would be created, and from which source."""

    name: str
    region: str
    tags: Mapping[str, str]
    description: str | None
    source: CopySourceChoice


@dataclass(frozen=True)
class CreatedFromPlan:
    arn: str
    copy_from: str


@dataclass(frozen=True)
class RestorePlan:
    """A restore that passed every check: ``record`` carries the tags the profile gets."""

    record: DeletionRecord

    @property
    def command(self) -> str:
        return self.record.restore_command()


@dataclass(frozen=True)
class Restored:
    arn: str
    old_arn: str


def refuse_if(problems: Sequence[ProfileProblem], what: str) -> None:
    """Raise :class:`ProfileRefused` listing AWS's objections; ``what`` is "created" or "re-created"."""
    if problems:
        lines = "\n".join(f"  - {problem.describe()}" for problem in problems)
        raise ProfileRefused(f"refused: AWS would reject this profile, nothing was {what}:\n{lines}")


def refuse_policy_violations(tags: Mapping[str, str], policy: TagPolicy, what: str) -> None:
    violations = evaluate_tags(tags, policy)
    if violations:
        lines = "\n".join(f"  - {violation.describe()}" for violation in violations)
        raise ProfileRefused(f"refused: the tags do not follow the tag policy, nothing was {what}:\n{lines}")


def _check_request(
    name: str,
    description: str | None,
    tags: Mapping[str, str],
    *,
    policy: TagPolicy,
    catalog: ports.ProfileCatalog,
    what: str,
) -> None:
    refuse_policy_violations(tags, policy, what)
    # What AWS checks without a call first, so a refusal costs no AWS call at all.
    refuse_if(profile_problems(name, description, tags), what)
    taken = {profile.name for profile in catalog.list_application_profiles()}
    refuse_if(profile_problems(name, description, tags, taken), what)


def plan_create(
    *,
    name: str,
    model: str,
    tags: Mapping[str, str],
    description: str | None,
    region: str,
    policy: TagPolicy,
    catalog: ports.ProfileCatalog,
) -> CreatePlan:
    """Every check of ``profiles create``, reading only: the tag policy, AWS's documented checks,
    the name not taken in ``region``, and the source to copy ``model`` from there.

    Raises :class:`ProfileRefused` or :class:`SourceNotFound`; ``catalog`` is ``region``'s adapter.
    """
    _check_request(name, description, tags, policy=policy, catalog=catalog, what="created")
    source = resolve_copy_source(model, region, catalog.list_foundation_models(), catalog.list_system_profiles())
    return CreatePlan(name=name, region=region, tags=dict(tags), description=description, source=source)


def create_planned(
    plan: CreatePlan, creator: ports.ProfileCreator, *, client_request_token: str | None = None
) -> CreatedFromPlan:
    """Create what ``plan`` says, once, with a client request token (a fresh one unless given)."""
    created = creator.create_profile(
        name=plan.name,
        copy_from=plan.source.arn,
        tags=dict(plan.tags),
        description=plan.description,
        client_request_token=client_request_token or str(uuid.uuid4()),
    )
    return CreatedFromPlan(arn=created.arn, copy_from=plan.source.arn)


def _retired_source_message(record: DeletionRecord, suggestions: Sequence[str]) -> str:
    description = record.description or None
    tag_flags = " ".join(f"--tag {shlex.quote(f'{key}={value}')}" for key, value in record.tags.items())
    if description:
        tag_flags = f"--description {shlex.quote(description)} {tag_flags}"
    others = f"; other current models: {', '.join(suggestions[1:])}" if len(suggestions) > 1 else ""
    return (
        f"refused: {record.copy_from} is no longer offered in {record.region}, so the profile cannot be "
        "re-created as it was; create it from a current model instead: bedrock-governance profiles create "
        f"--region {record.region} --name {shlex.quote(record.name)} "
        f"--model {suggestions[0] if suggestions else '<a model offered there>'} {tag_flags}".rstrip()
        + others
    )


def plan_restore(
    record: DeletionRecord,
    *,
    extra_tags: Mapping[str, str],
    policy: TagPolicy,
    catalog: ports.ProfileCatalog,
) -> RestorePlan:
    """Every check of ``profiles restore``, reading only: the record's tags with ``extra_tags`` over
    them against the tag policy, AWS's documented checks, the name not taken, and the record's
    source still offered in its region (else the refusal suggests ``profiles create --model``).

    ``catalog`` must be the adapter of ``record.region``. Raises :class:`ProfileRefused`.
    """
    tags = {**record.tags, **extra_tags}
    _check_request(record.name, record.description or None, tags, policy=policy, catalog=catalog, what="re-created")
    models, system = catalog.list_foundation_models(), catalog.list_system_profiles()
    restored = replace(record, tags=tags)
    if not source_offered(record.copy_from, models, system):
        raise ProfileRefused(_retired_source_message(restored, suggest_models(record.copy_from, models, system)))
    return RestorePlan(record=restored)


def restore_planned(
    plan: RestorePlan, creator: ports.ProfileCreator, *, client_request_token: str | None = None
) -> Restored:
    """Re-create what ``plan`` says, once, with a client request token (a fresh one unless given)."""
    arn = restore_profile(plan.record, creator, client_request_token=client_request_token or str(uuid.uuid4()))
    return Restored(arn=arn, old_arn=plan.record.old_arn)
