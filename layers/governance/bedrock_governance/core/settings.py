"""What every job's settings are made of: environment parsing that fails at start with the setting's name.

Each job's own settings (``tags.config``, ``idle.config``, ``cost.config``, ``budgets.config``) are
frozen dataclasses built ``from_env()`` from these helpers; the environment variables come from
template.yaml's stack parameters, and the command line builds the same dataclasses from its flags.
Named "settings" rather than "config" so that a job's ``config`` module is the only one of that name.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from typing import Final

from bedrock_governance.core.errors import ConfigError

# AWS's tag character set is letters, digits and spaces in any script plus _.:/=+-@ (Bedrock's own
# API model lists only ASCII letters): settings accept the wider set, so a value that AWS holds is
# never refused at start. \w is Unicode letters, digits and _ in Python.
TAG_KEY_PATTERN: Final = re.compile(r"^[\w\s.:/=+@-]{1,128}$")
TAG_VALUE_PATTERN: Final = re.compile(r"^[\w\s.:/=+@-]{0,256}$")
REGION_PATTERN: Final = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
TOPIC_ARN_PATTERN: Final = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
BUCKET_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

DEFAULT_REQUIRED_TAG_KEYS: Final = ("Project", "Environment", "CostCenter", "Owner")


def environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
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


class UnknownRegion(ConfigError):
    """A well-formed region name that is not one of Bedrock's regions (a typo, usually)."""

    def __init__(self, setting: str, region: str, known: tuple[str, ...]) -> None:
        self.region = region
        self.known = known
        what = f"unknown region {region!r}"
        if not REGION_PATTERN.match(region):
            what = f"{region!r} is not an AWS region name such as eu-central-1"
        super().__init__(setting, f"{what} (Bedrock is offered in: {', '.join(known)})")


@functools.cache
def bedrock_regions() -> tuple[str, ...]:
    """Bedrock's regions in every partition, from botocore's bundled endpoint data (no network,
    no client). Loaded on first use; a region newer than the installed botocore needs an upgrade."""
    import boto3.session  # noqa: PLC0415 - only a region check needs botocore's data

    session = boto3.session.Session()
    regions = {
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("bedrock", partition_name=partition)
    }
    return tuple(sorted(regions))


def check_region(region: str, setting: str) -> str:
    """``region`` if it is a Bedrock region, else a :class:`ConfigError` naming ``setting`` (where it came from).

    The one region check: flags, AWS_REGION / AWS_DEFAULT_REGION, GOVERNED_REGIONS and records all use it.
    """
    known = bedrock_regions()
    if region not in known:
        raise UnknownRegion(setting, region, known)
    return region


def parse_regions(
    value: str, setting: str, default_region: str | None, default_setting: str = "AWS_REGION"
) -> tuple[str, ...]:
    """Governed regions; an empty list means the deployment's own region (``default_setting``)."""
    regions = parse_list(value)
    if not regions:
        if not default_region:
            raise ConfigError(setting, "is empty and no default region (AWS_REGION) is set")
        return (check_region(default_region.strip(), default_setting),)
    for region in regions:
        check_region(region, setting)
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


def required_tag_keys_from_env(env: Mapping[str, str]) -> tuple[str, ...]:
    """REQUIRED_TAG_KEYS, or the default four when it is unset (the tag policy and the budgets' cost tags)."""
    keys_value = env.get("REQUIRED_TAG_KEYS")
    return DEFAULT_REQUIRED_TAG_KEYS if keys_value is None else parse_tag_keys(keys_value, "REQUIRED_TAG_KEYS")


def regions_from_env(env: Mapping[str, str]) -> tuple[str, ...]:
    default_setting = "AWS_REGION" if env.get("AWS_REGION") else "AWS_DEFAULT_REGION"
    default_region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    return parse_regions(env.get("GOVERNED_REGIONS", ""), "GOVERNED_REGIONS", default_region, default_setting)
