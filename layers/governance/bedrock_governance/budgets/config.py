"""Settings of the budget reconciler, built ``from_env()`` (or from the command line's flags)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from bedrock_governance.budgets.policy import MAX_NOTIFICATIONS, PROJECT_TAG_KEY, BudgetTargets
from bedrock_governance.core.arn import parse_arn
from bedrock_governance.core.errors import ConfigError
from bedrock_governance.core.models import NotificationSpec, Subscriber
from bedrock_governance.core.settings import (
    TAG_VALUE_PATTERN,
    environ,
    parse_allowed_values,
    parse_bool,
    parse_bucket,
    parse_list,
    parse_topic_arn,
    regions_from_env,
    require,
    required_tag_keys_from_env,
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
        values = environ(env)
        topic = parse_topic_arn(require(values, "ALERT_TOPIC_ARN"), "ALERT_TOPIC_ARN")
        bucket = values.get("STATE_BUCKET", "").strip()
        email = values.get("ALERT_EMAIL", "").strip()
        if email and not EMAIL_PATTERN.match(email):
            raise ConfigError("ALERT_EMAIL", f"{email!r} is not an e-mail address")
        # The topic is this account's: its ARN names the account and partition when ACCOUNT_ID is unset.
        account = values.get("ACCOUNT_ID", "").strip() or parse_arn(topic).account
        if not ACCOUNT_ID_PATTERN.match(account):
            raise ConfigError("ACCOUNT_ID", f"{account!r} is not a 12-digit AWS account id")
        managed_by = values.get("STACK_NAME", "").strip() or "bedrock-governance"
        if not STACK_NAME_PATTERN.match(managed_by):
            raise ConfigError("STACK_NAME", f"{managed_by!r} is not a CloudFormation stack name")
        required = required_tag_keys_from_env(values)
        # The stack's one tag policy: checked here too, so a malformed setting fails every function at start.
        parse_allowed_values(values.get("ALLOWED_TAG_VALUES", ""), "ALLOWED_TAG_VALUES")
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
            cost_allocation_tag_keys=tuple(dict.fromkeys((PROJECT_TAG_KEY, *required))),
            state_bucket=parse_bucket(bucket, "STATE_BUCKET") if bucket else None,
            managed_by=managed_by,
            account_id=account,
            partition=parse_arn(topic).partition,
        )
