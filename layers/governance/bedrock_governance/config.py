"""Configuration: frozen dataclasses built ``from_env()``, failing at start with the setting's name.

Each function's settings come from environment variables that template.yaml sets from the stack
parameters; the command line builds the same dataclasses from its flags.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bedrock_governance.budget_policy import (
    MAX_NOTIFICATIONS,
    PROJECT_TAG_KEY,
    BudgetTargets,
    NotificationSpec,
    Subscriber,
)
from bedrock_governance.errors import ConfigError
from bedrock_governance.tag_policy import TagPolicy

# AWS's tag character set is letters, digits and spaces in any script plus _.:/=+-@ (Bedrock's own
# API model lists only ASCII letters): settings accept the wider set, so a value that AWS holds is
# never refused at start. \w is Unicode letters, digits and _ in Python.
TAG_KEY_PATTERN: Final = re.compile(r"^[\w\s.:/=+@-]{1,128}$")
TAG_VALUE_PATTERN: Final = re.compile(r"^[\w\s.:/=+@-]{0,256}$")
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


def tag_policy_from_env(env: Mapping[str, str]) -> TagPolicy:
    keys_value = env.get("REQUIRED_TAG_KEYS")
    required = DEFAULT_REQUIRED_TAG_KEYS if keys_value is None else parse_tag_keys(keys_value, "REQUIRED_TAG_KEYS")
    allowed = parse_allowed_values(env.get("ALLOWED_TAG_VALUES", ""), "ALLOWED_TAG_VALUES")
    return TagPolicy(required_keys=required, allowed_values=allowed)


def regions_from_env(env: Mapping[str, str]) -> tuple[str, ...]:
    default_setting = "AWS_REGION" if env.get("AWS_REGION") else "AWS_DEFAULT_REGION"
    default_region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    return parse_regions(env.get("GOVERNED_REGIONS", ""), "GOVERNED_REGIONS", default_region, default_setting)


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


BUDGET_THRESHOLD_PATTERN: Final = re.compile(r"^(ACTUAL|FORECASTED):(\d{1,7}(?:\.\d{1,2})?)$")
STACK_NAME_PATTERN: Final = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
ACCOUNT_ID_PATTERN: Final = re.compile(r"^\d{12}$")
EMAIL_PATTERN: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# AWS Budgets takes amounts up to 15 trillion; a monthly Bedrock budget far below that.
MAX_BUDGET_USD: Final = Decimal(1_000_000_000)


def parse_usd(value: object, setting: str, what: str = "amount") -> Decimal:
    """A positive dollar amount with at most two decimals (a JSON number or a numeric string)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str | float):
        raise ConfigError(setting, f"the {what} {json.dumps(value, default=str)} is not a number")
    # As the user wrote it (a JSON number arrives as a Decimal): never a Python repr such as Decimal('1E+12').
    shown = repr(value) if isinstance(value, str) else str(value)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ConfigError(setting, f"the {what} {shown} is not a number") from error
    if not amount.is_finite() or amount <= 0 or amount > MAX_BUDGET_USD:
        raise ConfigError(setting, f"the {what} {shown} must be more than 0 and at most {MAX_BUDGET_USD:,} USD")
    if amount != amount.quantize(Decimal("0.01")):
        raise ConfigError(setting, f"the {what} {shown} has more than two decimals")
    return amount


