"""Settings of the tag-compliance sweep, built ``from_env()`` (or from the command line's flags)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bedrock_governance.core.settings import (
    environ,
    parse_allowed_values,
    parse_bucket,
    parse_int,
    parse_topic_arn,
    regions_from_env,
    require,
    required_tag_keys_from_env,
)
from bedrock_governance.tags.policy import TagPolicy


def tag_policy_from_env(env: Mapping[str, str]) -> TagPolicy:
    required = required_tag_keys_from_env(env)
    allowed = parse_allowed_values(env.get("ALLOWED_TAG_VALUES", ""), "ALLOWED_TAG_VALUES")
    return TagPolicy(required_keys=required, allowed_values=allowed)


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
        values = environ(env)
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
