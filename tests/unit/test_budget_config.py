from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from bedrock_governance.budgets.config import BudgetConfig
from bedrock_governance.core.errors import ConfigError
from bedrock_governance.core.models import NotificationSpec, Subscriber

TOPIC = "arn:aws:sns:eu-central-1:210987654321:alerts"
BASE = {"ALERT_TOPIC_ARN": TOPIC, "AWS_REGION": "eu-central-1"}
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def test_defaults_match_the_issue() -> None:
    config = BudgetConfig.from_env(BASE)
    assert config.default_limit == Decimal(100)
    assert config.project_limits == {}
    assert config.thresholds == (
        NotificationSpec("ACTUAL", Decimal(80)),
        NotificationSpec("ACTUAL", Decimal(100)),
        NotificationSpec("FORECASTED", Decimal(100)),
    )
    assert (config.cleanup, config.activate_cost_allocation_tags) == (False, False)
    # The account and partition come from the topic when ACCOUNT_ID is not set.
    assert (config.account_id, config.partition) == ("210987654321", "aws")
    assert config.subscribers == (Subscriber("SNS", TOPIC),)
    assert config.cost_allocation_tag_keys == ("Project", "Environment", "CostCenter", "Owner")


def test_settings_are_parsed() -> None:
    config = BudgetConfig.from_env(
        BASE
        | {
            "PROJECT_BUDGETS_USD": '{"ProjectA": 250, "Project B": "12.50", "c:d": 0.5}',
            "DEFAULT_MONTHLY_BUDGET_USD": "75",
            "BUDGET_ALERT_THRESHOLDS": "actual:50, FORECASTED:120.5",
            "BUDGET_CLEANUP": "true",
            "ACTIVATE_COST_ALLOCATION_TAGS": "true",
            "ALERT_EMAIL": "ops@example.com",
            "REQUIRED_TAG_KEYS": "Team,Owner",
            "STACK_NAME": "gov-prod",
            "ACCOUNT_ID": "123456789012",
        }
    )
    assert config.project_limits == {"ProjectA": Decimal(250), "Project B": Decimal("12.50"), "c:d": Decimal("0.5")}
    assert config.default_limit == Decimal(75)
    assert [spec.key for spec in config.thresholds] == ["ACTUAL:50", "FORECASTED:120.5"]
    assert config.cleanup
    assert config.activate_cost_allocation_tags
    assert config.subscribers == (Subscriber("SNS", TOPIC), Subscriber("EMAIL", "ops@example.com"))
    # Project is checked even when the tag policy does not require it: budgets filter on it.
    assert config.cost_allocation_tag_keys == ("Project", "Team", "Owner")
    assert (config.managed_by, config.account_id) == ("gov-prod", "123456789012")
    assert config.targets().project_limits == config.project_limits


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("PROJECT_BUDGETS_USD", "{oops", "not valid JSON"),
        ("PROJECT_BUDGETS_USD", "[1, 2]", "must be a JSON object"),
        ("PROJECT_BUDGETS_USD", '{"A": 0}', "more than 0"),
        ("PROJECT_BUDGETS_USD", '{"A": -5}', "more than 0"),
        ("PROJECT_BUDGETS_USD", '{"A": true}', "not a number"),
        ("PROJECT_BUDGETS_USD", '{"A": "lots"}', "not a number"),
        ("PROJECT_BUDGETS_USD", '{"A": 1.234}', "more than two decimals"),
        ("PROJECT_BUDGETS_USD", '{"A": 1, "A": 2}', "names project 'A' twice"),
        ("PROJECT_BUDGETS_USD", '{" ": 10}', "not a valid Project tag value"),
        ("PROJECT_BUDGETS_USD", '{"a*b": 10}', "not a valid Project tag value"),
        ("DEFAULT_MONTHLY_BUDGET_USD", "0", "more than 0"),
        ("DEFAULT_MONTHLY_BUDGET_USD", "NaN", "more than 0"),
        ("BUDGET_ALERT_THRESHOLDS", "", "at least one threshold"),
        ("BUDGET_ALERT_THRESHOLDS", "ACTUAL80", "not TYPE:PERCENT"),
        ("BUDGET_ALERT_THRESHOLDS", "SPENT:80", "not TYPE:PERCENT"),
        ("BUDGET_ALERT_THRESHOLDS", "ACTUAL:0", "more than 0"),
        ("BUDGET_ALERT_THRESHOLDS", "ACTUAL:80,ACTUAL:80.0", "names ACTUAL:80 twice"),
        ("BUDGET_ALERT_THRESHOLDS", ",".join(f"ACTUAL:{n}" for n in range(10, 70, 10)), "at most 5"),
        ("BUDGET_CLEANUP", "maybe", "not true or false"),
        ("ACTIVATE_COST_ALLOCATION_TAGS", "on", "not true or false"),
        ("ALERT_EMAIL", "not-an-address", "not an e-mail address"),
        ("STACK_NAME", "bad_name!", "not a CloudFormation stack name"),
        ("ACCOUNT_ID", "12345", "12-digit"),
    ],
)
def test_malformed_settings_fail_naming_the_setting(setting: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)) as raised:
        BudgetConfig.from_env(BASE | {setting: value})
    assert raised.value.setting == setting


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("ACTUAL:80,ACTUAL:100,FORECASTED:100", True),
        ("FORECASTED:120.5", True),
        ("ACTUAL:80, FORECASTED:100", True),
        ("ACTUAL:10,ACTUAL:20,ACTUAL:30,ACTUAL:40,ACTUAL:50", True),
        ("ACTUAL:10,ACTUAL:20,ACTUAL:30,ACTUAL:40,ACTUAL:50,ACTUAL:60", False),
        ("ACTUAL:80%", False),
        ("", False),
    ],
)
def test_the_template_pattern_and_the_parser_agree(value: str, accepted: bool) -> None:
    """CloudFormation refuses at deploy time what the function would refuse at run time."""
    parameter = yaml.load(TEMPLATE.read_text(), Loader=_Loader)["Parameters"]["BudgetAlertThresholds"]  # noqa: S506
    assert bool(re.fullmatch(parameter["AllowedPattern"], value)) is accepted
    if accepted:
        BudgetConfig.from_env(BASE | {"BUDGET_ALERT_THRESHOLDS": value})
    else:
        with pytest.raises(ConfigError):
            BudgetConfig.from_env(BASE | {"BUDGET_ALERT_THRESHOLDS": value})
