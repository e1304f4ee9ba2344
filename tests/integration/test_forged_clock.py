"""A forged or stale run time cannot make busy profiles look idle, nor back-date marks.

The deployed IdleProfileFunction is invoked the way anyone allowed to invoke it could: with an
event whose ``scheduledTime`` lies far in the future or in the past. The real clock (the moment the
harness runs the handler at) is what bounds it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from bedrock_governance.core.events import (
    LAMBDA_MAX_EVENT_AGE,
    MAX_EVENT_AGE,
    SCHEDULER_MAX_EVENT_AGE,
    RunTimeOutOfBounds,
)
from bedrock_governance.core.models import IDLE_SINCE_TAG
from embedded_aws.bedrock import set_profile_created_at
from embedded_aws.calls import count_api_calls
from tests.integration.support import ACCOUNT, REGION, alerts, create_profile, exists, load_template, tags_of

if TYPE_CHECKING:
    from stack_harness import DeployedStack

pytestmark = pytest.mark.deployment

ROOT = Path(__file__).resolve().parents[2]
# The real clock of these runs: tomorrow 06:30, so profiles created today are a day old.
REAL = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=6.5)


def busy_profiles(count: int) -> list[str]:
    """Old profiles with plenty of traffic yesterday, as busy as profiles get."""
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    arns = []
    for index in range(count):
        arn = create_profile(f"busy-{index}", {"Owner": "ana@example.com"})
        set_profile_created_at(ACCOUNT, REGION, arn, REAL - timedelta(days=300))
        cloudwatch.put_metric_data(
            Namespace="AWS/Bedrock",
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "ModelId", "Value": arn.rsplit("/", 1)[1]}],
                    "Timestamp": REAL - timedelta(days=1),
                    "Value": 2443,
                }
            ],
        )
        arns.append(arn)
    return arns


def invoke(stack: DeployedStack, event: dict[str, Any]) -> Any:
    return stack.invoke("IdleProfileFunction", event, now=REAL)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2030-01-01T06:30:00Z", "2030-01-16T06:30:00Z"),  # the future, then its grace period "passed"
        ((REAL + timedelta(hours=1)).isoformat(), (REAL + timedelta(days=15)).isoformat()),
        ((REAL - timedelta(days=20)).isoformat(), (REAL - timedelta(days=5)).isoformat()),  # far past
    ],
)
def test_a_forged_scheduled_time_is_refused_and_nothing_is_written(
    deploy: Callable[..., DeployedStack], first: str, second: str
) -> None:
    stack = deploy(CleanupDryRun="false")
    profiles = busy_profiles(12)
    with count_api_calls() as calls:
        for forged in (first, second):
            with pytest.raises(RunTimeOutOfBounds, match="refused"):
                invoke(stack, {"source": "bedrock-governance.schedule", "scheduledTime": forged})
    assert calls.writes() == {}, "a refused run writes nothing"
    assert all(exists(arn) and IDLE_SINCE_TAG not in tags_of(arn) for arn in profiles)
    assert alerts(stack) == []


def test_the_scheduled_time_within_the_retry_window_is_used(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy()
    quiet = create_profile("quiet", {"Owner": "ana@example.com"})
    set_profile_created_at(ACCOUNT, REGION, quiet, REAL - timedelta(days=300))
    # A retry nearly seven hours late still decides as the first attempt did: the mark carries the
    # event's date, the day before the clock's, so a run that ignored the event would differ.
    retried = REAL - timedelta(hours=6, minutes=45)
    assert retried.date() != REAL.date()
    invoke(stack, {"source": "bedrock-governance.schedule", "scheduledTime": retried.isoformat()})
    assert tags_of(quiet)[IDLE_SINCE_TAG] == retried.date().isoformat()


def test_the_sample_event_marks_with_todays_date_never_a_fixed_past_one(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy()
    quiet = create_profile("quiet", {"Owner": "ana@example.com"})
    set_profile_created_at(ACCOUNT, REGION, quiet, REAL - timedelta(days=300))
    sample = json.loads((ROOT / "events" / "idle_profiles.json").read_text())
    invoke(stack, sample)
    assert tags_of(quiet)[IDLE_SINCE_TAG] == REAL.date().isoformat()


def test_every_sample_event_runs_today() -> None:
    from bedrock_governance.core.events import run_time  # noqa: PLC0415

    for path in sorted((ROOT / "events").glob("*.json")):
        assert run_time(json.loads(path.read_text()), REAL).within_bounds, path.name


def test_the_schedules_and_lambda_cannot_deliver_an_event_older_than_the_window() -> None:
    """The window in the code covers what the template lets AWS deliver, and no more."""
    resources = load_template()["Resources"]
    scheduler_ages = {
        name: event["Properties"]["RetryPolicy"]["MaximumEventAgeInSeconds"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "ScheduleV2"
    }
    lambda_ages = {
        name: resource["Properties"]["MaximumEventAgeInSeconds"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::EventInvokeConfig"
    }
    assert len(scheduler_ages) == 4
    assert len(lambda_ages) == 4
    assert set(scheduler_ages.values()) == {SCHEDULER_MAX_EVENT_AGE.total_seconds()}
    assert set(lambda_ages.values()) == {LAMBDA_MAX_EVENT_AGE.total_seconds()}
    assert SCHEDULER_MAX_EVENT_AGE + LAMBDA_MAX_EVENT_AGE == MAX_EVENT_AGE
