"""Bad input gets one line naming what the user typed and exit 2, never a traceback; dry runs run
AWS's own checks; the budget plan is told in the command line's words."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from bedrock_governance.cli import EXIT_OK, EXIT_USAGE, main
from bedrock_governance.core.events import clock_set_to
from embedded_aws import embedded_aws
from embedded_aws.calls import ApiCalls, count_api_calls
from embedded_aws.seed import EstateSpec, seed_estate

REGION = "us-east-1"
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
HAIKU_ID = "anthropic.claude-3-haiku-20240307-v1:0"
HAIKU = f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU_ID}"
TAG_FLAGS = ("--tag", "Project=NewBot", "--tag", "Environment=prod", "--tag", "CostCenter=CC-1", "--tag", "Owner=me")
FULL_TAGS = {"Project": "Chatbot", "Environment": "prod", "CostCenter": "CC-1", "Owner": "ana@example.com"}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def one_line(err: str) -> str:
    (line,) = err.strip().splitlines()
    assert line.startswith("bedrock-governance: error: ")
    assert "Traceback" not in err
    return line.removeprefix("bedrock-governance: error: ")


@pytest.fixture
def aws() -> Iterator[None]:
    with embedded_aws(), clock_set_to(NOW):
        yield


@pytest.fixture
def calls(aws: None) -> Iterator[ApiCalls]:
    with count_api_calls() as counted:
        yield counted


def record(**changes: Any) -> dict[str, Any]:
    document = {
        "type": "bedrock-inference-profile-deletion-record", "version": 1, "status": "deleted",
        "region": REGION, "profileName": "restored-bot", "description": "restored",
        "copyFrom": HAIKU, "tags": FULL_TAGS,
        "oldArn": f"arn:aws:bedrock:{REGION}:123456789012:application-inference-profile/abcdefghijkl",
        "oldId": "abcdefghijkl", "deletedAt": NOW.isoformat(),
    }  # fmt: skip
    return {key: value for key, value in (document | changes).items() if value is not None}


def write(tmp_path: Path, document: object) -> str:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(document))
    return str(path)


# --- malformed input ----------------------------------------------------------------------------


def test_a_malformed_at_is_one_line_naming_the_flag(aws: None, calls: ApiCalls) -> None:
    code, _, err = run("check", "tags", "--region", REGION, "--at", "last tuesday")
    assert code == EXIT_USAGE
    assert one_line(err) == "--at 'last tuesday' is not an ISO 8601 time such as 2026-11-26T06:30:00Z"
    assert calls.count() == 0


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([record()], "a deletion record is a JSON object, not a JSON list"),
        (record(copyFrom=None), 'the deletion record lacks the field "copyFrom"'),
        (record(profileName=7), 'field "profileName" must be a non-empty string, not a JSON number'),
        (record(region="us-east-1 $(touch pwned)"), 'field "region" '),
        (record(deletedAt="yesterday"), 'field "deletedAt" '),
    ],
    ids=["list", "no-copyFrom", "number-name", "hostile-region", "bad-time"],
)
def test_a_bad_record_file_is_one_line_and_exit_2(
    aws: None, calls: ApiCalls, tmp_path: Path, document: object, expected: str
) -> None:
    location = write(tmp_path, document)
    code, out, err = run("profiles", "restore", location, "--region", REGION, "--dry-run")
    assert (code, out) == (EXIT_USAGE, "")
    assert one_line(err).startswith(f"{location}: {expected}")
    assert calls.count() == 0


def test_a_record_that_is_not_json_is_one_line(aws: None, tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_text("<html>not a record</html>")
    code, _, err = run("profiles", "restore", str(path), "--region", REGION)
    assert code == EXIT_USAGE
    assert one_line(err) == f"{path} is not a JSON deletion record"


def test_an_s3_object_that_is_not_json_is_one_line(aws: None) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="records")
    s3.put_object(Bucket="records", Key="deletion-records/x.json", Body=b"\x00\x01 not json")
    code, _, err = run("profiles", "restore", "s3://records/deletion-records/x.json", "--region", REGION)
    assert code == EXIT_USAGE
    assert one_line(err) == "s3://records/deletion-records/x.json is not a JSON deletion record"


@pytest.mark.parametrize("location", ["s3://records", "s3://records/", "s3://"])
def test_an_s3_location_without_a_key_is_one_line(aws: None, calls: ApiCalls, location: str) -> None:
    code, _, err = run("profiles", "restore", location, "--region", REGION)
    assert code == EXIT_USAGE
    assert one_line(err) == f"{location} names no object: give s3://BUCKET/KEY of a deletion record"
    assert calls.count() == 0


# --- settings named as typed ------------------------------------------------------------------------


def test_a_bad_flag_value_names_the_flag_not_the_variable(aws: None) -> None:
    code, _, err = run("check", "idle", "--region", REGION, "--idle-days", "500")
    assert code == EXIT_USAGE
    assert one_line(err) == "invalid --idle-days: must be at least 1 and at most 180, got 500"


def test_a_bad_environment_value_names_the_variable_and_the_flag(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDLE_DAYS", "500")
    code, _, err = run("check", "idle", "--region", REGION)
    assert code == EXIT_USAGE
    assert one_line(err) == (
        "invalid setting IDLE_DAYS in the environment: must be at least 1 and at most 180, got 500 "
        "(or pass --idle-days)"
    )


def test_a_budget_amount_is_shown_as_typed_not_as_a_python_repr(aws: None) -> None:
    code, _, err = run("sync", "budgets", "--region", REGION, "--project-budgets", '{"Chatbot": 1e12}')
    assert code == EXIT_USAGE
    line = one_line(err)
    assert line.startswith("invalid --project-budgets: the budget of 'Chatbot' 1E+12 must be more than 0")
    assert "Decimal" not in line


# --- regions, wherever they come from ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "environment", "source"),
    [
        (["--region", "us-esat-1"], {}, "--region"),
        (["--region", REGION, "--regions", "us-east-1,eu-centrall-1"], {}, "--regions"),
        ([], {"AWS_DEFAULT_REGION": "us-esat-1"}, "AWS_DEFAULT_REGION"),
        (["--region", REGION], {"GOVERNED_REGIONS": "us-east-1,eu-west-9"}, "GOVERNED_REGIONS"),
    ],
    ids=["region", "regions", "default-region", "governed-regions"],
)
def test_a_region_typo_is_one_line_naming_where_it_came_from(
    calls: ApiCalls, monkeypatch: pytest.MonkeyPatch, argv: list[str], environment: dict[str, str], source: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    code, _, err = run("check", "tags", *argv)
    assert code == EXIT_USAGE
    line = one_line(err)
    assert line.startswith("unknown region '")
    assert f"' from {source} (Bedrock is offered in: " in line
    assert "eu-central-1, eu-central-2" in line
    assert calls.count("bedrock") == 0


def test_a_record_region_that_bedrock_does_not_offer_is_refused(aws: None, calls: ApiCalls, tmp_path: Path) -> None:
    code, _, err = run("profiles", "restore", write(tmp_path, record(region="eu-west-9")), "--dry-run")
    assert code == EXIT_USAGE
    assert one_line(err).startswith("unknown region 'eu-west-9' from the deletion record's region")
    assert calls.count() == 0


# --- dry runs that run AWS's checks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "extra", "expected"),
    [
        ("new bot!", (), 'name: "new bot!" is not letters and digits'),
        ("x" * 65, (), "name: has 65 characters; at most 64"),
        ("new-bot", ("--description", "Hello, world"), 'description: "Hello, world" may hold only'),
        ("new-bot", ("--tag", "aws:owner=me"), 'tag "aws:owner": keys starting with aws: are reserved'),
        ("new-bot", ("--tag", "Team=R&D"), 'tag "Team": the value "R&D" may hold only'),
    ],
    ids=["name-pattern", "name-length", "description", "reserved-key", "tag-value"],
)
def test_create_dry_run_refuses_what_aws_would_refuse(
    aws: None, calls: ApiCalls, name: str, extra: tuple[str, ...], expected: str
) -> None:
    code, out, err = run(
        "profiles", "create", "--region", REGION, "--name", name, "--model", HAIKU_ID, *TAG_FLAGS, *extra, "--dry-run"
    )
    assert (code, out) == (EXIT_USAGE, "")
    assert err.startswith("bedrock-governance: error: refused: AWS would reject this profile, nothing was created:")
    assert f"  - {expected}" in err
    assert calls.count() == 0  # refused before any AWS call


@pytest.mark.parametrize("dry_run", [True, False])
def test_create_refuses_a_name_taken_in_the_region(aws: None, calls: ApiCalls, dry_run: bool) -> None:
    boto3.client("bedrock", region_name=REGION).create_inference_profile(
        inferenceProfileName="new-bot", modelSource={"copyFrom": HAIKU}
    )
    calls.reset()
    flags = ["--dry-run"] if dry_run else []
    code, out, err = run(
        "profiles", "create", "--region", REGION, "--name", "new-bot", "--model", HAIKU_ID, *TAG_FLAGS, *flags
    )
    assert (code, out) == (EXIT_USAGE, "")
    assert '  - name: "new-bot" is taken: an application profile of that name exists' in err
    assert calls.writes() == {}
    assert calls.count("bedrock", "ListInferenceProfiles") == 1


def test_create_dry_run_passes_a_good_request(aws: None, calls: ApiCalls) -> None:
    code, out, err = run(
        "profiles", "create", "--region", REGION, "--name", "new-bot", "--model", HAIKU_ID, *TAG_FLAGS, "--dry-run"
    )
    assert (code, err) == (EXIT_OK, "")
    assert out.startswith(f"Would create 'new-bot' in {REGION} from {HAIKU}")
    assert calls.writes() == {}


def test_restore_dry_run_refuses_a_name_taken_in_the_region(aws: None, tmp_path: Path) -> None:
    boto3.client("bedrock", region_name=REGION).create_inference_profile(
        inferenceProfileName="restored-bot", modelSource={"copyFrom": HAIKU}
    )
    code, out, err = run("profiles", "restore", write(tmp_path, record()), "--dry-run")
    assert (code, out) == (EXIT_USAGE, "")
    assert "nothing was re-created" in err
    assert '  - name: "restored-bot" is taken' in err


def test_restore_applies_the_tag_policy(aws: None, calls: ApiCalls, tmp_path: Path) -> None:
    location = write(tmp_path, record(tags={"Project": "Chatbot"}))
    code, _, err = run("profiles", "restore", location)
    assert code == EXIT_USAGE
    assert err.startswith("bedrock-governance: error: refused: the tags do not follow the tag policy")
    assert "missing tag Owner" in err
    assert calls.count("bedrock", "CreateInferenceProfile") == 0
    # --tag completes them; the restored profile then carries them.
    code, out, err = run(
        "profiles", "restore", location, "--tag", "Environment=prod", "--tag", "CostCenter=CC-1", "--tag", "Owner=me"
    )
    assert (code, err) == (EXIT_OK, "")
    arn = out.split()[3]
    tags = boto3.client("bedrock", region_name=REGION).list_tags_for_resource(resourceARN=arn)["tags"]
    assert {t["key"]: t["value"] for t in tags} == {
        "Project": "Chatbot", "Environment": "prod", "CostCenter": "CC-1", "Owner": "me"
    }  # fmt: skip


def test_restore_of_a_retired_model_suggests_a_current_one(aws: None, calls: ApiCalls, tmp_path: Path) -> None:
    retired = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-instant-v1"
    code, out, err = run("profiles", "restore", write(tmp_path, record(copyFrom=retired)), "--dry-run")
    assert (code, out) == (EXIT_USAGE, "")
    line = one_line(err)
    assert line.startswith(f"refused: {retired} is no longer offered in {REGION}")
    assert f"bedrock-governance profiles create --region {REGION} --name restored-bot --model anthropic." in line
    assert "--tag Project=Chatbot" in line
    suggested = line.split("--model ", 1)[1].split()[0]
    models = boto3.client("bedrock", region_name=REGION).list_foundation_models()["modelSummaries"]
    assert suggested in {m["modelId"] for m in models}
    assert calls.writes() == {}


def test_restore_dry_run_prints_a_quoted_command(aws: None, tmp_path: Path) -> None:
    code, out, err = run("profiles", "restore", write(tmp_path, record(description="Support bot")), "--dry-run")
    assert (code, err) == (EXIT_OK, "")
    assert f"--region {REGION} --inference-profile-name restored-bot" in out
    assert "--description 'Support bot'" in out


# --- the budget plan, in the command line's words -------------------------------------------------


@pytest.fixture
def estate(aws: None) -> None:
    seed_estate(EstateSpec(profiles=12, regions=(REGION,), now=NOW - timedelta(days=1)))


def test_the_budget_plan_shows_amounts_thresholds_and_subscribers(estate: None, calls: ApiCalls) -> None:
    code, out, err = run(
        "sync", "budgets", "--region", REGION, "--regions", REGION, "--project-budgets", '{"Chatbot": 250}',
        "--thresholds", "ACTUAL:50,FORECASTED:90",
    )  # fmt: skip
    assert (code, err) == (EXIT_OK, "")
    assert out.startswith("Budget plan (dry run: nothing was changed; --apply carries it out)")
    assert "Would create " in out
    chatbot = out.split("bedrock-project-Chatbot (project Chatbot)", 1)[1]
    assert "limit $250.00 a month (--project-budgets)" in chatbot
    assert "alerts: actual spend above 50%, forecasted spend above 90% of the limit" in chatbot
    assert "sent to: the SNS topic --topic-arn names (required with --apply)" in chatbot
    assert "limit $100.00 a month (the default, --default-budget)" in out
    for stack_word in ("ProjectBudgetsUSD", "DefaultMonthlyBudgetUSD", "BudgetCleanup", "ActivateCostAllocationTags"):
        assert stack_word not in out
    assert calls.writes() == {}


def test_the_budget_plan_says_would_update_keep_and_delete(estate: None, calls: ApiCalls) -> None:
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="alerts")["TopicArn"]
    base = ["sync", "budgets", "--region", REGION, "--regions", REGION, "--topic-arn", topic]
    assert run(*base, "--apply", "--project-budgets", '{"Gone": 10}')[0] == EXIT_OK
    calls.reset()

    code, out, _ = run(*base, "--default-budget", "120")
    assert code == EXIT_OK
    assert "Would update " in out
    assert "limit $100.00 -> $120.00 (from the default budget (--default-budget))" in out
    assert f"sent to: sns {topic}" in out
    kept = out.split("Would keep 1 budget(s) of vanished projects:", 1)[1]
    assert "bedrock-project-Gone" in kept
    assert "kept: deleted only with --cleanup" in kept

    code, out, _ = run(*base, "--cleanup")
    assert "Would delete 1 (--cleanup):\n  bedrock-project-Gone: " in out
    assert "; --cleanup is given" in out
    assert calls.writes() == {}
