"""TagComplianceFunction as deployed: the template's wiring and the code agree."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bedrock_governance.core.errors import ConfigError
from embedded_aws.inbox import sent_messages
from embedded_aws.seed import ALLOWED_TAG_VALUES, Compliance, EstateSpec, seed_estate

if TYPE_CHECKING:
    from stack_harness import DeployedStack

REGIONS = "us-east-1,eu-central-1,ap-southeast-2"
NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
SAMPLE_EVENT = json.loads((Path(__file__).resolve().parents[2] / "events" / "tag_compliance.json").read_text())


def scheduled(when: datetime) -> dict[str, str]:
    event: dict[str, str] = SAMPLE_EVENT | {"scheduledTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return event


def test_the_deployed_function_gets_its_settings_from_the_stack(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(GovernedRegions=REGIONS, AllowedTagValues=json.dumps(ALLOWED_TAG_VALUES))
    env = stack.function_environment("TagComplianceFunction")
    assert env["ALERT_TOPIC_ARN"] == stack.outputs["AlertTopicArn"]
    assert env["GOVERNED_REGIONS"] == REGIONS
    assert env["REQUIRED_TAG_KEYS"] == "Project,Environment,CostCenter,Owner"
    assert json.loads(env["ALLOWED_TAG_VALUES"]) == ALLOWED_TAG_VALUES
    assert env["STATE_BUCKET"] == stack.outputs["GovernanceBucketName"]


def test_a_sweep_of_the_deployed_stack_alerts_once_with_every_violation(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy(GovernedRegions=REGIONS, AllowedTagValues=json.dumps(ALLOWED_TAG_VALUES))
    estate = seed_estate(EstateSpec(profiles=60, now=NOW, usage=False, costs=False))

    # The event the deployed schedule sends, with its scheduled time filled in as Scheduler does.
    event = stack.scheduled_event("TagComplianceFunction")
    summary = stack.invoke("TagComplianceFunction", event, now=NOW)

    violating = {p.arn for p in estate.profiles if p.compliance is not Compliance.COMPLIANT}
    assert summary["profilesChecked"] == 60
    assert summary["nonCompliantProfiles"] == len(violating)
    assert summary["failedRegions"] == []
    (alert,) = sent_messages(stack.outputs["AlertTopicArn"])
    assert alert.document is not None
    assert {f["arn"] for f in alert.document["findings"]} == violating
    assert alert.subject == f"Bedrock tag compliance digest: {len(violating)} of 60 profiles non-compliant (3 regions)"
    assert "aws bedrock tag-resource" in alert.text

    again = stack.invoke("TagComplianceFunction", scheduled(NOW + timedelta(days=1)), now=NOW + timedelta(days=1))
    assert again["alert"] == "nothing-new"
    assert len(sent_messages(stack.outputs["AlertTopicArn"])) == 1


def test_a_malformed_setting_fails_the_invocation_naming_it(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(AllowedTagValues='{"Environment": "prod"}')
    with pytest.raises(ConfigError, match="ALLOWED_TAG_VALUES"):
        stack.invoke("TagComplianceFunction", scheduled(NOW), now=NOW)


def test_the_role_allows_only_what_the_function_calls(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy()
    statements = [s for policy in stack.role_policy_documents("TagComplianceFunction") for s in policy.statements]
    actions = sorted(
        {
            action
            for statement in statements
            if statement.get("Effect") == "Allow"
            for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        }
    )
    assert "*" not in actions
    assert not [a for a in actions if a.endswith(":*")]
    assert {"bedrock:ListInferenceProfiles", "tag:GetResources", "sns:Publish"} <= set(actions)
    # Bedrock is read only: the listing, and the tags of a profile the Tagging API leaves out.
    readers = {"bedrock:ListInferenceProfiles", "bedrock:ListTagsForResource"}
    assert not [a for a in actions if a.startswith("bedrock:") and a not in readers]
