"""Every setting of every function: a malformed value fails at start with a ConfigError naming it.

The settings are the environment variables template.yaml gives each function (POWERTOOLS_* aside);
a meta-test keeps this table complete, so a new setting cannot arrive without its malformed case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from bedrock_governance.budgets.config import BudgetConfig
from bedrock_governance.core.errors import ConfigError
from bedrock_governance.cost.config import CostReportConfig
from bedrock_governance.idle.config import IdleConfig
from bedrock_governance.org.config import OrganizationConfig
from bedrock_governance.org.steps import WorkerConfig
from bedrock_governance.tags.config import TagComplianceConfig

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
TOPIC = "arn:aws:sns:us-east-1:123456789012:bedrock-governance-AlertTopic-ABC"
REPORT_TOPIC = "arn:aws:sns:us-east-1:123456789012:bedrock-governance-ReportTopic-DEF"

# What the stack gives each function (values as CloudFormation writes them), plus the runtime's region.
VALID: dict[str, dict[str, str]] = {
    "TagComplianceFunction": {
        "REQUIRED_TAG_KEYS": "Project,Environment,CostCenter,Owner",
        "ALLOWED_TAG_VALUES": '{"Environment": ["dev", "prod"]}',
        "GOVERNED_REGIONS": "us-east-1,eu-central-1",
        "ALERT_TOPIC_ARN": TOPIC,
        "STATE_BUCKET": "bedrock-governance-governancebucket-1abc",
        "ALERT_DIGEST_DAYS": "7",
        "GOVERNANCE_SCOPE": "ACCOUNT",
    },
    "IdleProfileFunction": {
        "GOVERNED_REGIONS": "us-east-1",
        "ALERT_TOPIC_ARN": TOPIC,
        "GOVERNANCE_BUCKET": "bedrock-governance-governancebucket-1abc",
        "IDLE_DAYS": "30",
        "IDLE_GRACE_DAYS": "14",
        "CLEANUP_DRY_RUN": "true",
        "MAX_DELETIONS_PER_RUN": "10",
        "MAX_NEWLY_IDLE_PERCENT": "50",
        "GOVERNANCE_SCOPE": "ORGANIZATION",
        "MEMBER_ROLE_NAME": "BedrockGovernanceMember",
    },
    "CostReportFunction": {
        "REPORT_TOPIC_ARN": REPORT_TOPIC,
        "ALERT_TOPIC_ARN": TOPIC,
        "REQUIRED_TAG_KEYS": "Project,Owner",
        "COST_REPORT_TAG_KEY": "Project",
        "SCHEDULE_TIMEZONE": "Europe/Berlin",
        "REPORT_BUCKET": "acme-finops",
        "REPORT_PREFIX": "bedrock-cost-reports/",
        "COST_REPORT_TOP_PROJECTS": "25",
    },
    "BudgetFunction": {
        "GOVERNED_REGIONS": "us-east-1",
        "ALERT_TOPIC_ARN": TOPIC,
        "REQUIRED_TAG_KEYS": "Project,Owner",
        "ALLOWED_TAG_VALUES": "{}",
        "STATE_BUCKET": "bedrock-governance-governancebucket-1abc",
        "STACK_NAME": "bedrock-governance",
        "ACCOUNT_ID": "123456789012",
        "ALERT_EMAIL": "ops@example.com",
        "PROJECT_BUDGETS_USD": '{"Alpha": 250}',
        "DEFAULT_MONTHLY_BUDGET_USD": "100",
        "BUDGET_ALERT_THRESHOLDS": "ACTUAL:80,FORECASTED:100",
        "BUDGET_CLEANUP": "false",
        "ACTIVATE_COST_ALLOCATION_TAGS": "false",
    },
    "OrganizationWorkerFunction": {
        "GOVERNED_REGIONS": "us-east-1,eu-west-1",
        "GOVERNANCE_BUCKET": "bedrock-governance-governancebucket-1abc",
        "GOVERNANCE_SCOPE": "ORGANIZATION",
        "ORGANIZATIONAL_UNIT_IDS": "ou-ab12-abcdefgh,r-ab12",
        "EXCLUDED_ACCOUNT_IDS": "111111111111",
        "MEMBER_ROLE_NAME": "BedrockGovernanceMember",
        "MAX_CONCURRENT_ACCOUNTS": "20",
    },
}
PARSERS: dict[str, Callable[[Mapping[str, str]], Any]] = {
    # The two jobs an organization run aggregates read their scope at start too.
    "TagComplianceFunction": lambda env: (TagComplianceConfig.from_env(env), OrganizationConfig.from_env(env)),
    "IdleProfileFunction": lambda env: (IdleConfig.from_env(env), OrganizationConfig.from_env(env)),
    "CostReportFunction": CostReportConfig.from_env,
    "BudgetFunction": BudgetConfig.from_env,
    "OrganizationWorkerFunction": WorkerConfig.from_env,
}
# Settings every function reads the same way.
SHARED_BAD = {
    "REQUIRED_TAG_KEYS": ["Project,Project", "Pro,ject!", "k" * 129],
    "ALLOWED_TAG_VALUES": [
        "not json",
        '["Environment"]',
        '{"Environment": "prod"}',
        '{"Environment": []}',
        '{"E": [" "]}',
    ],
    "GOVERNED_REGIONS": ["us-east-1,Frankfurt", "us_east_1"],
    "ALERT_TOPIC_ARN": ["", "arn:aws:sqs:us-east-1:123456789012:queue", "AlertTopic"],
    "STATE_BUCKET": ["Governance_Bucket", "a"],
    "GOVERNANCE_SCOPE": ["ORG", "organisation"],
    "MEMBER_ROLE_NAME": ["", "role/Member", "a" * 65],
}
BAD: dict[str, dict[str, list[str]]] = {
    "TagComplianceFunction": {"ALERT_DIGEST_DAYS": ["0", "91", "weekly"]},
    "IdleProfileFunction": {
        "GOVERNANCE_BUCKET": ["", "UPPER"],
        "IDLE_DAYS": ["0", "181", "thirty"],
        "IDLE_GRACE_DAYS": ["0", "366", "1.5"],
        "CLEANUP_DRY_RUN": ["maybe", ""],
        "MAX_DELETIONS_PER_RUN": ["-1", "1001", "ten"],
        "MAX_NEWLY_IDLE_PERCENT": ["0", "101", "half"],
    },
    "CostReportFunction": {
        "REPORT_TOPIC_ARN": ["", "report-topic"],
        "COST_REPORT_TAG_KEY": ["Project,Team", "Pro!ject"],
        "SCHEDULE_TIMEZONE": ["Mars/Olympus", "Europe/Berlin; rm"],
        "REPORT_BUCKET": ["Not_A_Bucket"],
        "REPORT_PREFIX": ["no-trailing-slash", "bad prefix/"],
        "COST_REPORT_TOP_PROJECTS": ["0", "1001", "all"],
    },
    "BudgetFunction": {
        "STACK_NAME": ["1-starts-with-a-digit", "has_underscore"],
        "ACCOUNT_ID": ["12345", "abcdefghijkl"],
        "ALERT_EMAIL": ["not-an-address"],
        "PROJECT_BUDGETS_USD": ["250", '{"Alpha": 0}', '{"Alpha": "lots"}', '{"Alpha": 1, "Alpha": 2}', '{"A:b!": 5}'],
        "DEFAULT_MONTHLY_BUDGET_USD": ["0", "-5", "12.345", "1e12", "lots"],
        "BUDGET_ALERT_THRESHOLDS": ["", "ACTUAL", "SOMETIMES:80", "ACTUAL:0", "ACTUAL:80,ACTUAL:80"],
        "BUDGET_CLEANUP": ["yes please"],
        "ACTIVATE_COST_ALLOCATION_TAGS": ["on-ish"],
    },
    "OrganizationWorkerFunction": {
        "GOVERNANCE_BUCKET": ["", "UPPER"],
        "ORGANIZATIONAL_UNIT_IDS": ["Research", "ou-1"],
        "EXCLUDED_ACCOUNT_IDS": ["12345", "111111111111;222222222222"],
        "MAX_CONCURRENT_ACCOUNTS": ["0", "1001", "many"],
    },
}


def cases() -> list[tuple[str, str, str]]:
    found = []
    for function, valid in VALID.items():
        bad = {name: values for name, values in SHARED_BAD.items() if name in valid} | BAD[function]
        found += [(function, setting, value) for setting, values in bad.items() for value in values]
    return found


def env(function: str, **changes: str) -> dict[str, str]:
    return {"AWS_REGION": "us-east-1"} | VALID[function] | changes


@pytest.mark.parametrize("function", list(VALID))
def test_the_valid_settings_parse(function: str) -> None:
    assert PARSERS[function](env(function)) is not None


@pytest.mark.parametrize(("function", "setting", "value"), cases(), ids=[f"{f}-{s}={v!r}" for f, s, v in cases()])
def test_a_malformed_setting_fails_at_start_naming_it(function: str, setting: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        PARSERS[function](env(function, **{setting: value}))
    assert caught.value.setting == setting
    assert setting in str(caught.value)


def template_settings() -> dict[str, set[str]]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load(TEMPLATE.read_text(), Loader=Loader)  # noqa: S506 - SafeLoader subclass
    shared = set(template["Globals"]["Function"]["Environment"]["Variables"])
    return {
        function: {
            name
            for name in shared | set(template["Resources"][function]["Properties"]["Environment"]["Variables"])
            if not name.startswith("POWERTOOLS_")
        }
        for function in VALID
    }


def test_every_setting_the_template_gives_a_function_is_covered() -> None:
    covered = {function: set(valid) for function, valid in VALID.items()}
    declared = template_settings()
    for function, settings in declared.items():
        # A function may ignore a global setting it does not need (the idle sweep has no tag policy).
        read = {name for name in settings if name in covered[function] or name in BAD[function]}
        assert settings - read <= {"REQUIRED_TAG_KEYS", "ALLOWED_TAG_VALUES", "GOVERNED_REGIONS", "ALERT_TOPIC_ARN"}, (
            function
        )
        malformed = {setting for f, setting, _ in cases() if f == function}
        assert read <= malformed, f"{function}: no malformed case for {sorted(read - malformed)}"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("ALLOWED_TAG_VALUES", '{"Projekt": ["Café", "日本"]}'),
        ("PROJECT_BUDGETS_USD", '{"Café": 10}'),
        ("REQUIRED_TAG_KEYS", "Project,Kostenstelle,Größe"),
    ],
)
def test_tag_text_in_any_script_is_accepted_as_aws_accepts_it(setting: str, value: str) -> None:
    function = "BudgetFunction"
    assert PARSERS[function](env(function, **{setting: value})) is not None
