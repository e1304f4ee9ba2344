"""Organization scope's pure parts: settings, target planning, failure explanations, payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bedrock_governance.core.errors import ConfigError
from bedrock_governance.core.models import InferenceProfile, UsageHistory
from bedrock_governance.org.config import (
    DEFAULT_MAX_CONCURRENT_ACCOUNTS,
    GovernanceScope,
    OrganizationConfig,
)
from bedrock_governance.org.policy import (
    MANAGEMENT_ACCOUNT_FIX,
    Account,
    OrganizationView,
    Target,
    TargetPlan,
    TargetSweep,
    explain_failure,
    in_management_account,
    label_of_arn,
    plan_targets,
)

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def test_account_scope_is_the_default_and_every_setting_is_checked() -> None:
    config = OrganizationConfig.from_env({})
    assert config.scope is GovernanceScope.ACCOUNT
    assert not config.is_organization
    assert config.max_concurrent_accounts == DEFAULT_MAX_CONCURRENT_ACCOUNTS
    full = OrganizationConfig.from_env(
        {
            "GOVERNANCE_SCOPE": "organization",
            "ORGANIZATIONAL_UNIT_IDS": "ou-ab12-abcdefgh, r-ab12,ou-ab12-abcdefgh",
            "EXCLUDED_ACCOUNT_IDS": "111111111111",
            "MEMBER_ROLE_NAME": "Governance.Member@2",
            "MAX_CONCURRENT_ACCOUNTS": "1000",
        }
    )
    assert full.is_organization
    assert full.parent_ids == ("ou-ab12-abcdefgh", "r-ab12")  # repeated ids once
    assert full.excluded_accounts == ("111111111111",)
    assert full.member_role_name == "Governance.Member@2"


@pytest.mark.parametrize(
    ("setting", "value", "problem"),
    [
        ("GOVERNANCE_SCOPE", "ORG", "must be ACCOUNT or ORGANIZATION"),
        ("ORGANIZATIONAL_UNIT_IDS", "ou-1", "neither an OU id"),
        ("ORGANIZATIONAL_UNIT_IDS", "Research", "neither an OU id"),
        ("EXCLUDED_ACCOUNT_IDS", "11111111111", "not a 12-digit account id"),
        ("EXCLUDED_ACCOUNT_IDS", "111111111111;222222222222", "not a 12-digit account id"),
        ("MEMBER_ROLE_NAME", "", "is not an IAM role name"),
        ("MEMBER_ROLE_NAME", "a" * 65, "is not an IAM role name"),
        ("MEMBER_ROLE_NAME", "role/Member", "is not an IAM role name"),
        ("MAX_CONCURRENT_ACCOUNTS", "0", "at least 1"),
        ("MAX_CONCURRENT_ACCOUNTS", "1001", "at most 1000"),
        ("MAX_CONCURRENT_ACCOUNTS", "ten", "whole number"),
    ],
)
def test_a_malformed_setting_fails_naming_it(setting: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        OrganizationConfig.from_env({setting: value})
    assert raised.value.setting == setting
    assert problem in raised.value.problem


def test_targets_are_active_accounts_minus_the_excluded_times_the_regions() -> None:
    accounts = [
        Account("333333333333", "c"),
        Account("111111111111", "a"),
        Account("222222222222", "b", "SUSPENDED"),
        Account("444444444444", "d", "PENDING_CLOSURE"),
        Account("555555555555", "e"),
        Account("111111111111", "a"),  # the same OU named twice
    ]
    plan = plan_targets(accounts, ("us-east-1", "eu-west-1"), excluded=("555555555555",))
    assert [a.account_id for a in plan.accounts] == ["111111111111", "333333333333"]
    assert plan.labels == (
        "111111111111/us-east-1",
        "111111111111/eu-west-1",
        "333333333333/us-east-1",
        "333333333333/eu-west-1",
    )
    reasons = {s.account.account_id: s.reason for s in plan.skipped}
    assert reasons["222222222222"].startswith("status SUSPENDED")
    assert reasons["444444444444"].startswith("status PENDING_CLOSURE")
    assert reasons["555555555555"] == "excluded (ExcludedAccountIds)"
    assert TargetPlan.from_json(json.loads(json.dumps(plan.to_json()))) == plan


def test_a_missing_role_says_what_fixes_it_and_the_management_account_gets_its_own_fix() -> None:
    target = Target("111111111111", "us-east-1")
    failure = explain_failure(target, "assume-role", "AccessDenied", "User: x is not authorized", "Member")
    assert failure.message == "role Member not found in 111111111111, or it does not trust this stack"
    assert failure.fix.startswith("has the StackSet reached this account?")
    assert in_management_account(failure, "999999999999") == failure
    assert in_management_account(failure, "111111111111").fix == MANAGEMENT_ACCOUNT_FIX
    # Only a missing role has that fix: a throttled AssumeRole in the management account keeps its own.
    throttled = explain_failure(target, "assume-role", "Throttling", "Rate exceeded", "Member")
    assert in_management_account(throttled, "111111111111") == throttled


def test_a_region_not_enabled_in_an_account_is_named_as_such() -> None:
    target = Target("111111111111", "ap-east-1")
    failure = explain_failure(target, "sweep", "UnrecognizedClientException", "The security token is invalid", "M")
    assert failure.message == "ap-east-1 is not enabled in 111111111111"
    assert "enable the region" in failure.fix
    denied = explain_failure(target, "sweep", "AccessDeniedException", "not authorized to GetMetricData", "M")
    assert "update the StackSet" in denied.fix
    assert denied.message == "not authorized to GetMetricData"


def test_labels_and_names() -> None:
    arn = "arn:aws:bedrock:eu-west-1:111111111111:application-inference-profile/abc"
    assert label_of_arn(arn) == "111111111111/eu-west-1"
    view = OrganizationView("o-x", (Account("111111111111", "payments"),))
    assert view.describe_label("111111111111/eu-west-1") == "111111111111 (payments) eu-west-1"
    assert view.describe_account("222222222222") == "222222222222"


def test_a_workers_answer_survives_the_json_round_trip() -> None:
    profile = InferenceProfile(
        profile_id="abc",
        name="chat",
        arn="arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/abc",
        region="us-east-1",
        model_arns=("arn:aws:bedrock:us-east-1::foundation-model/m",),
        status="ACTIVE",
        created_at=NOW - timedelta(days=90),
        tags={"Project": "Chat\nbot", "Owner": ""},
    )
    usage = UsageHistory(
        start=NOW - timedelta(days=180),
        end=NOW,
        daily={NOW - timedelta(days=3): 12.0, NOW - timedelta(days=2): 0.0},
        complete=False,
        problem="PartialData",
    )
    sweep = TargetSweep(Target("111111111111", "us-east-1"), (profile,), {"abc": usage})
    back = TargetSweep.from_json(json.loads(json.dumps(sweep.to_json())))
    assert back.profiles == (profile,)
    restored = back.usage["abc"]
    # Days without traffic are left out of the answer; they mean zero either way.
    assert restored.daily == {NOW - timedelta(days=3): 12.0}
    assert (restored.complete, restored.problem, restored.last_used) == (False, "PartialData", usage.last_used)
    assert restored.invocations_since(NOW - timedelta(days=30)) == usage.invocations_since(NOW - timedelta(days=30))
