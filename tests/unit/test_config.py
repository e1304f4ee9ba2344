from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bedrock_governance.core.errors import ConfigError
from bedrock_governance.core.events import run_time
from bedrock_governance.tags.config import TagComplianceConfig

TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
BASE = {"ALERT_TOPIC_ARN": TOPIC, "AWS_REGION": "eu-central-1"}


def test_defaults_use_the_standard_keys_and_the_own_region() -> None:
    config = TagComplianceConfig.from_env(BASE)
    assert config.policy.required_keys == ("Project", "Environment", "CostCenter", "Owner")
    assert config.regions == ("eu-central-1",)
    assert config.state_bucket is None


def test_lists_and_json_are_parsed() -> None:
    config = TagComplianceConfig.from_env(
        BASE
        | {
            "REQUIRED_TAG_KEYS": "Project, Team",
            "ALLOWED_TAG_VALUES": '{"Team": ["a", "b"]}',
            "GOVERNED_REGIONS": "us-east-1,eu-west-1,us-east-1",
            "STATE_BUCKET": "my-bucket",
        }
    )
    assert config.policy.required_keys == ("Project", "Team")
    assert config.policy.allowed_values == {"Team": ("a", "b")}
    assert config.regions == ("us-east-1", "eu-west-1")


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("ALLOWED_TAG_VALUES", "{not json", "not valid JSON"),
        ("ALLOWED_TAG_VALUES", '["a"]', "must be a JSON object"),
        ("ALLOWED_TAG_VALUES", '{"Env": "prod"}', "non-empty list of strings"),
        ("ALLOWED_TAG_VALUES", '{"Env": []}', "non-empty list of strings"),
        ("ALLOWED_TAG_VALUES", '{"Env": ["ok", "bad,comma"]}', "not a valid tag value"),
        ("GOVERNED_REGIONS", "us-east-1,Frankfurt", "not an AWS region"),
        ("REQUIRED_TAG_KEYS", " , ", "at least one tag key"),
        ("REQUIRED_TAG_KEYS", "Project,Project", "twice"),
        ("ALERT_TOPIC_ARN", "alerts", "not an SNS topic ARN"),
        ("STATE_BUCKET", "Bad_Bucket", "not an S3 bucket name"),
        ("ALERT_DIGEST_DAYS", "0", "at least 1"),
    ],
)
def test_malformed_settings_fail_naming_the_setting(setting: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        TagComplianceConfig.from_env(BASE | {setting: value})
    assert caught.value.setting == setting
    assert setting in str(caught.value)
    assert expected in str(caught.value)


def test_missing_topic_and_region_are_named() -> None:
    with pytest.raises(ConfigError, match="ALERT_TOPIC_ARN"):
        TagComplianceConfig.from_env({"AWS_REGION": "us-east-1"})
    with pytest.raises(ConfigError, match="GOVERNED_REGIONS"):
        TagComplianceConfig.from_env({"ALERT_TOPIC_ARN": TOPIC})


def test_run_time_prefers_the_scheduled_time() -> None:
    real = datetime(2026, 11, 26, 7, 1, tzinfo=UTC)
    assert run_time({"scheduledTime": "2026-11-26T07:00:00Z"}, real).decision == datetime(2026, 11, 26, 7, tzinfo=UTC)
    assert run_time({"time": "2026-11-23T08:00:00Z"}, real).decision == datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert run_time({"scheduledTime": "<aws.scheduler.scheduled-time>"}, real).decision == real
    assert run_time({}, real).decision == real
