"""Configuration: frozen dataclasses built ``from_env()``, failing at start with the setting's name.

Each function's settings come from environment variables that template.yaml sets from the stack
parameters; the command line builds the same dataclasses from its flags.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from bedrock_governance.errors import ConfigError
from bedrock_governance.tag_policy import TagPolicy

TAG_KEY_PATTERN: Final = re.compile(r"^[a-zA-Z0-9\s._:/=+@-]{1,128}$")
TAG_VALUE_PATTERN: Final = re.compile(r"^[a-zA-Z0-9\s._:/=+@-]{0,256}$")
REGION_PATTERN: Final = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
TOPIC_ARN_PATTERN: Final = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
BUCKET_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

DEFAULT_REQUIRED_TAG_KEYS: Final = ("Project", "Environment", "CostCenter", "Owner")


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def require(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(name, "is required but not set")
    return value


def parse_list(value: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped (CloudFormation joins an empty list to '')."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


def parse_tag_keys(value: str, setting: str) -> tuple[str, ...]:
    keys = parse_list(value)
    if not keys:
        raise ConfigError(setting, "must name at least one tag key")
    for key in keys:
        if not TAG_KEY_PATTERN.match(key):
            raise ConfigError(setting, f"{key!r} is not a valid tag key (1-128 of letters, digits, spaces, ._:/=+@-)")
    if len(set(keys)) != len(keys):
        raise ConfigError(setting, "lists a tag key twice")
    return keys


def parse_allowed_values(value: str, setting: str) -> Mapping[str, tuple[str, ...]]:
    """A JSON object of tag key -> list of allowed values ('' or '{}' means no restriction)."""
    if not value.strip():
        return {}
    try:
        document = json.loads(value)
    except json.JSONDecodeError as error:
        raise ConfigError(setting, f"is not valid JSON ({error.msg} at position {error.pos})") from error
    if not isinstance(document, dict):
        raise ConfigError(setting, 'must be a JSON object such as {"Environment": ["dev", "prod"]}')
    allowed: dict[str, tuple[str, ...]] = {}
    for key, values in document.items():
        if not TAG_KEY_PATTERN.match(key):
            raise ConfigError(setting, f"{key!r} is not a valid tag key")
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            raise ConfigError(setting, f"the value for {key!r} must be a non-empty list of strings")
        for item in values:
            if not item.strip() or not TAG_VALUE_PATTERN.match(item):
                raise ConfigError(setting, f"{item!r} (for {key!r}) is not a valid tag value")
        allowed[key] = tuple(values)
    return allowed


def parse_regions(value: str, setting: str, default_region: str | None) -> tuple[str, ...]:
    """Governed regions; an empty list means the deployment's own region."""
    regions = parse_list(value)
    if not regions:
        if not default_region:
            raise ConfigError(setting, "is empty and no default region (AWS_REGION) is set")
        regions = (default_region,)
    for region in regions:
        if not REGION_PATTERN.match(region):
            raise ConfigError(setting, f"{region!r} is not an AWS region name such as eu-central-1")
    return tuple(dict.fromkeys(regions))


def parse_topic_arn(value: str, setting: str) -> str:
    if not TOPIC_ARN_PATTERN.match(value):
        raise ConfigError(setting, f"{value!r} is not an SNS topic ARN")
    return value


def parse_bucket(value: str, setting: str) -> str:
    if not BUCKET_PATTERN.match(value):
        raise ConfigError(setting, f"{value!r} is not an S3 bucket name")
    return value


def parse_bool(value: str, setting: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"true", "yes", "1"}:
        return True
    if lowered in {"false", "no", "0"}:
        return False
    raise ConfigError(setting, f"{value!r} is not true or false")


def parse_int(value: str, setting: str, *, minimum: int, maximum: int | None = None) -> int:
    try:
        number = int(value.strip())
    except ValueError as error:
        raise ConfigError(setting, f"{value!r} is not a whole number") from error
    if number < minimum or (maximum is not None and number > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise ConfigError(setting, f"must be at least {minimum}{upper}, got {number}")
    return number


def tag_policy_from_env(env: Mapping[str, str]) -> TagPolicy:
    keys_value = env.get("REQUIRED_TAG_KEYS")
    required = DEFAULT_REQUIRED_TAG_KEYS if keys_value is None else parse_tag_keys(keys_value, "REQUIRED_TAG_KEYS")
    allowed = parse_allowed_values(env.get("ALLOWED_TAG_VALUES", ""), "ALLOWED_TAG_VALUES")
    return TagPolicy(required_keys=required, allowed_values=allowed)


def regions_from_env(env: Mapping[str, str]) -> tuple[str, ...]:
    default_region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    return parse_regions(env.get("GOVERNED_REGIONS", ""), "GOVERNED_REGIONS", default_region)


@dataclass(frozen=True)
class TagComplianceConfig:
    """Settings of the tag-compliance sweep."""

    policy: TagPolicy
    regions: tuple[str, ...]
    alert_topic_arn: str
    state_bucket: str | None
    digest_interval: timedelta = timedelta(days=7)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TagComplianceConfig:
        values = _env(env)
        bucket = values.get("STATE_BUCKET", "").strip()
        return cls(
            policy=tag_policy_from_env(values),
            regions=regions_from_env(values),
            alert_topic_arn=parse_topic_arn(require(values, "ALERT_TOPIC_ARN"), "ALERT_TOPIC_ARN"),
            state_bucket=parse_bucket(bucket, "STATE_BUCKET") if bucket else None,
            digest_interval=timedelta(
                days=parse_int(values.get("ALERT_DIGEST_DAYS", "7"), "ALERT_DIGEST_DAYS", minimum=1, maximum=90)
            ),
        )
