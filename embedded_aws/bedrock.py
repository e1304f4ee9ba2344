"""Bedrock inference profiles and foundation models for moto.

moto 5.2.5 has no inference-profile operations and its ``tag_resource`` rejects profile ARNs.
This extension swaps moto's Bedrock backend class for a subclass that adds them, and attaches
the matching request handlers to moto's ``BedrockResponse``. moto's catch-all Bedrock URL
(``{0}/.*$``) already routes every Bedrock path to that class, in-process and in server mode,
and moto resolves the operation from the botocore model, so no URL needs adding.

The backend also joins the Resource Groups Tagging API through moto's
``TaggableResourcesMixin``: application profiles appear in ``get_resources`` once they have
been tagged (see :mod:`embedded_aws.tagging`).

Tests simulate a profile that is in use (which AWS reports as ``ConflictException`` on
delete) with :func:`set_profile_in_use`.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import re
import string
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, Final, cast
from urllib.parse import parse_qs, unquote

from moto.bedrock import models as bedrock_models
from moto.bedrock.responses import BedrockResponse
from moto.core.exceptions import ServiceException
from moto.core.resource_tagging import TaggableResourcesMixin, TaggedResource
from moto.core.responses import ActionResult
from moto.moto_api._internal import mock_random

from embedded_aws import catalog

# AWS's default quota: about 1,000 application inference profiles per account and region.
# Module-level so a test can lower it instead of creating a thousand profiles.
PROFILE_QUOTA = 1000
# Page size when maxResults is absent. AWS does not document it; assumed.
DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 1000
MAX_TAGS_PER_RESOURCE: Final = 50
# TagList / TagKeyList carry at most 200 entries per request (botocore model).
MAX_TAGS_PER_REQUEST: Final = 200

APPLICATION: Final = "APPLICATION"
SYSTEM_DEFINED: Final = "SYSTEM_DEFINED"
PROFILE_TYPES: Final = (SYSTEM_DEFINED, APPLICATION)

# Patterns from the botocore model. AWS applies them to the whole value (the CloudFormation
# schema writes them anchored), so they are matched with fullmatch.
NAME_PATTERN: Final = r"([0-9a-zA-Z][ _-]?)+"
DESCRIPTION_PATTERN: Final = r"([0-9a-zA-Z:.][ _-]?)+"
TAG_PATTERN: Final = r"[a-zA-Z0-9\s._:/=+@-]*"
TOKEN_PATTERN: Final = r"[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?"
SOURCE_ARN_PATTERN: Final = (
    r"arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:(|[0-9a-z-]{0,20}):(|[0-9]{12}):"
    r"(inference-profile|foundation-model)/[a-zA-Z0-9-:.]+"
)
IDENTIFIER_PATTERN: Final = (
    r"(arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:(|[0-9a-z-]{0,20}):(|[0-9]{12}):"
    r"(inference-profile|application-inference-profile)/)?[a-zA-Z0-9-:.]+"
)
PROVIDER_PATTERN: Final = r"[A-Za-z0-9- ]{1,63}"
MODEL_IDENTIFIER_PATTERN: Final = (
    r"(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}::foundation-model/[a-z0-9-]{1,63}[.]{1}([a-z0-9-]{1,63}[.]){0,2}"
    r"[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2})|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})"
    r"([:][a-z0-9-]{1,63}){0,2})"
)
OUTPUT_MODALITIES: Final = ("TEXT", "IMAGE", "EMBEDDING")
CUSTOMIZATION_TYPES: Final = ("FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION")
INFERENCE_TYPES: Final = ("ON_DEMAND", "PROVISIONED")

_ID_ALPHABET: Final = string.ascii_lowercase + string.digits
_ID_LENGTH: Final = 12
_ARN_RE: Final = re.compile(r"arn:(?P<partition>[^:]*):bedrock:(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.+)")
_INVALID_SOURCE: Final = "copyFrom must be a valid inference profile model source ARN."


# --- errors ----------------------------------------------------------------------------------
# ServiceException subclasses are serialised by moto from the botocore error shapes, so the
# HTTP status (404, 400, ...) and the error code come out as AWS sends them.


class ValidationException(ServiceException):
    code = "ValidationException"


class ConflictException(ServiceException):
    code = "ConflictException"


class ResourceNotFoundException(ServiceException):
    code = "ResourceNotFoundException"


class ServiceQuotaExceededException(ServiceException):
    code = "ServiceQuotaExceededException"


class TooManyTagsException(ServiceException):
    code = "TooManyTagsException"

    def __init__(self, message: str, resource_name: str) -> None:
        super().__init__(message)
        # Serialised as the error shape's ``resourceName`` member.
        self.resourceName = resource_name


def _checked_string(value: object, where: str) -> str:
    """``value``, which a :class:`_Constraints` check has already required to be a string."""
    if not isinstance(value, str):
        raise ValidationException(f"Value at '{where}' failed to satisfy constraint: Member must be a string")
    return value


class _Constraints:
    """Collects constraint violations, reported together as AWS's front end does."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, where: str, value: object, constraint: str, *, sensitive: bool = False) -> None:
        # AWS leaves the value of a sensitive member (the description) out of the message.
        shown = "" if sensitive else f" '{value}'"
        self.errors.append(f"Value{shown} at '{where}' failed to satisfy constraint: {constraint}")

    def string(
        self,
        where: str,
        value: object,
        *,
        min_len: int,
        max_len: int,
        pattern: str | None = None,
        sensitive: bool = False,
    ) -> None:
        if not isinstance(value, str):
            self.errors.append(f"Value at '{where}' failed to satisfy constraint: Member must be a string")
            return
        if len(value) < min_len:
            self.add(where, value, f"Member must have length greater than or equal to {min_len}", sensitive=sensitive)
        if len(value) > max_len:
            self.add(where, value, f"Member must have length less than or equal to {max_len}", sensitive=sensitive)
        if pattern is not None and value and not re.fullmatch(pattern, value):
            self.add(
                where,
                value,
                f"Member must satisfy regular expression pattern: {pattern}",
                sensitive=sensitive,
            )

    def enum(self, where: str, value: str, allowed: Sequence[str]) -> None:
        if value not in allowed:
            self.add(where, value, f"Member must satisfy enum value set: [{', '.join(allowed)}]")

    def raise_if_any(self) -> None:
        if self.errors:
            count = len(self.errors)
            noun = "error" if count == 1 else "errors"
            raise ValidationException(f"{count} validation {noun} detected: " + "; ".join(self.errors))


