"""Every function run twice on the same state: the second run changes nothing and sends nothing.

Two exceptions are documented: the weekly cost report is sent again when its function runs again (an
on-demand re-run is how a lost report is re-sent), and an idle sweep repeated on the same day repeats
that day's warnings about newly idle profiles (so a run whose message failed can be repeated by hand).
Neither writes anything else, and neither deletes or marks anything twice.
Both kinds of second run are covered: the same scheduled event again (a Lambda retry), and the next
day's run with nothing changed in between.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
import pytest

from bedrock_governance.core.models import IDLE_SINCE_TAG
from embedded_aws.calls import ApiCalls
from embedded_aws.inbox import sent_messages
from embedded_aws.seed import ALLOWED_TAG_VALUES, EstateSpec, Usage, seed_estate
from tests.integration.support import REGIONS, run

if TYPE_CHECKING:
    from stack_harness import DeployedStack

pytestmark = pytest.mark.deployment

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # a Monday
SECOND_RUNS = {"same event again": timedelta(0), "next day": timedelta(days=1)}


def all_messages(stack: DeployedStack) -> int:
    return sum(len(sent_messages(stack.outputs[o])) for o in ("AlertTopicArn", "ReportTopicArn"))


@pytest.mark.parametrize("later", list(SECOND_RUNS.values()), ids=list(SECOND_RUNS))
@pytest.mark.parametrize("function", ["TagComplianceFunction", "IdleProfileFunction", "BudgetFunction"])
def test_a_second_run_writes_and_sends_nothing(
    deploy: Callable[..., DeployedStack], api_calls: ApiCalls, function: str, later: timedelta
) -> None:
    stack = deploy(
        GovernedRegions=",".join(REGIONS),
        AllowedTagValues=json.dumps(ALLOWED_TAG_VALUES),
        CleanupDryRun="false",
        BudgetCleanup="true",
    )
    estate = seed_estate(EstateSpec(profiles=24, regions=REGIONS, now=NOW, usage=True, costs=True))
    for profile in estate.where(usage=Usage.IDLE)[:2]:
        # Two marked long ago (deleted by the first run), the others newly idle (marked by it).
        boto3.client("bedrock", region_name=profile.region).tag_resource(
            resourceARN=profile.arn, tags=[{"key": IDLE_SINCE_TAG, "value": "2026-10-01"}]
        )
    first = run(stack, function, NOW)
    assert api_calls.writes(), "the first run did something"
    sent = all_messages(stack)
    assert sent == 1

    api_calls.reset()
    second = run(stack, function, NOW + later)

    assert second.get("failedRegions", []) == first.get("failedRegions", [])
    if function == "IdleProfileFunction" and not later:
        # The documented repeat: the same day's warning again, and nothing written.
        assert api_calls.writes() == {"sns:Publish": 1}
        repeated = sent_messages(stack.outputs["AlertTopicArn"])[-1]
        assert repeated.document is not None
        assert {item["section"] for item in repeated.document["profiles"]} == {"newlyIdle"}
        assert second["deleted"] == []
        return
    assert api_calls.writes() == {}
    assert all_messages(stack) == sent


def test_the_weekly_report_is_sent_again_and_nothing_else_is_written(
    deploy: Callable[..., DeployedStack], api_calls: ApiCalls
) -> None:
    stack = deploy()
    seed_estate(EstateSpec(profiles=12, regions=REGIONS, now=NOW, usage=False, costs=True))
    run(stack, "CostReportFunction", NOW)
    api_calls.reset()

    run(stack, "CostReportFunction", NOW)

    assert api_calls.writes() == {"sns:Publish": 1}
    first, second = sent_messages(stack.outputs["ReportTopicArn"])
    assert (first.subject, first.text, first.document) == (second.subject, second.text, second.document)
