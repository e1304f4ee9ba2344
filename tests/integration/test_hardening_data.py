"""Hostile or odd data through the deployed stack: tags at their limits, unicode, blanks, keys that
differ only in case, names and descriptions at their limits, and thousands of violations.

Unicode: Bedrock's API model (and so the embedded Bedrock) allows only ``[a-zA-Z0-9\\s._:/=+@-]`` in
tags, while AWS's general tag rules allow letters and digits in any script. Which one Bedrock
enforces is for a real account to confirm; the functions must cope either way, so the unicode
profiles here get their tags straight in the embedded Bedrock's tag store, as if AWS had taken them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
import pytest

from bedrock_governance.core.models import IDLE_SINCE_TAG
from bedrock_governance.core.notify import SNS_MAX_MESSAGE_BYTES
from embedded_aws import bedrock as embedded_bedrock
from embedded_aws.bedrock import backend_for, set_profile_created_at
from tests.integration.support import ACCOUNT, REGION, alerts, create_profile, run, tags_of

if TYPE_CHECKING:
    from stack_harness import DeployedStack

pytestmark = pytest.mark.deployment

NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
POLICY = {"Environment": ["dev", "staging", "prod"]}
GOOD = {"Project": "Chatbot", "Environment": "prod", "CostCenter": "CC-1", "Owner": "ana@example.com"}


def force_tags(arn: str, tags: Mapping[str, str]) -> None:
    """Tags as AWS's general rules allow them, past the embedded Bedrock's ASCII-only validation."""
    backend = backend_for(ACCOUNT, arn.split(":")[3])
    backend.tagger.tag_resource(arn, [{"Key": key, "Value": value} for key, value in tags.items()])


def test_tags_at_their_limits_unicode_blanks_and_case_are_judged_exactly(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(AllowedTagValues=json.dumps(POLICY))
    filler = {f"extra-{i:02d}": "v" * 256 for i in range(46)}
    longest = create_profile(
        "n" * 64,  # the longest name Bedrock takes, with its longest description and 50 tags of 256 characters
        {**GOOD, "Owner": "o" * 256, **filler},
        description="d" * 200,
    )
    assert len(tags_of(longest)) == 50
    create_profile("blank-values", {**GOOD, "Environment": "   ", "Owner": ""})
    create_profile("keys-in-other-case", {"project": "Chatbot", "ENVIRONMENT": "Prod", "CostCenter": "CC-1"})
    twins = create_profile("twin-keys", {**GOOD, "project": "chatbot"})
    unicode_ok = create_profile("unicode-fine")
    force_tags(unicode_ok, {**GOOD, "Project": "Café Ünïcødé 日本", "Owner": "José Müller"})
    unicode_bad = create_profile("unicode-near-miss")
    force_tags(unicode_bad, {**GOOD, "Environment": "PRÖD"})

    summary = run(stack, "TagComplianceFunction", NOW)

    assert summary["profilesChecked"] == 6
    (alert,) = alerts(stack)
    assert alert.document is not None
    found = {f["name"]: [v["description"] for v in f["violations"]] for f in alert.document["findings"]}
    assert found == {
        "blank-values": [
            "tag Environment is blank (allowed: dev, staging, prod)",
            "tag Owner is blank",
        ],
        "keys-in-other-case": [
            "tag key 'project' should be 'Project' (keys are case-sensitive)",
            "tag key 'ENVIRONMENT' should be 'Environment' (keys are case-sensitive)",
            "missing tag Owner",
        ],
        "unicode-near-miss": ["tag Environment='PRÖD' is not an allowed value (allowed: dev, staging, prod)"],
    }
    for compliant in (longest, twins, unicode_ok):
        assert compliant not in alert.text
    # The subject stays within SNS rules (ASCII, one line); the body keeps the unicode as it is.
    assert alert.subject is not None
    assert alert.subject.isascii()
    assert "PRÖD" in alert.text


def test_an_idle_profile_with_50_tags_cannot_take_the_mark_and_the_others_still_do(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy()
    full = create_profile("fifty-tags", {**GOOD, **{f"extra-{i:02d}": "x" for i in range(46)}})
    roomy = create_profile("room-for-the-mark", GOOD)
    for arn in (full, roomy):
        set_profile_created_at(ACCOUNT, REGION, arn, NOW - timedelta(days=200))

    summary = run(stack, "IdleProfileFunction", NOW)

    assert IDLE_SINCE_TAG in tags_of(roomy)
    assert IDLE_SINCE_TAG not in tags_of(full)
    (problem,) = summary["problems"]
    assert problem["arn"] == full
    assert problem["errorCode"] == "TooManyTagsException"
    (alert,) = alerts(stack)
    assert "TooManyTagsException" in alert.text


def test_odd_project_values_get_safe_budget_names_or_a_named_conflict(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy()
    long_a = "A" * 256
    long_b = "A" * 255 + "B"  # same first 100 characters: the same budget name
    create_profile("long-a", {**GOOD, "Project": long_a})
    create_profile("long-b", {**GOOD, "Project": long_b})
    create_profile("colon", {**GOOD, "Project": "team:ml"})
    cafe = create_profile("cafe")
    force_tags(cafe, {**GOOD, "Project": "Café"})
    create_profile("lower-case-key", {**{k: v for k, v in GOOD.items() if k != "Project"}, "project": "Ghost"})

    summary = run(stack, "BudgetFunction", NOW)

    budgets = boto3.client("budgets", region_name="us-east-1")
    names = {b["BudgetName"]: b for b in budgets.describe_budgets(AccountId=ACCOUNT)["Budgets"]}
    assert "bedrock-project-team-ml" in names  # ':' is not allowed in budget names
    assert names["bedrock-project-team-ml"]["CostFilters"]["TagKeyValue"] == ["user:Project$team:ml"]
    assert names["bedrock-project-Café"]["CostFilters"]["TagKeyValue"] == ["user:Project$Café"]
    assert all(len(name) <= 100 for name in names)
    # Only the exact key counts: "project" is not Project.
    assert not [name for name in names if "Ghost" in name]
    # The two long values share a name: one gets the budget, the other is named as a conflict.
    assert len([name for name in names if name.startswith("bedrock-project-AAAA")]) == 1
    assert any("the same as project" in conflict for conflict in summary["conflicts"])


def test_thousands_of_violations_stay_within_sns_limits(
    deploy: Callable[..., DeployedStack], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded_bedrock, "PROFILE_QUOTA", 3000)
    # The whole estate is newly idle at once: the circuit breaker is off, this test is about sizes.
    stack = deploy(AllowedTagValues=json.dumps(POLICY), MaxNewlyIdlePercent="100")
    client = boto3.client("bedrock", region_name=REGION)
    source = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"
    count = 2000
    for index in range(count):
        client.create_inference_profile(
            inferenceProfileName=f"untidy-{index:05d}",
            modelSource={"copyFrom": source},
            tags=[{"key": "Environment", "value": "E" * 256}, {"key": "project", "value": "p" * 256}],
        )
    backend = backend_for(ACCOUNT, REGION)
    for profile_id in list(backend.application_profiles):
        set_profile_created_at(ACCOUNT, REGION, profile_id, NOW - timedelta(days=200))

    tagging = run(stack, "TagComplianceFunction", NOW)
    idle = run(stack, "IdleProfileFunction", NOW)

    assert tagging["nonCompliantProfiles"] == count
    assert idle["counts"]["newlyIdle"] == count
    tag_alert, idle_alert = alerts(stack)
    for message in (tag_alert, idle_alert):
        assert message.document is not None
        assert message.document["truncated"] is True
        body = json.dumps({"default": message.text, "json": json.dumps(message.document)}).encode()
        assert len(body) < SNS_MAX_MESSAGE_BYTES
    assert f"{count:,}" in tag_alert.text
    assert tagging["fullReport"].startswith(f"s3://{stack.outputs['GovernanceBucketName']}/reports/tag-compliance/")