def _validate_tags(check: _Constraints, tags: object, where: str = "tags") -> list[tuple[str, str]]:
    if not isinstance(tags, list):
        check.errors.append(f"Value at '{where}' failed to satisfy constraint: Member must be a list")
        return []
    if len(tags) > MAX_TAGS_PER_REQUEST:
        check.add(where, "[...]", f"Member must have length less than or equal to {MAX_TAGS_PER_REQUEST}")
    pairs: list[tuple[str, str]] = []
    for index, tag in enumerate(tags, start=1):
        member = f"{where}.{index}.member"
        if not isinstance(tag, Mapping) or "key" not in tag or "value" not in tag:
            check.errors.append(f"Value at '{member}' failed to satisfy constraint: Member must have key and value")
            continue
        key, value = tag["key"], tag["value"]
        check.string(f"{member}.key", key, min_len=1, max_len=128, pattern=TAG_PATTERN)
        check.string(f"{member}.value", value, min_len=0, max_len=256, pattern=TAG_PATTERN)
        pairs.append((str(key), str(value)))
    return pairs


def _tag_semantics(pairs: Sequence[tuple[str, str]]) -> None:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValidationException(f"Duplicate tag keys in the request: {', '.join(duplicates)}")
    reserved = [key for key in keys if key.lower().startswith("aws:")]
    if reserved:
        raise ValidationException(f"Tag keys starting with 'aws:' are reserved for AWS use: {', '.join(reserved)}")


def _now() -> datetime:
    return datetime.now(UTC)


# --- state -----------------------------------------------------------------------------------


