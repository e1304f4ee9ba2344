"""Exit codes a script can trust: failed actions and failed publishes exit 1, whatever the command;
a run that writes takes ``--at`` only near the real clock; switches come from flags, not the shell."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from bedrock_governance.cli import EXIT_BROKEN_PIPE, EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, main
from bedrock_governance.core.events import clock_set_to
from bedrock_governance.core.models import IDLE_SINCE_TAG
from embedded_aws import embedded_aws
from embedded_aws.bedrock import set_profile_created_at
from embedded_aws.calls import ApiCalls, count_api_calls
from embedded_aws.faults import Fault, inject_faults
from embedded_aws.seed import EstateSpec, seed_estate
from embedded_aws.server import start_server

ACCOUNT = "123456789012"
REGION = "us-east-1"
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
BUCKET = "governance-records"
HAIKU = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
TAGS = {"Project": "Chatbot", "Environment": "prod", "CostCenter": "CC-1", "Owner": "ana@example.com"}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def aws() -> Iterator[str]:
    """An empty account with an alert topic and a records bucket; the clock reads NOW."""
    with embedded_aws(), clock_set_to(NOW):
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield boto3.client("sns", region_name=REGION).create_topic(Name="alerts")["TopicArn"]


@pytest.fixture
def calls(aws: str) -> Iterator[ApiCalls]:
    with count_api_calls() as counted:
        yield counted


def idle_profile(name: str, *, marked_days_ago: int) -> str:
    """A profile with no traffic, old enough to be idle, marked idle ``marked_days_ago`` days ago."""
    mark = {IDLE_SINCE_TAG: (NOW.date() - timedelta(days=marked_days_ago)).isoformat()}
    arn = boto3.client("bedrock", region_name=REGION).create_inference_profile(
        inferenceProfileName=name,
        modelSource={"copyFrom": HAIKU},
        tags=[{"key": k, "value": v} for k, v in (TAGS | mark).items()],
    )["inferenceProfileArn"]
    set_profile_created_at(ACCOUNT, REGION, arn, NOW - timedelta(days=200))
    return str(arn)


def delete_run(*extra: str) -> tuple[int, str, str]:
    return run(
        "check", "idle", "--region", REGION, "--regions", REGION, "--at", NOW.isoformat(),
        "--delete", "--records-bucket", BUCKET, *extra,
    )  # fmt: skip


# --- failed actions ----------------------------------------------------------------------------


def test_a_failed_deletion_exits_1(aws: str, calls: ApiCalls) -> None:
    idle_profile("old-bot", marked_days_ago=30)
    refused = Fault("bedrock", "DeleteInferenceProfile", "AccessDeniedException", 403, "not allowed to delete")
    with inject_faults(refused):
        code, out, err = delete_run()
    assert code == EXIT_FAILURE
    assert calls.count("bedrock", "DeleteInferenceProfile") == 1
    assert "not handled" in out  # the report is still printed in full
    (line,) = err.strip().splitlines()
    assert line.startswith("bedrock-governance: error: 1 action(s) failed")
    assert "not allowed to delete" in line


def test_a_failed_deletion_record_write_exits_1_and_deletes_nothing(aws: str, calls: ApiCalls) -> None:
    arn = idle_profile("old-bot", marked_days_ago=30)
    with inject_faults(Fault("s3", "PutObject", "AccessDenied", 403, "bucket policy")):
        code, _, err = delete_run()
    assert code == EXIT_FAILURE
    assert "writing the deletion record" in err
    assert calls.count("bedrock", "DeleteInferenceProfile") == 0
    boto3.client("bedrock", region_name=REGION).get_inference_profile(inferenceProfileIdentifier=arn)


def test_a_profile_in_use_is_a_deletion_not_done(aws: str) -> None:
    from embedded_aws.bedrock import set_profile_in_use  # noqa: PLC0415

    set_profile_in_use(ACCOUNT, REGION, idle_profile("busy-bot", marked_days_ago=30))
    code, _, err = delete_run()
    assert code == EXIT_FAILURE
    assert "still in use" in err


def test_a_successful_deletion_exits_0(aws: str) -> None:
    idle_profile("old-bot", marked_days_ago=30)
    code, out, err = delete_run()
    assert (code, err) == (EXIT_OK, "")
    assert "old-bot" in out


def test_a_failed_budget_change_exits_1(aws: str) -> None:
    idle_profile("bot", marked_days_ago=1)
    with inject_faults(Fault("budgets", "CreateBudget", "AccessDeniedException", 400, "no budgets for you")):
        code, _, err = run("sync", "budgets", "--region", REGION, "--regions", REGION, "--apply", "--topic-arn", aws)
    assert code == EXIT_FAILURE
    assert "CreateBudget failed with AccessDeniedException" in err


def test_a_failed_region_wins_over_findings(aws: str) -> None:
    idle_profile("bot", marked_days_ago=1)
    broken = Fault("bedrock", "ListInferenceProfiles", "AccessDeniedException", 403, "denied", region="eu-central-1")
    with inject_faults(broken):
        code, _, err = run(
            "check", "tags", "--region", REGION, "--regions", f"{REGION},eu-central-1", "--required-tags",
            "Project,Team", "--fail-on-findings",
        )  # fmt: skip
    # A run that missed a region may have missed findings too: 1, not 3.
    assert code == EXIT_FAILURE
    assert "region failed: eu-central-1" in err
    code, _, _ = run("check", "tags", "--region", REGION, "--required-tags", "Project,Team", "--fail-on-findings")
    assert code == EXIT_FINDINGS


# --- failed publishes --------------------------------------------------------------------------


def _publish_argv(command: str, topic: str) -> list[str]:
    common = ["--region", REGION, "--regions", REGION, "--at", NOW.isoformat()]
    match command:
        case "check tags":
            return ["check", "tags", *common, "--required-tags", "Project,Team", "--publish", "--topic-arn", topic]
        case "check idle":
            return ["check", "idle", *common, "--publish", "--topic-arn", topic]
        case "report cost":
            return ["report", "cost", *common, "--publish", "--topic-arn", topic, "--alert-topic-arn", topic]
        case _:
            return ["sync", "budgets", *common, "--apply", "--topic-arn", topic]


@pytest.mark.parametrize("command", ["check tags", "check idle", "report cost", "sync budgets"])
def test_a_failed_publish_exits_1_whatever_the_command(aws: str, command: str) -> None:
    # Profiles with missing tags, idle ones and a week of cost: every command has something to say.
    seed_estate(EstateSpec(profiles=12, regions=(REGION,), now=NOW - timedelta(days=1)))
    argv = _publish_argv(command, aws)
    code, _, err = run(*argv)
    assert (code, err) == (EXIT_OK, ""), command  # the publish works: 0
    with inject_faults(Fault("sns", "Publish", "AuthorizationError", 403, "topic policy denies")):
        code, _, err = run(*argv)
    assert code == EXIT_FAILURE, command
    assert len(err.strip().splitlines()) == 1
    assert "topic policy denies" in err


# --- --at and the real clock ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "idle", "--apply", "--at", "2030-01-01"],
        ["check", "idle", "--delete", "--records-bucket", BUCKET, "--at", "2030-01-16"],
        [
            "sync",
            "budgets",
            "--apply",
            "--topic-arn",
            "arn:aws:sns:us-east-1:123456789012:alerts",
            "--at",
            "2030-01-01",
        ],
        ["check", "idle", "--apply", "--at", (NOW - timedelta(days=2)).isoformat()],
    ],
    ids=["apply-future", "delete-future", "budgets-future", "apply-past"],
)
def test_a_run_that_writes_refuses_an_at_far_from_the_clock(aws: str, calls: ApiCalls, argv: list[str]) -> None:
    idle_profile("old-bot", marked_days_ago=30)
    calls.reset()
    code, _, err = run(*argv, "--region", REGION, "--regions", REGION)
    assert code == EXIT_USAGE
    (line,) = err.strip().splitlines()
    assert line.startswith("bedrock-governance: error: refused: --at ")
    assert "read-only" in line
    assert calls.writes() == {}
    assert calls.count() == 0  # refused before any AWS call


def test_a_read_only_replay_may_use_any_time(aws: str) -> None:
    idle_profile("old-bot", marked_days_ago=30)
    with clock_set_to(datetime(2030, 1, 1, tzinfo=UTC)):
        code, out, err = run("check", "idle", "--region", REGION, "--regions", REGION, "--at", NOW.isoformat())
    assert (code, err) == (EXIT_OK, "")
    assert "old-bot" in out


def test_a_run_that_writes_takes_an_at_within_the_window(aws: str, calls: ApiCalls) -> None:
    idle_profile("new-idle", marked_days_ago=0)
    at = (NOW - timedelta(hours=2)).isoformat()
    code, _, err = run("check", "idle", "--region", REGION, "--regions", REGION, "--at", at, "--apply")
    assert (code, err) == (EXIT_OK, "")


# --- flags decide, not the shell ------------------------------------------------------------------


def test_budget_cleanup_in_the_environment_deletes_nothing(
    aws: str, calls: ApiCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    idle_profile("bot", marked_days_ago=1)
    base = ["sync", "budgets", "--region", REGION, "--regions", REGION, "--apply", "--topic-arn", aws]
    code, _, _ = run(*base, "--project-budgets", '{"Gone": 10}')
    assert code == EXIT_OK
    monkeypatch.setenv("BUDGET_CLEANUP", "true")
    calls.reset()
    code, _, _ = run(*base)
    assert code == EXIT_OK
    assert calls.count("budgets", "DeleteBudget") == 0
    account = boto3.client("budgets", region_name=REGION).describe_budgets(AccountId=ACCOUNT)["Budgets"]
    assert "bedrock-project-Gone" in {budget["BudgetName"] for budget in account}
    code, _, _ = run(*base, "--cleanup")
    assert code == EXIT_OK
    assert calls.count("budgets", "DeleteBudget") == 1


def test_activate_cost_allocation_tags_in_the_environment_activates_nothing(
    aws: str, calls: ApiCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_estate(EstateSpec(profiles=12, regions=(REGION,), now=NOW - timedelta(days=1)))
    monkeypatch.setenv("ACTIVATE_COST_ALLOCATION_TAGS", "true")
    base = ["sync", "budgets", "--region", REGION, "--regions", REGION, "--apply", "--topic-arn", aws]
    code, _, _ = run(*base)
    assert code == EXIT_OK
    assert calls.count("ce", "UpdateCostAllocationTagsStatus") == 0
    run(*base, "--activate-tags")
    assert calls.count("ce", "UpdateCostAllocationTagsStatus") == 1


def test_cleanup_dry_run_false_in_the_environment_deletes_nothing(
    aws: str, calls: ApiCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    idle_profile("old-bot", marked_days_ago=30)
    monkeypatch.setenv("CLEANUP_DRY_RUN", "false")
    monkeypatch.setenv("GOVERNANCE_BUCKET", BUCKET)
    code, _, _ = run("check", "idle", "--region", REGION, "--regions", REGION, "--apply")
    assert code == EXIT_OK
    assert calls.count("bedrock", "DeleteInferenceProfile") == 0


# --- a closed stdout ------------------------------------------------------------------------------


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_stdout_exits_141_quietly(aws: str) -> None:
    idle_profile("bot", marked_days_ago=1)
    err = io.StringIO()
    code = main(["check", "tags", "--region", REGION, "--json"], out=_ClosedPipe(), err=err)
    assert (code, err.getvalue()) == (EXIT_BROKEN_PIPE, "")


def test_json_into_a_closed_pipe_leaves_no_traceback() -> None:
    """The real thing: a separate process writing into a pipe whose reader is gone (`| head`)."""
    with start_server() as server:
        boto3.client("bedrock", region_name=REGION, endpoint_url=server.endpoint_url).create_inference_profile(
            inferenceProfileName="piped", modelSource={"copyFrom": HAIKU}, tags=[{"key": "Project", "value": "P"}]
        )
        read_end, write_end = os.pipe()
        os.close(read_end)  # the reader has gone before the first byte is written
        try:
            done = subprocess.run(
                [sys.executable, "-c", "from bedrock_governance.cli import entry_point; entry_point()",
                 "check", "tags", "--region", REGION, "--endpoint-url", server.endpoint_url, "--json"],
                stdout=write_end, stderr=subprocess.PIPE, timeout=120, check=False,
            )  # fmt: skip
        finally:
            os.close(write_end)
    assert done.returncode == EXIT_BROKEN_PIPE
    assert done.stderr == b""
