"""The command line on the embedded AWS: each sub-command, its refusals and its dry-run guarantee."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from bedrock_governance.cli import EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, main
from bedrock_governance.core.events import clock_set_to
from embedded_aws import embedded_aws
from embedded_aws.calls import ApiCalls, count_api_calls
from embedded_aws.faults import Fault, inject_faults
from embedded_aws.seed import ALLOWED_TAG_VALUES, Compliance, Estate, EstateSpec, Usage, seed_estate
from embedded_aws.server import start_server
from tests.integration.support import recorded_backoff

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
REGIONS = "us-east-1,eu-central-1,ap-southeast-2"
ALLOWED = json.dumps(ALLOWED_TAG_VALUES)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def estate() -> Iterator[Estate]:
    with embedded_aws():
        yield seed_estate(EstateSpec(profiles=36, now=datetime(2026, 11, 23, tzinfo=UTC)))


@pytest.fixture
def calls(estate: Estate) -> Iterator[ApiCalls]:
    with count_api_calls() as counted:
        yield counted


def test_check_tags_reports_violations_without_writing(estate: Estate, calls: ApiCalls) -> None:
    code, out, err = run("check", "tags", "--region", "us-east-1", "--regions", REGIONS, "--allowed-values", ALLOWED)
    assert (code, err) == (EXIT_OK, "")
    violating = [p for p in estate.profiles if p.compliance is not Compliance.COMPLIANT]
    assert f"{len(violating)} profiles violate the tag policy" in out
    for profile in violating:
        assert profile.arn in out
    assert calls.writes() == {}


def test_check_tags_json_and_fail_on_findings(estate: Estate) -> None:
    code, out, _ = run(
        "check", "tags", "--region", "us-east-1", "--regions", REGIONS, "--allowed-values", ALLOWED,
        "--json", "--fail-on-findings",
    )  # fmt: skip
    assert code == EXIT_FINDINGS
    document = json.loads(out)
    assert document["summary"]["profilesChecked"] == 36
    assert {f["arn"] for f in document["report"]["findings"]} == {
        p.arn for p in estate.profiles if p.compliance is not Compliance.COMPLIANT
    }


def test_check_idle_is_read_only_by_default(estate: Estate, calls: ApiCalls) -> None:
    code, out, err = run("check", "idle", "--region", "us-east-1", "--regions", REGIONS, "--at", NOW.isoformat())
    assert (code, err) == (EXIT_OK, "")
    for profile in estate.where(usage=Usage.IDLE):
        assert profile.name in out
    assert calls.writes() == {}
    tagging = boto3.client("resourcegroupstaggingapi", region_name="us-east-1")
    assert tagging.get_resources(TagFilters=[{"Key": "governance:idle-since"}])["ResourceTagMappingList"] == []


def test_check_idle_fails_on_findings_only_when_asked(estate: Estate) -> None:
    argv = ["check", "idle", "--region", "us-east-1", "--regions", REGIONS, "--at", NOW.isoformat(), "--json"]
    code, out, _ = run(*argv, "--fail-on-findings")
    assert code == EXIT_FINDINGS
    marked = {o["name"] for o in json.loads(out)["report"]["profiles"] if o["action"] == "mark"}
    assert marked == {p.name for p in estate.where(usage=Usage.IDLE)}
    young_only = ["--idle-days", "180"]  # every seeded profile is younger than 180 days: none can be idle
    code, _, _ = run(*argv, *young_only, "--fail-on-findings")
    assert code == EXIT_OK


def test_check_idle_apply_writes_marks_only(estate: Estate, calls: ApiCalls) -> None:
    with clock_set_to(NOW):  # a run that writes takes --at only near the real clock
        code, _, _ = run(
            "check", "idle", "--region", "us-east-1", "--regions", REGIONS, "--at", NOW.isoformat(), "--apply"
        )
    assert code == EXIT_OK
    # Marks go through the Tagging API, 20 profiles a call.
    assert set(calls.writes()) == {"resourcegroupstaggingapi:TagResources"}
    marked = len(estate.where(usage=Usage.IDLE))
    assert calls.count("resourcegroupstaggingapi", "TagResources") <= -(-marked // 20) * len(REGIONS.split(","))


def test_check_idle_delete_needs_a_records_bucket(estate: Estate) -> None:
    code, _, err = run("check", "idle", "--region", "us-east-1", "--delete")
    assert code == EXIT_USAGE
    assert "--records-bucket" in err
    assert len(err.strip().splitlines()) == 1


def test_report_cost_prints_the_report_without_publishing(estate: Estate, calls: ApiCalls) -> None:
    code, out, err = run("report", "cost", "--region", "us-east-1", "--at", NOW.isoformat())
    assert (code, err) == (EXIT_OK, "")
    assert out.startswith("Subject: Bedrock spend 16-22 Nov 2026: $")
    assert "Chatbot" in out
    assert calls.writes() == {}
    assert calls.count("ce") <= 3 + calls.count("ce", "GetCostAndUsage") - 1


def test_sync_budgets_plans_without_changing_anything(estate: Estate, calls: ApiCalls) -> None:
    code, out, err = run("sync", "budgets", "--region", "us-east-1", "--regions", REGIONS, "--json")
    assert (code, err) == (EXIT_OK, "")
    planned = json.loads(out)["summary"]
    assert sorted(planned["created"]) == sorted(f"bedrock-project-{p}" for p in estate.spec.projects)
    assert calls.writes() == {}
    account = boto3.client("sts").get_caller_identity()["Account"]
    assert boto3.client("budgets", region_name="us-east-1").describe_budgets(AccountId=account).get("Budgets", []) == []


def test_profiles_create_refuses_bad_tags_and_creates_nothing(estate: Estate, calls: ApiCalls) -> None:
    code, _, err = run(
        "profiles", "create", "--region", "us-east-1", "--name", "new-bot",
        "--model", "anthropic.claude-3-haiku-20240307-v1:0", "--tag", "Project=NewBot", "--tag", "environment=prod",
        "--allowed-values", ALLOWED,
    )  # fmt: skip
    assert code == EXIT_USAGE
    assert "tag key 'environment' should be 'Environment'" in err
    assert "missing tag Owner" in err
    assert calls.count("bedrock", "CreateInferenceProfile") == 0


def test_profiles_create_resolves_the_source_for_the_region(estate: Estate) -> None:
    tags = ["--tag", "Project=NewBot", "--tag", "Environment=prod", "--tag", "CostCenter=CC-1", "--tag", "Owner=me"]
    model = "anthropic.claude-sonnet-4-20250514-v1:0"
    code, out, err = run(
        "profiles", "create", "--region", "eu-central-1", "--name", "newbot-eu", "--model", model, *tags
    )
    assert (code, err) == (EXIT_OK, "")
    arn = out.split()[1]
    profile = boto3.client("bedrock", region_name="eu-central-1").get_inference_profile(inferenceProfileIdentifier=arn)
    assert profile["inferenceProfileName"] == "newbot-eu"
    assert "copied from arn:aws:bedrock:eu-central-1:123456789012:inference-profile/eu." in out
    assert f"--model-id {arn}" in out


def test_profiles_restore_recreates_from_a_record_file(estate: Estate, tmp_path: Path) -> None:
    victim = estate.profiles[0]
    record = {
        "type": "bedrock-inference-profile-deletion-record", "version": 1, "status": "deleted",
        "region": victim.region, "profileName": "restored-bot", "description": "restored",
        "copyFrom": victim.source_arn, "tags": {"Project": "Chatbot"}, "oldArn": victim.arn,
        "oldId": victim.profile_id, "deletedAt": NOW.isoformat(),
    }  # fmt: skip
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    # A restore applies the tag policy as create does: this record carries the Project tag only.
    code, out, err = run("profiles", "restore", str(path), "--region", "us-east-1", "--required-tags", "Project")
    assert (code, err) == (EXIT_OK, "")
    assert "Re-created 'restored-bot' as arn:aws:bedrock:" in out
    assert "NEW ARN" in out


def test_profiles_restore_refuses_a_record_of_another_account(estate: Estate, tmp_path: Path) -> None:
    victim = estate.profiles[0]
    record = {
        "type": "bedrock-inference-profile-deletion-record", "version": 1, "status": "deleted",
        "account": "210987654321", "region": victim.region, "profileName": "restored-bot",
        "copyFrom": victim.source_arn, "tags": {"Project": "Chatbot"}, "oldArn": victim.arn,
        "oldId": victim.profile_id, "deletedAt": NOW.isoformat(),
    }  # fmt: skip
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    before = boto3.client("bedrock", region_name=victim.region).list_inference_profiles(typeEquals="APPLICATION")
    code, _, err = run("profiles", "restore", str(path), "--region", "us-east-1", "--required-tags", "Project")
    # An organization run's record names its member account: re-created here, it would bill this one.
    assert code == EXIT_USAGE
    assert "the record is of account 210987654321, these credentials are of 123456789012" in err
    after = boto3.client("bedrock", region_name=victim.region).list_inference_profiles(typeEquals="APPLICATION")
    assert len(after["inferenceProfileSummaries"]) == len(before["inferenceProfileSummaries"])


def test_errors_are_one_clear_line(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run("check", "tags", "--region", "us-east-1", "--regions", "us-east-1,mars-north-1")
    assert code == EXIT_USAGE
    assert err.startswith("bedrock-governance: error: unknown region 'mars-north-1'")
    assert len(err.strip().splitlines()) == 1

    denied = Fault("bedrock", "CreateInferenceProfile", "AccessDeniedException", 403, "User is not authorized")
    with inject_faults(denied):
        code, _, err = run(
            "profiles", "create", "--region", "us-east-1", "--name", "x", "--model",
            "anthropic.claude-3-haiku-20240307-v1:0", "--tag", "Project=A", "--tag", "Environment=a",
            "--tag", "CostCenter=c", "--tag", "Owner=o",
        )  # fmt: skip
    assert code == EXIT_FAILURE
    assert err.strip() == (
        "bedrock-governance: error: access denied: bedrock:CreateInferenceProfile: User is not authorized"
    )

    with recorded_backoff(monkeypatch) as backoff, inject_faults(Fault("sts", "GetCallerIdentity", "Throttling", 400)):
        code, _, err = run("sync", "budgets", "--region", "us-east-1")
    assert code == EXIT_FAILURE
    assert "throttled by AWS even after retries" in err
    assert len(backoff.delays) >= 7  # the one retry policy tried 8 times before giving up


def test_no_credentials_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # Off EC2 there is no instance metadata service to ask, and tests may not try.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, _, err = run("check", "tags", "--region", "us-east-1")
    assert code == EXIT_FAILURE
    assert "no AWS credentials found" in err


@pytest.mark.parametrize(
    "argv",
    [[], ["check"], ["check", "tags"], ["check", "idle"], ["report", "cost"], ["sync", "budgets"],
     ["profiles"], ["profiles", "create"], ["profiles", "restore"]],
)  # fmt: skip
def test_help_at_every_level(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    assert "usage: bedrock-governance" in capsys.readouterr().out


def test_endpoint_url_points_every_call_at_the_embedded_server() -> None:
    with start_server() as server:
        session = boto3.session.Session(region_name="us-east-1")
        bedrock = session.client("bedrock", endpoint_url=server.endpoint_url)
        bedrock.create_inference_profile(
            inferenceProfileName="over-http",
            modelSource={"copyFrom": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"},
            tags=[{"key": "Project", "value": "Web"}],
        )
        code, out, err = run("check", "tags", "--region", "us-east-1", "--endpoint-url", server.endpoint_url)
    assert (code, err) == (EXIT_OK, "")
    assert "over-http" in out
    assert "missing tag Owner" in out