@dataclass
class ApplicationProfile:
    profile_id: str
    name: str
    description: str | None
    arn: str
    model_arns: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    sequence: int
    request_token: str | None = None
    fingerprint: str = ""

    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "inferenceProfileName": self.name,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "inferenceProfileArn": self.arn,
            "models": [{"modelArn": arn} for arn in self.model_arns],
            "inferenceProfileId": self.profile_id,
            "status": "ACTIVE",
            "type": APPLICATION,
        }
        if self.description is not None:
            result["description"] = self.description
        return result


def _system_summary(profile: catalog.SystemProfile, region: str, account_id: str) -> dict[str, Any]:
    return {
        "inferenceProfileName": profile.name,
        "description": profile.description,
        "createdAt": profile.created_at,
        "updatedAt": profile.created_at,
        "inferenceProfileArn": profile.arn(region, account_id),
        "models": [{"modelArn": arn} for arn in profile.model_arns],
        "inferenceProfileId": profile.profile_id,
        "status": "ACTIVE",
        "type": SYSTEM_DEFINED,
    }


def _model_summary(model: catalog.RegionalModel) -> dict[str, Any]:
    spec = model.spec
    return {
        "modelArn": model.arn,
        "modelId": spec.model_id,
        "modelName": spec.name,
        "providerName": spec.provider,
        "inputModalities": list(spec.input_modalities),
        "outputModalities": list(spec.output_modalities),
        "responseStreamingSupported": spec.streaming,
        "customizationsSupported": list(spec.customizations),
        "inferenceTypesSupported": list(model.inference_types),
        "modelLifecycle": {"status": spec.lifecycle},
    }


def _encode_token(profile_type: str, sequence: int) -> str:
    raw = json.dumps({"type": profile_type, "after": sequence}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str, profile_type: str) -> int:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        after = decoded["after"]
        if decoded["type"] != profile_type or not isinstance(after, int):
            raise TypeError(after)
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError) as error:
        raise ValidationException("The provided nextToken is not valid.") from error
    return after


@dataclass
class _ParsedArn:
    region: str
    account: str
    resource_type: str
    resource_id: str


def _parse_arn(arn: str) -> _ParsedArn | None:
    match = _ARN_RE.fullmatch(arn)
    if match is None or "/" not in match["resource"]:
        return None
    resource_type, _, resource_id = match["resource"].partition("/")
    return _ParsedArn(match["region"], match["account"], resource_type, resource_id)


@dataclass
class _ResolvedProfile:
    application: ApplicationProfile | None = None
    system: catalog.SystemProfile | None = None


