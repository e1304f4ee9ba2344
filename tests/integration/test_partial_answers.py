"""Nothing is judged on what was not read: partial, eventually consistent and late AWS answers.

Each scenario edits the embedded AWS's answers the way AWS can answer (an omitted GetMetricData
result, a page-level message, a Tagging API answer that leaves an ARN out) or places traffic
where a careless reader would not look (after the top of the hour, between sweep and deletion),
and runs the deployed functions on it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from bedrock_governance.core.models import IDLE_SINCE_TAG, KEEP_TAG
from embedded_aws.answers import edit_answers
from embedded_aws.bedrock import set_profile_created_at
from embedded_aws.calls import count_api_calls
from tests.integration.support import ACCOUNT, REGION, alerts, before_call, create_profile, exists, run, tags_of

if TYPE_CHECKING:
    from stack_harness import DeployedStack

pytestmark = pytest.mark.deployment

# Tomorrow 06:30 on the real clock: the functions' window accepts it, profiles made today are old enough
# once back-dated.
NOW = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=6.5)
COMPLETE = {"Project": "Chatbot", "Environment": "prod", "CostCenter": "CC-1", "Owner": "ana@example.com"}


def old_profile(name: str, tags: Mapping[str, str], *, marked_days_ago: int | None = None) -> str:
    all_tags = dict(tags)
    if marked_days_ago is not None:
        all_tags[IDLE_SINCE_TAG] = (NOW - timedelta(days=marked_days_ago)).date().isoformat()
    arn = create_profile(name, all_tags)
    set_profile_created_at(ACCOUNT, REGION, arn, NOW - timedelta(days=300))
    return arn


def profile_id(arn: str) -> str:
    return arn.rsplit("/", 1)[1]


def use(arn: str, at: datetime, count: float) -> None:
    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "ModelId", "Value": profile_id(arn)}],
                "Timestamp": at,
                "Value": count,
            }
        ],
    )


def without_result_for(arn: str) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    """A GetMetricData answer that leaves out the query for ``arn``'s profile."""

    def edit(answer: dict[str, Any], params: dict[str, Any]) -> None:
        ids = {
            q["Id"]
            for q in params.get("MetricDataQueries", [])
            if q["MetricStat"]["Metric"]["Dimensions"][0]["Value"] == profile_id(arn)
        }
        answer["MetricDataResults"] = [r for r in answer.get("MetricDataResults", []) if r["Id"] not in ids]

    return edit


def deletion_outcome(summary: Mapping[str, Any], arn: str) -> dict[str, Any]:
    (problem,) = [p for p in summary["problems"] if p["arn"] == arn]
    return dict(problem)