def parse_project_budgets(value: str, setting: str) -> dict[str, Decimal]:
    """A JSON object of project (the Project tag value, exact) -> monthly USD; '' or '{}' is none."""
    if not value.strip():
        return {}

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            raise ConfigError(setting, f"names project {twice[0]!r} twice")
        return dict(pairs)

    try:
        document = json.loads(value, parse_float=Decimal, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as error:
        raise ConfigError(setting, f"is not valid JSON ({error.msg} at position {error.pos})") from error
    if not isinstance(document, dict):
        raise ConfigError(setting, 'must be a JSON object such as {"ProjectA": 250, "ProjectB": 50}')
    budgets: dict[str, Decimal] = {}
    for project, amount in document.items():
        if not project.strip() or not TAG_VALUE_PATTERN.match(project):
            raise ConfigError(setting, f"{project!r} is not a valid {PROJECT_TAG_KEY} tag value")
        budgets[project] = parse_usd(amount, setting, f"budget of {project!r}")
    return budgets


def parse_budget_thresholds(value: str, setting: str) -> tuple[NotificationSpec, ...]:
    """``ACTUAL:80,ACTUAL:100,FORECASTED:100``: percent of the limit, actual or forecasted spend."""
    items = parse_list(value)
    if not items:
        raise ConfigError(setting, "must name at least one threshold such as ACTUAL:80")
    if len(items) > MAX_NOTIFICATIONS:
        raise ConfigError(setting, f"names {len(items)} thresholds; a budget takes at most {MAX_NOTIFICATIONS}")
    specs: list[NotificationSpec] = []
    for item in items:
        match = BUDGET_THRESHOLD_PATTERN.match(item.replace(" ", "").upper())
        if not match:
            raise ConfigError(setting, f"{item!r} is not TYPE:PERCENT with TYPE ACTUAL or FORECASTED, e.g. ACTUAL:80")
        threshold = Decimal(match.group(2))
        if threshold <= 0:
            raise ConfigError(setting, f"{item!r}: the percentage must be more than 0")
        spec = NotificationSpec(match.group(1), threshold)
        if spec in specs:
            raise ConfigError(setting, f"names {spec.key} twice")
        specs.append(spec)
    return tuple(specs)


@dataclass(frozen=True)
class BudgetConfig:
    """Settings of the budget reconciler."""

    regions: tuple[str, ...]
    alert_topic_arn: str
    alert_email: str | None
    default_limit: Decimal
    project_limits: Mapping[str, Decimal]
    thresholds: tuple[NotificationSpec, ...]
    cleanup: bool
    activate_cost_allocation_tags: bool
    cost_allocation_tag_keys: tuple[str, ...]
    state_bucket: str | None
    managed_by: str
    account_id: str
    partition: str

    @property
    def subscribers(self) -> tuple[Subscriber, ...]:
        """Budget notifications go to the alert topic, and straight to AlertEmail when it is set."""
        email = (Subscriber("EMAIL", self.alert_email),) if self.alert_email else ()
        return (Subscriber("SNS", self.alert_topic_arn), *email)

    def targets(self) -> BudgetTargets:
        return BudgetTargets(
            default_limit=self.default_limit,
            project_limits=self.project_limits,
            thresholds=self.thresholds,
            subscribers=self.subscribers,
            managed_by=self.managed_by,
            cleanup=self.cleanup,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BudgetConfig:
        values = _env(env)
        topic = parse_topic_arn(require(values, "ALERT_TOPIC_ARN"), "ALERT_TOPIC_ARN")
        bucket = values.get("STATE_BUCKET", "").strip()
        email = values.get("ALERT_EMAIL", "").strip()
        if email and not EMAIL_PATTERN.match(email):
            raise ConfigError("ALERT_EMAIL", f"{email!r} is not an e-mail address")
        # The topic is this account's: its ARN names the account and partition when ACCOUNT_ID is unset.
        account = values.get("ACCOUNT_ID", "").strip() or topic.split(":")[4]
        if not ACCOUNT_ID_PATTERN.match(account):
            raise ConfigError("ACCOUNT_ID", f"{account!r} is not a 12-digit AWS account id")
        managed_by = values.get("STACK_NAME", "").strip() or "bedrock-governance"
        if not STACK_NAME_PATTERN.match(managed_by):
            raise ConfigError("STACK_NAME", f"{managed_by!r} is not a CloudFormation stack name")
        policy = tag_policy_from_env(values)
        return cls(
            regions=regions_from_env(values),
            alert_topic_arn=topic,
            alert_email=email or None,
            default_limit=parse_usd(
                values.get("DEFAULT_MONTHLY_BUDGET_USD", "100"), "DEFAULT_MONTHLY_BUDGET_USD", "default budget"
            ),
            project_limits=parse_project_budgets(values.get("PROJECT_BUDGETS_USD", ""), "PROJECT_BUDGETS_USD"),
            thresholds=parse_budget_thresholds(
                values.get("BUDGET_ALERT_THRESHOLDS", "ACTUAL:80,ACTUAL:100,FORECASTED:100"), "BUDGET_ALERT_THRESHOLDS"
            ),
            cleanup=parse_bool(values.get("BUDGET_CLEANUP", "false"), "BUDGET_CLEANUP"),
            activate_cost_allocation_tags=parse_bool(
                values.get("ACTIVATE_COST_ALLOCATION_TAGS", "false"), "ACTIVATE_COST_ALLOCATION_TAGS"
            ),
            # Budgets filter on Project whether or not the tag policy requires it.
            cost_allocation_tag_keys=tuple(dict.fromkeys((PROJECT_TAG_KEY, *policy.required_keys))),
            state_bucket=parse_bucket(bucket, "STATE_BUCKET") if bucket else None,
            managed_by=managed_by,
            account_id=account,
            partition=topic.split(":")[1],
        )


# Bounds of the idle-profile settings. IDLE_DAYS_MAX equals idle.USAGE_HISTORY_DAYS (how far back
# usage is read); a unit test keeps the two in step.
IDLE_DAYS_MAX: Final = 180
IDLE_GRACE_DAYS_MAX: Final = 365
MAX_DELETIONS_PER_RUN_MAX: Final = 1000
# The circuit breaker's default share (see idle.hold_mass_misreads and the README's safety section).
DEFAULT_MAX_NEWLY_IDLE_PERCENT: Final = 50


@dataclass(frozen=True)
class IdleConfig:
    """Settings of the idle-profile sweep. Deletion is off (dry run) unless CLEANUP_DRY_RUN=false."""

    regions: tuple[str, ...]
    alert_topic_arn: str
    records_bucket: str
    idle_days: int = 30
    grace_days: int = 14
    cleanup_dry_run: bool = True
    max_deletions_per_run: int = 10
    max_newly_idle_percent: int = DEFAULT_MAX_NEWLY_IDLE_PERCENT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IdleConfig:
        values = _env(env)
        return cls(
            regions=regions_from_env(values),
            alert_topic_arn=parse_topic_arn(require(values, "ALERT_TOPIC_ARN"), "ALERT_TOPIC_ARN"),
            records_bucket=parse_bucket(require(values, "GOVERNANCE_BUCKET"), "GOVERNANCE_BUCKET"),
            idle_days=parse_int(values.get("IDLE_DAYS", "30"), "IDLE_DAYS", minimum=1, maximum=IDLE_DAYS_MAX),
            grace_days=parse_int(
                values.get("IDLE_GRACE_DAYS", "14"), "IDLE_GRACE_DAYS", minimum=1, maximum=IDLE_GRACE_DAYS_MAX
            ),
            # Unset means a dry run; a malformed value fails at start instead of being guessed.
            cleanup_dry_run=parse_bool(values.get("CLEANUP_DRY_RUN", "true"), "CLEANUP_DRY_RUN"),
            max_deletions_per_run=parse_int(
                values.get("MAX_DELETIONS_PER_RUN", "10"),
                "MAX_DELETIONS_PER_RUN",
                minimum=0,
                maximum=MAX_DELETIONS_PER_RUN_MAX,
            ),
            max_newly_idle_percent=parse_int(
                values.get("MAX_NEWLY_IDLE_PERCENT", str(DEFAULT_MAX_NEWLY_IDLE_PERCENT)),
                "MAX_NEWLY_IDLE_PERCENT",
                minimum=1,
                maximum=100,
            ),
        )


REPORT_PREFIX_PATTERN: Final = re.compile(r"^[A-Za-z0-9!_.*'()/-]{1,200}/$")


def parse_timezone(value: str, setting: str) -> tzinfo:
    """An IANA time zone such as Europe/Berlin (what EventBridge Scheduler takes)."""
    name = value.strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        if name in {"UTC", "Etc/UTC"}:
            return UTC  # the default needs no time zone database
        raise ConfigError(setting, f"{value!r} is not an IANA time zone name such as Europe/Berlin") from error


@dataclass(frozen=True)
class CostReportConfig:
    """Settings of the weekly cost report."""

    report_topic_arn: str
    alert_topic_arn: str
    tag_key: str
    required_tag_keys: tuple[str, ...]
    timezone: tzinfo
    timezone_name: str
    report_bucket: str | None
    report_prefix: str
    top_projects: int
    account_id: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CostReportConfig:
        values = _env(env)
        report_topic = parse_topic_arn(require(values, "REPORT_TOPIC_ARN"), "REPORT_TOPIC_ARN")
        bucket = values.get("REPORT_BUCKET", "").strip()
        prefix = values.get("REPORT_PREFIX", "bedrock-cost-reports/").strip().lstrip("/")
        if not REPORT_PREFIX_PATTERN.match(prefix):
            raise ConfigError("REPORT_PREFIX", f"{prefix!r} must be an S3 key prefix ending in '/'")
        tag_key = values.get("COST_REPORT_TAG_KEY", "Project").strip()
        if not TAG_KEY_PATTERN.match(tag_key):
            raise ConfigError("COST_REPORT_TAG_KEY", f"{tag_key!r} is not a valid tag key (one key, case-sensitive)")
        zone_name = values.get("SCHEDULE_TIMEZONE", "").strip() or "UTC"
        keys_value = values.get("REQUIRED_TAG_KEYS")
        required: tuple[str, ...] = DEFAULT_REQUIRED_TAG_KEYS
        if keys_value is not None:
            required = parse_tag_keys(keys_value, "REQUIRED_TAG_KEYS") if parse_list(keys_value) else ()
        return cls(
            report_topic_arn=report_topic,
            alert_topic_arn=parse_topic_arn(require(values, "ALERT_TOPIC_ARN"), "ALERT_TOPIC_ARN"),
            tag_key=tag_key,
            # Checked for activation as cost allocation tags, next to the grouping key.
            required_tag_keys=required,
            timezone=parse_timezone(zone_name, "SCHEDULE_TIMEZONE"),
            timezone_name=zone_name,
            report_bucket=parse_bucket(bucket, "REPORT_BUCKET") if bucket else None,
            report_prefix=prefix,
            top_projects=parse_int(
                values.get("COST_REPORT_TOP_PROJECTS", "25"), "COST_REPORT_TOP_PROJECTS", minimum=1, maximum=1000
            ),
            # The topics are this account's: the ARN names the account whose budgets are read.
            account_id=report_topic.split(":")[4],
        )