class EmbeddedBedrockBackend(bedrock_models.BedrockBackend, TaggableResourcesMixin):
    """moto's Bedrock backend plus inference profiles, the foundation-model catalogue and
    membership of the Resource Groups Tagging API."""

    SERVICE_NAMESPACE = "bedrock"

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self._init_profiles()

    def _init_profiles(self) -> None:
        self.application_profiles: dict[str, ApplicationProfile] = {}
        self.profiles_in_use: set[str] = set()
        self.client_tokens: dict[str, str] = {}  # clientRequestToken -> profile id
        self._sequence = 0
        # Requests of one region can arrive on several server threads at once.
        self._profiles_lock = threading.RLock()

    @property
    def _url_module(self) -> ModuleType:
        # BaseBackend derives the urls module from the class's module; ours lives elsewhere.
        return importlib.import_module("moto.bedrock.urls")

    # --- inference profiles ------------------------------------------------------------------

    def _new_profile_id(self) -> str:
        while True:
            candidate = "".join(mock_random.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))
            if candidate not in self.application_profiles:
                return candidate

    def _profile_arn(self, profile_id: str) -> str:
        prefix = f"arn:{self.partition}:bedrock:{self.region_name}:{self.account_id}"
        return f"{prefix}:application-inference-profile/{profile_id}"

    def _resolve_source(self, copy_from: str) -> tuple[str, ...]:
        """The model ARNs an application profile copied from ``copy_from`` routes to."""
        parsed = _parse_arn(copy_from)
        if parsed is None or parsed.region != self.region_name:
            raise ValidationException(_INVALID_SOURCE)
        if parsed.resource_type == "foundation-model":
            model = catalog.foundation_model(self.region_name, parsed.resource_id)
            if parsed.account or model is None:
                raise ValidationException(_INVALID_SOURCE)
            if catalog.ON_DEMAND not in model.inference_types:
                raise ValidationException(
                    f"The model {parsed.resource_id} doesn't support on-demand throughput in "
                    f"{self.region_name}. Copy from a system-defined inference profile that contains this model."
                )
            return (model.arn,)
        if parsed.resource_type == "inference-profile":
            system = catalog.system_profile(self.region_name, parsed.resource_id)
            if parsed.account != self.account_id or system is None:
                raise ValidationException(_INVALID_SOURCE)
            return system.model_arns
        raise ValidationException(_INVALID_SOURCE)

    def create_inference_profile(
        self,
        name: object,
        model_source: object,
        description: object = None,
        client_request_token: object = None,
        tags: object = None,
    ) -> ApplicationProfile:
        check = _Constraints()
        check.string("inferenceProfileName", name, min_len=1, max_len=64, pattern=NAME_PATTERN)
        if description is not None:
            check.string(
                "description", description, min_len=1, max_len=200, pattern=DESCRIPTION_PATTERN, sensitive=True
            )
        if client_request_token is not None:
            check.string("clientRequestToken", client_request_token, min_len=1, max_len=256, pattern=TOKEN_PATTERN)
        copy_from = model_source.get("copyFrom") if isinstance(model_source, Mapping) else None
        if copy_from is None:
            check.errors.append(
                "Value null at 'modelSource.copyFrom' failed to satisfy constraint: Member must not be null"
            )
        else:
            check.string("modelSource.copyFrom", copy_from, min_len=1, max_len=2048, pattern=SOURCE_ARN_PATTERN)
        pairs = _validate_tags(check, tags if tags is not None else [])
        check.raise_if_any()
        # Both were checked above; this tells the type checker (and fails loudly should that change).
        name = _checked_string(name, "inferenceProfileName")
        copy_from = _checked_string(copy_from, "modelSource.copyFrom")
        fingerprint = json.dumps([name, description, copy_from, sorted(pairs)])

        with self._profiles_lock:
            if isinstance(client_request_token, str) and client_request_token in self.client_tokens:
                earlier = self.application_profiles.get(self.client_tokens[client_request_token])
                if earlier is not None:
                    if earlier.fingerprint != fingerprint:
                        raise ConflictException(
                            "The clientRequestToken was already used for a different request. "
                            "Use a new token for a different request."
                        )
                    return earlier
            _tag_semantics(pairs)
            model_arns = self._resolve_source(copy_from)
            if any(profile.name == name for profile in self.application_profiles.values()):
                raise ConflictException(f"An inference profile with the name {name} already exists.")
            if len(self.application_profiles) >= PROFILE_QUOTA:
                raise ServiceQuotaExceededException(
                    f"You have reached the maximum of {PROFILE_QUOTA} application inference profiles "
                    f"in {self.region_name}. Delete unused profiles or request a quota increase."
                )
            if len(dict(pairs)) > MAX_TAGS_PER_RESOURCE:
                raise TooManyTagsException(
                    f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags.", resource_name=name
                )
            profile_id = self._new_profile_id()
            now = _now()
            self._sequence += 1
            profile = ApplicationProfile(
                profile_id=profile_id,
                name=name,
                description=description if isinstance(description, str) else None,
                arn=self._profile_arn(profile_id),
                model_arns=model_arns,
                created_at=now,
                updated_at=now,
                sequence=self._sequence,
                request_token=client_request_token if isinstance(client_request_token, str) else None,
                fingerprint=fingerprint,
            )
            self.application_profiles[profile_id] = profile
            if profile.request_token is not None:
                self.client_tokens[profile.request_token] = profile_id
            if pairs:
                # Only a non-empty tag set makes the profile "tagged" for the Tagging API.
                self.tagger.tag_resource(profile.arn, [{"Key": k, "Value": v} for k, v in pairs])
            return profile

    def _resolve_profile(self, identifier: object) -> _ResolvedProfile:
        check = _Constraints()
        check.string("inferenceProfileIdentifier", identifier, min_len=1, max_len=2048, pattern=IDENTIFIER_PATTERN)
        check.raise_if_any()
        identifier = _checked_string(identifier, "inferenceProfileIdentifier")
        not_found = ResourceNotFoundException(f"Inference profile {identifier} not found.")
        if identifier.startswith("arn:"):
            parsed = _parse_arn(identifier)
            if parsed is None or parsed.region != self.region_name or parsed.account != self.account_id:
                raise not_found
            if parsed.resource_type == "application-inference-profile":
                application = self.application_profiles.get(parsed.resource_id)
                if application is None or application.arn != identifier:
                    raise not_found
                return _ResolvedProfile(application=application)
            system = catalog.system_profile(self.region_name, parsed.resource_id)
            if system is None:
                raise not_found
            return _ResolvedProfile(system=system)
        application = self.application_profiles.get(identifier)
        if application is not None:
            return _ResolvedProfile(application=application)
        system = catalog.system_profile(self.region_name, identifier)
        if system is not None:
            return _ResolvedProfile(system=system)
        raise not_found

    def get_inference_profile(self, identifier: object) -> dict[str, Any]:
        resolved = self._resolve_profile(identifier)
        if resolved.application is not None:
            return resolved.application.summary()
        if resolved.system is None:  # _resolve_profile returns one of the two or raises
            raise ResourceNotFoundException(f"Inference profile {identifier} not found.")
        return _system_summary(resolved.system, self.region_name, self.account_id)

    def list_inference_profiles(
        self, type_equals: str | None, max_results: str | None, next_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        check = _Constraints()
        # Without a type AWS lists only system-defined profiles (aws-cli issue 9728).
        profile_type = type_equals if type_equals is not None else SYSTEM_DEFINED
        check.enum("typeEquals", profile_type, PROFILE_TYPES)
        page_size = DEFAULT_PAGE_SIZE
        if max_results is not None:
            try:
                page_size = int(max_results)
            except ValueError:
                check.add("maxResults", max_results, "Member must be an integer")
            else:
                if page_size < 1:
                    check.add("maxResults", page_size, "Member must have value greater than or equal to 1")
                if page_size > MAX_PAGE_SIZE:
                    check.add("maxResults", page_size, f"Member must have value less than or equal to {MAX_PAGE_SIZE}")
        check.raise_if_any()
        after = _decode_token(next_token, profile_type) if next_token else 0

        entries: list[tuple[int, dict[str, Any]]]
        with self._profiles_lock:
            if profile_type == APPLICATION:
                entries = [(p.sequence, p.summary()) for p in self.application_profiles.values()]
            else:
                entries = [
                    (index, _system_summary(p, self.region_name, self.account_id))
                    for index, p in enumerate(catalog.system_profiles(self.region_name), start=1)
                ]
        remaining = [entry for entry in entries if entry[0] > after]
        page = remaining[:page_size]
        token = _encode_token(profile_type, page[-1][0]) if len(remaining) > page_size else None
        return [summary for _, summary in page], token

    def delete_inference_profile(self, identifier: object) -> None:
        with self._profiles_lock:
            resolved = self._resolve_profile(identifier)
            profile = resolved.application
            if profile is None:
                raise ValidationException(
                    "System-defined inference profiles can't be deleted. Specify an application inference profile."
                )
            if profile.profile_id in self.profiles_in_use:
                raise ConflictException(
                    f"The inference profile {profile.profile_id} is in use and can't be deleted. "
                    "Remove the resources that use it and try again."
                )
            del self.application_profiles[profile.profile_id]
            self.tagger.delete_all_tags_for_resource(profile.arn)
            # A retry with the old token after the delete is a new request, not a replay.
            self.client_tokens = {t: pid for t, pid in self.client_tokens.items() if pid != profile.profile_id}

    def set_in_use(self, identifier: str, in_use: bool) -> None:
        with self._profiles_lock:
            resolved = self._resolve_profile(identifier)
            if resolved.application is None:
                raise ValueError("Only application inference profiles can be marked as in use")
            if in_use:
                self.profiles_in_use.add(resolved.application.profile_id)
            else:
                self.profiles_in_use.discard(resolved.application.profile_id)

    # --- foundation models -------------------------------------------------------------------

    def list_foundation_models(
        self,
        by_provider: str | None = None,
        by_customization_type: str | None = None,
        by_output_modality: str | None = None,
        by_inference_type: str | None = None,
    ) -> list[dict[str, Any]]:
        check = _Constraints()
        if by_provider is not None:
            check.string("byProvider", by_provider, min_len=1, max_len=63, pattern=PROVIDER_PATTERN)
        if by_customization_type is not None:
            check.enum("byCustomizationType", by_customization_type, CUSTOMIZATION_TYPES)
        if by_output_modality is not None:
            check.enum("byOutputModality", by_output_modality, OUTPUT_MODALITIES)
        if by_inference_type is not None:
            check.enum("byInferenceType", by_inference_type, INFERENCE_TYPES)
        check.raise_if_any()
        models = catalog.foundation_models(self.region_name)
        return [
            _model_summary(model)
            for model in models
            # Provider names match regardless of case ("anthropic" finds "Anthropic").
            if (by_provider is None or model.spec.provider.lower() == by_provider.lower())
            and (by_customization_type is None or by_customization_type in model.spec.customizations)
            and (by_output_modality is None or by_output_modality in model.spec.output_modalities)
            and (by_inference_type is None or by_inference_type in model.inference_types)
        ]

    def get_foundation_model(self, identifier: object) -> dict[str, Any]:
        check = _Constraints()
        check.string("modelIdentifier", identifier, min_len=1, max_len=2048, pattern=MODEL_IDENTIFIER_PATTERN)
        check.raise_if_any()
        identifier = _checked_string(identifier, "modelIdentifier")
        model_id, region = identifier, self.region_name
        parsed = _parse_arn(identifier) if identifier.startswith("arn:") else None
        if parsed is not None:
            model_id, region = parsed.resource_id, parsed.region
        model = catalog.foundation_model(self.region_name, model_id) if region == self.region_name else None
        if model is None:
            raise ValidationException("The provided model identifier is invalid.")
        return _model_summary(model)

    # --- tags --------------------------------------------------------------------------------

    def _tag_target(self, resource_arn: str) -> str:
        """Which kind of resource ``resource_arn`` names: application, system or other."""
        parsed = _parse_arn(resource_arn)
        if parsed is None:
            return "other"
        if parsed.resource_type == "application-inference-profile":
            return APPLICATION
        if parsed.resource_type == "inference-profile":
            return SYSTEM_DEFINED
        return "other"

    def _application_for_tags(self, resource_arn: str) -> ApplicationProfile:
        parsed = _parse_arn(resource_arn)
        profile = self.application_profiles.get(parsed.resource_id) if parsed else None
        if profile is None or profile.arn != resource_arn:
            raise ResourceNotFoundException(f"The resource {resource_arn} was not found.")
        return profile

    def tag_resource(self, resource_arn: str, tags: Any) -> None:
        # The Tagging API's TagResources passes a dict; Bedrock's TagResource a list of key/value.
        if isinstance(tags, Mapping):
            tags = [{"key": key, "value": value} for key, value in tags.items()]
        target = self._tag_target(resource_arn)
        if target == "other":
            super().tag_resource(resource_arn, tags)
            return
        if target == SYSTEM_DEFINED:
            raise ValidationException("System-defined inference profiles can't be tagged.")
        check = _Constraints()
        pairs = _validate_tags(check, tags)
        check.raise_if_any()
        _tag_semantics(pairs)
        with self._profiles_lock:
            profile = self._application_for_tags(resource_arn)
            current = self.tagger.get_tag_dict_for_resource(profile.arn)
            if len(current | dict(pairs)) > MAX_TAGS_PER_RESOURCE:
                raise TooManyTagsException(
                    f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags, including those it already has.",
                    resource_name=profile.arn,
                )
            if pairs:
                self.tagger.tag_resource(profile.arn, [{"Key": k, "Value": v} for k, v in pairs])

    def untag_resource(self, resource_arn: str, tag_keys: list[str]) -> None:
        target = self._tag_target(resource_arn)
        if target == "other":
            super().untag_resource(resource_arn, tag_keys)
            return
        if target == SYSTEM_DEFINED:
            raise ValidationException("System-defined inference profiles can't be tagged.")
        check = _Constraints()
        if not isinstance(tag_keys, list):
            check.errors.append("Value at 'tagKeys' failed to satisfy constraint: Member must be a list")
        else:
            if len(tag_keys) > MAX_TAGS_PER_REQUEST:
                check.add("tagKeys", "[...]", f"Member must have length less than or equal to {MAX_TAGS_PER_REQUEST}")
            for index, key in enumerate(tag_keys, start=1):
                check.string(f"tagKeys.{index}.member", key, min_len=1, max_len=128, pattern=TAG_PATTERN)
        check.raise_if_any()
        with self._profiles_lock:
            profile = self._application_for_tags(resource_arn)
            # The ARN stays known to the tagger with an empty tag set: "once tagged" for GetResources.
            self.tagger.untag_resource_using_names(profile.arn, tag_keys)

    def list_tags_for_resource(self, resource_arn: str) -> list[dict[str, str]]:
        target = self._tag_target(resource_arn)
        if target == "other":
            result: list[dict[str, str]] = super().list_tags_for_resource(resource_arn)
            return result
        if target == SYSTEM_DEFINED:
            self._resolve_profile(resource_arn)
            return []
        profile = self._application_for_tags(resource_arn)
        return [{"key": k, "value": v} for k, v in self.tagger.get_tag_dict_for_resource(profile.arn).items()]

    # --- Resource Groups Tagging API ---------------------------------------------------------

    def iter_tagged_resources(self) -> Iterator[TaggedResource]:
        with self._profiles_lock:
            arns = [p.arn for p in self.application_profiles.values()]
        arns += [job.job_arn for job in self.model_customization_jobs.values()]
        arns += [model.model_arn for model in self.custom_models.values()]
        for arn in arns:
            parsed = _parse_arn(arn)
            yield TaggedResource(
                arn=arn,
                tags=self.tagger.get_tag_dict_for_resource(arn),
                resource_type=f"bedrock:{parsed.resource_type if parsed else 'unknown'}",
                # The tagger keeps an ARN once it was tagged, even after its last tag went:
                # such a resource is listed with no tags; a never-tagged one is not listed.
                extra={"include_untagged": self.tagger.has_tags(arn)},
            )


# --- request handlers (attached to moto's BedrockResponse) -------------------------------------


def _backend(response: BedrockResponse) -> EmbeddedBedrockBackend:
    backend = response.bedrock_backend
    if not isinstance(backend, EmbeddedBedrockBackend):
        raise RuntimeError("embedded_aws.bedrock.install() was not called")
    return backend


def _body(response: BedrockResponse) -> dict[str, Any]:
    if not response.body:
        return {}
    try:
        body = json.loads(response.body)
    except ValueError as error:
        raise ValidationException("The request body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise ValidationException("The request body must be a JSON object.")
    return body


def _query(response: BedrockResponse, name: str) -> str | None:
    # BaseResponse.querystring falls back to the headers when the URL has no query: parse the URL.
    values = parse_qs(response.parsed_url.query, keep_blank_values=True).get(name)
    return values[0] if values else None


def _path_label(response: BedrockResponse, label: str, prefix: str) -> str:
    value = response.uri_match.get(label) if response.uri_match else None
    if value:
        return str(value)
    # Fallback when moto's router did not fill the label: everything after the prefix.
    return unquote(response.path.split(prefix, 1)[-1])


def _create_inference_profile(self: BedrockResponse) -> ActionResult:
    params = _body(self)
    profile = _backend(self).create_inference_profile(
        name=params.get("inferenceProfileName"),
        model_source=params.get("modelSource"),
        description=params.get("description"),
        client_request_token=params.get("clientRequestToken"),
        tags=params.get("tags"),
    )
    return ActionResult({"inferenceProfileArn": profile.arn, "status": "ACTIVE"})


def _get_inference_profile(self: BedrockResponse) -> ActionResult:
    identifier = _path_label(self, "inferenceProfileIdentifier", "/inference-profiles/")
    return ActionResult(_backend(self).get_inference_profile(identifier))


def _list_inference_profiles(self: BedrockResponse) -> ActionResult:
    summaries, next_token = _backend(self).list_inference_profiles(
        type_equals=_query(self, "type"),
        max_results=_query(self, "maxResults"),
        next_token=_query(self, "nextToken"),
    )
    result: dict[str, Any] = {"inferenceProfileSummaries": summaries}
    if next_token:
        result["nextToken"] = next_token
    return ActionResult(result)


def _delete_inference_profile(self: BedrockResponse) -> ActionResult:
    identifier = _path_label(self, "inferenceProfileIdentifier", "/inference-profiles/")
    _backend(self).delete_inference_profile(identifier)
    return ActionResult({})


def _list_foundation_models(self: BedrockResponse) -> ActionResult:
    summaries = _backend(self).list_foundation_models(
        by_provider=_query(self, "byProvider"),
        by_customization_type=_query(self, "byCustomizationType"),
        by_output_modality=_query(self, "byOutputModality"),
        by_inference_type=_query(self, "byInferenceType"),
    )
    return ActionResult({"modelSummaries": summaries})


def _get_foundation_model(self: BedrockResponse) -> ActionResult:
    identifier = _path_label(self, "modelIdentifier", "/foundation-models/")
    return ActionResult({"modelDetails": _backend(self).get_foundation_model(identifier)})


_HANDLERS: Final = {
    "create_inference_profile": _create_inference_profile,
    "get_inference_profile": _get_inference_profile,
    "list_inference_profiles": _list_inference_profiles,
    "delete_inference_profile": _delete_inference_profile,
    "list_foundation_models": _list_foundation_models,
    "get_foundation_model": _get_foundation_model,
}


# --- installation and test hooks ---------------------------------------------------------------

_install_lock = threading.Lock()


def install() -> None:
    """Install the extension into moto. Idempotent; call before mock_aws() or a server starts."""
    with _install_lock:
        # moto finds a handler by the operation's snake_case name on the response class.
        for action, handler in _HANDLERS.items():
            setattr(BedrockResponse, action, handler)
        backends = bedrock_models.bedrock_backends
        if backends.backend is EmbeddedBedrockBackend:
            return
        backends.backend = EmbeddedBedrockBackend
        # Account dictionaries created before install() keep their own class reference, and
        # backends created before it are upgraded in place (mock_aws() resets them anyway).
        for account_backends in backends.values():
            account_backends.backend = EmbeddedBedrockBackend
            for backend in account_backends.values():
                if not isinstance(backend, EmbeddedBedrockBackend):
                    backend.__class__ = EmbeddedBedrockBackend
                    cast(EmbeddedBedrockBackend, backend)._init_profiles()


def backend_for(account_id: str, region: str) -> EmbeddedBedrockBackend:
    """The extended Bedrock backend of one account and region (the same one HTTP requests use)."""
    install()
    backend = bedrock_models.bedrock_backends[account_id][region]
    if not isinstance(backend, EmbeddedBedrockBackend):
        raise RuntimeError(f"the Bedrock backend of {account_id}/{region} is moto's own, not the embedded one")
    return backend


def set_profile_in_use(account_id: str, region: str, profile_id_or_arn: str, in_use: bool = True) -> None:
    """Mark an application profile as in use (or no longer in use).

    While a profile is in use, ``delete_inference_profile`` raises ``ConflictException``, as AWS
    does for a profile that other resources still reference. Works in-process and for a server
    started with :mod:`embedded_aws.server`, which shares this process's state. Raises
    ``ResourceNotFoundException`` for an unknown profile and ``ValueError`` for a system one.
    """
    backend_for(account_id, region).set_in_use(profile_id_or_arn, in_use)


def set_profile_created_at(account_id: str, region: str, profile_id_or_arn: str, created_at: datetime) -> None:
    """Move an application profile's ``createdAt`` (and ``updatedAt`` if it would come first).

    AWS never changes ``createdAt``; tests use this to have profiles older than the real clock
    allows, e.g. for age-based rules. ``created_at`` must be timezone-aware. Raises
    ``ResourceNotFoundException`` for an unknown profile and ``ValueError`` for a system one.
    """
    if created_at.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    backend = backend_for(account_id, region)
    with backend._profiles_lock:
        profile = backend._resolve_profile(profile_id_or_arn).application
        if profile is None:
            raise ValueError("Only application inference profiles have a createdAt that can be moved")
        profile.created_at = created_at.astimezone(UTC)
        profile.updated_at = max(profile.updated_at, profile.created_at)
