"""Settings of the weekly cost report, built ``from_env()`` (or from the command line's flags)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bedrock_governance.core.arn import parse_arn
from bedrock_governance.core.errors import ConfigError
from bedrock_governance.core.settings import (
    DEFAULT_REQUIRED_TAG_KEYS,
    TAG_KEY_PATTERN,
    environ,
    parse_bucket,
    parse_int,
    parse_list,
    parse_tag_keys,
    parse_topic_arn,
    require,
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
        values = environ(env)
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
            account_id=parse_arn(report_topic).account,
        )