def test_an_omitted_metric_result_is_unknown_usage_not_zero(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(CleanupDryRun="false")
    busy = old_profile("busy-but-omitted", COMPLETE, marked_days_ago=20)
    use(busy, NOW - timedelta(hours=20), 500)
    with edit_answers("monitoring", "GetMetricData", without_result_for(busy)) as edited:
        summary = run(stack, "IdleProfileFunction", NOW)
    assert edited.edited >= 1
    assert exists(busy)
    assert summary["deleted"] == []
    assert summary["counts"]["usageUnknown"] == 1
    assert "no result" in deletion_outcome(summary, busy)["detail"]


def test_a_page_message_puts_every_profile_of_the_answer_in_doubt(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(CleanupDryRun="false")
    marked = [old_profile(f"marked-{i}", COMPLETE, marked_days_ago=20) for i in range(3)]

    def flag(answer: dict[str, Any], _: dict[str, Any]) -> None:
        answer["Messages"] = [{"Code": "MaxQueryTimeRangeExceed", "Value": "The time range is too long"}]

    with edit_answers("monitoring", "GetMetricData", flag):
        summary = run(stack, "IdleProfileFunction", NOW)
    assert all(exists(arn) for arn in marked)
    assert summary["counts"]["usageUnknown"] == 3
    assert summary["counts"]["deleted"] == 0


def test_use_after_the_top_of_the_hour_counts(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(CleanupDryRun="false")
    busy = old_profile("used-at-ten-past", COMPLETE, marked_days_ago=20)
    use(busy, NOW.replace(minute=10), 1000)
    summary = run(stack, "IdleProfileFunction", NOW)
    assert exists(busy)
    assert summary["deleted"] == []
    assert IDLE_SINCE_TAG not in tags_of(busy), "used again: its mark is removed"


def test_use_between_the_sweep_and_the_deletion_keeps_the_profile(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(CleanupDryRun="false")
    busy = old_profile("used-just-in-time", COMPLETE, marked_days_ago=20)

    def traffic(_: Mapping[str, Any]) -> None:
        use(busy, NOW - timedelta(minutes=1), 1)

    with before_call("bedrock", "GetInferenceProfile", traffic) as raced:
        summary = run(stack, "IdleProfileFunction", NOW)
    assert raced
    assert exists(busy)
    outcome = deletion_outcome(summary, busy)
    assert outcome["status"] == "skipped"
    assert "used again since the sweep" in outcome["detail"]


def dropping(arn: str) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    """A Tagging API answer that has not caught up with ``arn`` yet."""

    def edit(answer: dict[str, Any], _: dict[str, Any]) -> None:
        answer["ResourceTagMappingList"] = [
            m for m in answer.get("ResourceTagMappingList", []) if m["ResourceARN"] != arn
        ]

    return edit


def test_a_profile_the_tagging_api_left_out_is_judged_on_its_real_tags(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy()
    tagged = old_profile("fully-tagged", COMPLETE)
    never_tagged = old_profile("never-tagged", {})
    with edit_answers("tagging", "GetResources", dropping(tagged)), count_api_calls() as calls:
        run(stack, "TagComplianceFunction", NOW)
    violators = {finding["arn"] for message in alerts(stack) for finding in (message.document or {})["findings"]}
    assert violators == {never_tagged}, "the left-out profile is compliant; the never-tagged one is not"
    # One direct read for each profile the Tagging API did not list: the left-out and the never-tagged.
    assert calls.count("bedrock", "ListTagsForResource") == 2


def test_a_tagged_estate_costs_no_extra_tag_read(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy()
    for index in range(5):
        old_profile(f"tagged-{index}", COMPLETE)
    with count_api_calls() as calls:
        run(stack, "TagComplianceFunction", NOW)
        run(stack, "IdleProfileFunction", NOW)
    assert calls.count("bedrock", "ListTagsForResource") == 0


def test_an_exempt_profile_the_tagging_api_left_out_is_not_marked(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy()
    exempt = old_profile("exempt-but-left-out", {**COMPLETE, KEEP_TAG: "true"})
    with edit_answers("tagging", "GetResources", dropping(exempt)):
        run(stack, "IdleProfileFunction", NOW)
    assert IDLE_SINCE_TAG not in tags_of(exempt)


def test_a_budget_is_not_cleaned_up_when_the_tagging_api_left_its_profile_out(
    deploy: Callable[..., DeployedStack],
) -> None:
    stack = deploy(BudgetCleanup="true")
    only = old_profile("the-projects-only-profile", COMPLETE)
    run(stack, "BudgetFunction", NOW)
    budgets = boto3.client("budgets", region_name="us-east-1")
    names = {b["BudgetName"] for b in budgets.describe_budgets(AccountId=ACCOUNT).get("Budgets", [])}
    assert "bedrock-project-Chatbot" in names
    with edit_answers("tagging", "GetResources", dropping(only)):
        run(stack, "BudgetFunction", NOW + timedelta(minutes=1))
    names = {b["BudgetName"] for b in budgets.describe_budgets(AccountId=ACCOUNT).get("Budgets", [])}
    assert "bedrock-project-Chatbot" in names


def test_a_record_another_run_settled_as_deleted_is_not_downgraded(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(CleanupDryRun="false")
    gone = old_profile("deleted-by-the-cli-meanwhile", COMPLETE, marked_days_ago=20)
    s3 = boto3.client("s3", region_name=REGION)

    def other_run_deletes(params: Mapping[str, Any]) -> None:
        # What a concurrent run does in this window: its own record (the same key), the delete, "deleted".
        bucket = stack.outputs["GovernanceBucketName"]
        (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="deletion-records/")["Contents"]]
        record = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        boto3.client("bedrock", region_name=REGION).delete_inference_profile(
            inferenceProfileIdentifier=params["inferenceProfileIdentifier"]
        )
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(record | {"status": "deleted"}).encode())

    with before_call("bedrock", "DeleteInferenceProfile", other_run_deletes):
        summary = run(stack, "IdleProfileFunction", NOW)
    assert deletion_outcome(summary, gone)["status"] == "already-gone"
    (uri,) = summary["deletionRecords"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    record = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert record["status"] == "deleted"


def no_datapoints(answer: dict[str, Any], _: dict[str, Any]) -> None:
    """A systematic misread: every query answered Complete, without a single datapoint."""
    for result in answer.get("MetricDataResults", []):
        result["Timestamps"], result["Values"] = [], []


def busy_estate(count: int) -> list[str]:
    arns = [old_profile(f"busy-{index:02d}", COMPLETE) for index in range(count)]
    for arn in arns:
        use(arn, NOW - timedelta(days=1), 300)
    return arns


def test_a_mass_misread_marks_nothing_and_alerts_loudly(deploy: Callable[..., DeployedStack]) -> None:
    stack = deploy(CleanupDryRun="false")
    arns = busy_estate(12)
    with edit_answers("monitoring", "GetMetricData", no_datapoints), count_api_calls() as calls:
        summary = run(stack, "IdleProfileFunction", NOW)
    assert calls.writes("bedrock") == {}
    assert all(IDLE_SINCE_TAG not in tags_of(arn) for arn in arns)
    (trip,) = summary["circuitBreaker"]
    assert (trip["region"], trip["newlyIdle"], trip["candidates"]) == (REGION, 12, 12)
    (message,) = alerts(stack)
    assert message.subject is not None
    assert message.subject.startswith("[CIRCUIT BREAKER")
    assert "CIRCUIT BREAKER" in message.text
    # The same estate read correctly marks nothing either, and sends nothing.
    summary = run(stack, "IdleProfileFunction", NOW + timedelta(minutes=5))
    assert summary["circuitBreaker"] == []
    assert len(alerts(stack)) == 1


def test_a_mass_misread_from_the_command_line_marks_nothing(aws: None) -> None:
    import io  # noqa: PLC0415

    from bedrock_governance.cli import main  # noqa: PLC0415
    from bedrock_governance.core.events import clock_set_to  # noqa: PLC0415

    arns = busy_estate(12)
    out, err = io.StringIO(), io.StringIO()
    with clock_set_to(NOW), edit_answers("monitoring", "GetMetricData", no_datapoints), count_api_calls() as calls:
        code = main(["check", "idle", "--region", REGION, "--apply", "--json"], out=out, err=err)
    assert calls.writes("bedrock") == {}
    assert all(IDLE_SINCE_TAG not in tags_of(arn) for arn in arns)
    document = json.loads(out.getvalue())
    assert document["summary"]["circuitBreaker"][0]["newlyIdle"] == 12
    assert code == 1, "a held run is not a clean run"
