"""Organization scope from the command line, on an embedded organization: 3 OUs, 12 member
accounts, 2 regions, one account without the member role, one suspended, one excluded.

The CLI runs the same worker and aggregation code the state machines run, with a thread pool."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest

from bedrock_governance.cli import EXIT_FAILURE, EXIT_USAGE, main
from bedrock_governance.core.models import IDLE_SINCE_TAG
from embedded_aws import embedded_aws
from embedded_aws.calls import ApiCalls, count_api_calls
from embedded_aws.organization import OrganizationEstate, OrganizationSpec, member_session, seed_organization
from embedded_aws.seed import ALLOWED_TAG_VALUES, Compliance, Usage

REGIONS = "us-east-1,eu-west-1"
ALLOWED = json.dumps(ALLOWED_TAG_VALUES)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def check(kind: str, *extra: str) -> tuple[int, str, str]:
    policy = ("--allowed-values", ALLOWED) if kind == "tags" else ()
    return run("check", kind, "--region", "us-east-1", "--regions", REGIONS, *policy, *extra)


@pytest.fixture(scope="module")
def organization() -> Iterator[OrganizationEstate]:
    with embedded_aws():
        yield seed_organization(OrganizationSpec(now=datetime.now(UTC)))


@pytest.fixture
def calls(organization: OrganizationEstate) -> Iterator[ApiCalls]:
    with count_api_calls() as counted:
        yield counted


def excluded(organization: OrganizationEstate) -> str:
    return ",".join(organization.excluded_ids)


def test_every_violator_is_named_with_its_account_and_the_roleless_account_is_reported(
    organization: OrganizationEstate, calls: ApiCalls
) -> None:
    code, out, err = check("tags", "--organization", "--excluded-account-ids", excluded(organization), "--json")
    document = json.loads(out)["report"]
    governed = [a for a in organization.accounts if a.has_role and not a.suspended and not a.excluded]
    violators = [
        (account.account_id, profile.arn)
        for account in governed
        for profile in (account.estate.profiles if account.estate else ())
        if profile.compliance is not Compliance.COMPLIANT
    ]
    assert violators
    found = {(finding["account"], finding["arn"]) for finding in document["findings"]}
    assert found == set(violators)
    roleless = next(a for a in organization.accounts if not a.has_role)
    failed = {(f["region"], f["errorCode"]) for f in document["failedRegions"]}
    assert {
        (f"{roleless.account_id}/us-east-1", "AccessDenied"),
        (f"{roleless.account_id}/eu-west-1", "AccessDenied"),
    } <= failed
    # A target not checked is an error a script can see: exit 1, one line naming it.
    assert code == EXIT_FAILURE
    assert err.startswith("bedrock-governance: error: not checked: ")
    # Nothing written anywhere: the command line reads unless asked to write.
    assert calls.writes() == {}


def test_the_text_alert_has_a_section_per_account_and_says_what_fixes_a_missing_role(
    organization: OrganizationEstate,
) -> None:
    _, out, _ = check("tags", "--organization", "--excluded-account-ids", excluded(organization))
    roleless = next(a for a in organization.accounts if not a.has_role)
    suspended = next(a for a in organization.accounts if a.suspended)
    skipped = next(a for a in organization.accounts if a.excluded)
    assert (
        f"{roleless.account_id} ({roleless.name}) us-east-1: AccessDenied: role BedrockGovernanceMember not found"
        in out
    )
    assert "has the StackSet reached this account?" in out
    # The management account has no StackSet instance, ever: its own fix.
    assert f"{organization.management_account_id} (" in out
    assert "StackSets never deploy to the management account" in out
    assert f"{suspended.account_id} ({suspended.name}): status SUSPENDED" in out
    assert f"{skipped.account_id} ({skipped.name}): excluded (ExcludedAccountIds)" in out
    for account in organization.accounts:
        if account.has_role and not account.suspended and not account.excluded:
            assert f"  Account {account.account_id} ({account.name})" in out
    assert "accounts x 2 regions" in out


def test_an_ou_filter_and_an_account_list_narrow_the_run(organization: OrganizationEstate) -> None:
    research = organization.ou_ids["Research"]
    _, out, _ = check("tags", "--organization", "--organizational-unit-ids", research, "--json")
    accounts = {a["id"] for a in json.loads(out)["report"]["organization"]["accounts"]}
    assert accounts == {a.account_id for a in organization.accounts if a.ou == "Research" and not a.suspended}

    chosen = [a for a in organization.accounts if a.has_role and not a.suspended][:2]
    code, out, err = check("tags", "--accounts", ",".join(a.account_id for a in chosen), "--json")
    document = json.loads(out)["report"]
    assert {a["id"] for a in document["organization"]["accounts"]} == {a.account_id for a in chosen}
    assert {f["account"] for f in document["findings"]} == {a.account_id for a in chosen}
    assert (code, err) == (0, "")


def test_bad_organization_flags_fail_at_start_naming_the_flag(organization: OrganizationEstate) -> None:
    code, _, err = check("tags", "--accounts", "12345")
    assert code == EXIT_USAGE
    assert err == "bedrock-governance: error: invalid --accounts: '12345' is not a 12-digit account id\n"
    code, _, err = check("tags", "--organization", "--organizational-unit-ids", "marketing")
    assert code == EXIT_USAGE
    assert "invalid --organizational-unit-ids: 'marketing' is neither an OU id" in err
    code, _, err = check("idle", "--organization", "--member-role", "no spaces allowed")
    assert code == EXIT_USAGE
    assert "invalid --member-role" in err
    code, _, err = check("idle", "--organization", "--accounts", "111111111111")
    assert code == EXIT_USAGE
    assert "--organization and --accounts exclude each other" in err
    code, _, err = check("tags", "--organization", "--max-concurrent-accounts", "0")
    assert code == EXIT_USAGE
    assert "invalid --max-concurrent-accounts" in err


def test_idle_apply_marks_through_each_member_role(organization: OrganizationEstate, calls: ApiCalls) -> None:
    code, out, _ = check(
        "idle", "--organization", "--excluded-account-ids", excluded(organization), "--apply", "--json"
    )
    assert code == EXIT_FAILURE  # the role-less account and the management account were not checked
    summary = json.loads(out)["summary"]
    governed = [a for a in organization.accounts if a.has_role and not a.suspended and not a.excluded]
    idle = [p for a in governed for p in (a.estate.profiles if a.estate else ()) if p.usage is Usage.IDLE]
    assert summary["counts"]["marked"] == len(idle)
    for account in governed:
        session = member_session(account.account_id)
        for profile in account.estate.profiles if account.estate else ():
            client = session.client("bedrock", region_name=profile.region)
            tags = {t["key"]: t["value"] for t in client.list_tags_for_resource(resourceARN=profile.arn)["tags"]}
            assert (IDLE_SINCE_TAG in tags) == (profile.usage is Usage.IDLE)
    # The management account's own Bedrock estate was never written to.
    management = boto3.client("bedrock", region_name="us-east-1")
    assert management.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"] == []
    assert calls.count("sts", "AssumeRole") >= len(governed) * 2
