"""One stack in the management account governs the organization: the built template deployed with
GovernanceScope ORGANIZATION, its StackSet giving each member account the member role, its state
machines run by Step Functions from the template's own definitions.

The organization: 3 OUs x 4 member accounts, 2 regions, violations and idle profiles in every
account; one account loses its member role, one is suspended, one is excluded."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from embedded_aws import embedded_aws
from embedded_aws.calls import count_api_calls
from embedded_aws.inbox import SentMessage, sent_messages
from embedded_aws.organization import (
    MemberAccount,
    OrganizationEstate,
    OrganizationSpec,
    member_session,
    remove_member_role,
    seed_organization,
)
from embedded_aws.seed import ALLOWED_TAG_VALUES, Compliance, Usage
from stack_harness import DeployedStack, default_build_dir, deploy_stack
from tests.integration.conftest import STACK_NAME, TEMPLATE

pytestmark = pytest.mark.deployment

REGIONS = ("us-east-1", "eu-west-1")
MEMBER_ROLE = "BedrockGovernanceMember"
MAX_DELETIONS = 4


@dataclass(frozen=True)
class Organization:
    estate: OrganizationEstate
    stack: DeployedStack
    now: datetime

    @property
    def governed(self) -> list[MemberAccount]:
        return [a for a in self.estate.accounts if a.has_role and not a.suspended and not a.excluded]

    @property
    def roleless(self) -> MemberAccount:
        return next(a for a in self.estate.accounts if not a.has_role)

    def alerts(self) -> list[SentMessage]:
        return sent_messages(self.stack.outputs["AlertTopicArn"])

    def run(self, machine: str, when: datetime) -> dict[str, Any]:
        execution = self.stack.run_state_machine(machine, self.stack.schedule_input(machine), now=when)
        assert execution["status"] == "SUCCEEDED", execution
        output: dict[str, Any] = execution["output"]
        return output


@pytest.fixture(scope="module")
def organization() -> Iterator[Organization]:
    with embedded_aws():
        now = datetime.now(UTC).replace(microsecond=0)
        # The member roles come from the stack's StackSet, not from the seed.
        estate = seed_organization(OrganizationSpec(regions=REGIONS, now=now, member_roles=False))
        stack = deploy_stack(
            TEMPLATE,
            stack_name=STACK_NAME,
            parameters={
                "GovernanceScope": "ORGANIZATION",
                "GovernedRegions": ",".join(REGIONS),
                "ExcludedAccountIds": ",".join(estate.excluded_ids),
                "AllowedTagValues": json.dumps(ALLOWED_TAG_VALUES),
                "CleanupDryRun": "false",
                "MaxDeletionsPerRun": str(MAX_DELETIONS),
            },
            region="us-east-1",
            build_dir=default_build_dir(TEMPLATE),
        )
        roleless = next(a for a in estate.accounts if not a.has_role)
        remove_member_role(roleless.account_id)
        yield Organization(estate, stack, now)


def test_the_stack_set_gives_every_member_account_the_role_and_never_the_management_account(
    organization: Organization,
) -> None:
    trusted = sorted(
        [organization.stack.outputs["OrganizationWorkerRoleArn"], organization.stack.outputs["IdleProfileRoleArn"]]
    )
    for account in organization.estate.accounts:
        if account is organization.roleless:
            continue
        role = member_session(account.account_id).client("iam").get_role(RoleName=MEMBER_ROLE)["Role"]
        document: Any = role["AssumeRolePolicyDocument"]
        statement = (json.loads(document) if isinstance(document, str) else document)["Statement"][0]
        # Only the central functions' roles, by ARN.
        assert sorted(statement["Principal"]["AWS"]) == trusted
    management_roles = [r["RoleName"] for r in boto3.client("iam").list_roles()["Roles"]]
    assert MEMBER_ROLE not in management_roles


def test_the_schedules_target_the_state_machines_in_organization_scope(organization: Organization) -> None:
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    schedules = {s["Name"]: scheduler.get_schedule(Name=s["Name"]) for s in scheduler.list_schedules()["Schedules"]}
    targets = {name: (found["State"], found["Target"]["Arn"]) for name, found in schedules.items()}
    stack = organization.stack
    assert targets[f"{STACK_NAME}-tag-compliance-organization"] == (
        "ENABLED",
        stack.resources["TagComplianceStateMachine"],
    )
    assert targets[f"{STACK_NAME}-idle-profiles-organization"] == (
        "ENABLED",
        stack.resources["IdleProfileStateMachine"],
    )
    # The account-scope schedules stay, switched off: one run per schedule time, never two.
    assert targets[f"{STACK_NAME}-tag-compliance"][0] == "DISABLED"
    assert targets[f"{STACK_NAME}-idle-profiles"][0] == "DISABLED"


def test_one_scheduled_run_alerts_once_naming_every_violator_with_its_account(organization: Organization) -> None:
    before = len(organization.alerts())
    summary = organization.run("TagComplianceStateMachine", organization.now)
    alerts = organization.alerts()[before:]
    assert len(alerts) == 1
    document = alerts[0].document
    assert document is not None
    violators = {
        (account.account_id, profile.arn)
        for account in organization.governed
        for profile in (account.estate.profiles if account.estate else ())
        if profile.compliance is not Compliance.COMPLIANT
    }
    assert {(f["account"], f["arn"]) for f in document["findings"]} == violators
    failed = {f["region"]: f["message"] for f in document["failedRegions"]}
    roleless = organization.roleless.account_id
    management = organization.estate.management_account_id
    for region in REGIONS:
        assert "has the StackSet reached this account?" in failed[f"{roleless}/{region}"]
        assert "StackSets never deploy to the management account" in failed[f"{management}/{region}"]
    assert len(failed) == 2 * len(REGIONS)  # every other target completed
    assert summary["profilesChecked"] == sum(len(a.estate.profiles) for a in organization.governed if a.estate)
    text = alerts[0].text
    for account in organization.governed:
        assert f"  Account {account.account_id} ({account.name})" in text
    assert f"{organization.roleless.account_id} ({organization.roleless.name}) us-east-1: AccessDenied" in text


def test_a_second_run_and_a_retried_schedule_send_nothing_new(organization: Organization) -> None:
    organization.run("TagComplianceStateMachine", organization.now)  # the first run, if not done yet
    before = len(organization.alerts())
    again = organization.run("TagComplianceStateMachine", organization.now + timedelta(hours=1))
    assert again["alert"] == "nothing-new"
    retried = organization.run("TagComplianceStateMachine", organization.now)
    assert retried["alert"] == "nothing-new"
    assert len(organization.alerts()) == before


def test_idle_profiles_are_marked_and_deleted_through_each_member_role_within_one_cap(
    organization: Organization,
) -> None:
    first = organization.run("IdleProfileStateMachine", organization.now)
    idle = [
        (account, profile)
        for account in organization.governed
        for profile in (account.estate.profiles if account.estate else ())
        if profile.usage is Usage.IDLE
    ]
    assert first["counts"]["marked"] == len(idle) > MAX_DELETIONS
    for account, profile in idle:
        client = member_session(account.account_id).client("bedrock", region_name=profile.region)
        tags = {t["key"]: t["value"] for t in client.list_tags_for_resource(resourceARN=profile.arn)["tags"]}
        assert "governance:idle-since" in tags

    # Past the grace period (14 days): deletions, at most MaxDeletionsPerRun for the organization.
    later = organization.run("IdleProfileStateMachine", organization.now + timedelta(days=15))
    deleted = later["deleted"]
    assert len(deleted) == MAX_DELETIONS
    assert later["counts"]["deferredByCap"] == len(idle) - MAX_DELETIONS
    bucket = organization.stack.outputs["GovernanceBucketName"]
    s3 = boto3.client("s3", region_name="us-east-1")
    recorded_arns = set()
    for record_uri in later["deletionRecords"]:
        key = record_uri.removeprefix(f"s3://{bucket}/")
        record = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        # The account is in the record and in its key: deletion-records/<account>/<region>/<name>/<id>.json
        assert key.split("/")[1] == record["account"]
        assert record["status"] == "deleted"
        assert record["oldArn"].split(":")[4] == record["account"]
        recorded_arns.add(record["oldArn"])
        client = member_session(record["account"]).client("bedrock", region_name=record["region"])
        names = [
            p["inferenceProfileName"]
            for p in client.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"]
        ]
        assert record["profileName"] not in names
    # One record per deleted profile, each in the account the profile lived in.
    assert recorded_arns == set(deleted)


def test_an_account_that_joins_an_ou_later_gets_the_member_role(organization: Organization) -> None:
    organizations = boto3.client("organizations", region_name="us-east-1")
    status = organizations.create_account(AccountName="newcomer", Email="newcomer@example.com")
    account_id = status["CreateAccountStatus"]["AccountId"]
    organizations.move_account(
        AccountId=account_id,
        SourceParentId=organization.estate.root_id,
        DestinationParentId=organization.estate.ou_ids["Research"],
    )
    role = member_session(account_id).client("iam").get_role(RoleName=MEMBER_ROLE)["Role"]
    assert role["RoleName"] == MEMBER_ROLE


def test_the_central_roles_assume_only_the_member_role_inside_the_organization(organization: Organization) -> None:
    for function in ("OrganizationWorkerFunction", "IdleProfileFunction"):
        statements = [s for p in organization.stack.role_policy_documents(function) for s in p.statements]
        assuming = [s for s in statements if "sts:AssumeRole" in json.dumps(s.get("Action"))]
        assert len(assuming) == 1
        assert assuming[0]["Resource"] == f"arn:aws:iam::*:role/{MEMBER_ROLE}"
        assert assuming[0]["Condition"] == {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}


MEMBER_SERVICES = ("bedrock:", "tag:", "cloudwatch:")


def member_role_actions(account_id: str) -> set[str]:
    iam = member_session(account_id).client("iam")
    actions: set[str] = set()
    for name in iam.list_role_policies(RoleName=MEMBER_ROLE)["PolicyNames"]:
        document: Any = iam.get_role_policy(RoleName=MEMBER_ROLE, PolicyName=name)["PolicyDocument"]
        # A role made by moto's CloudFormation (the StackSet's instance) holds its inline policy as
        # a Python repr, where IAM holds JSON.
        parsed = ast.literal_eval(document) if isinstance(document, str) else document
        for statement in parsed["Statement"]:
            action = statement["Action"]
            actions |= set(action if isinstance(action, list) else [action])
    return actions


def test_every_call_of_an_organization_run_is_allowed_by_the_role_that_makes_it(organization: Organization) -> None:
    from tests.integration.test_hardening_template import allowed_actions, called_actions  # noqa: PLC0415

    with count_api_calls() as calls:
        organization.run("TagComplianceStateMachine", organization.now + timedelta(days=2))
        organization.run("IdleProfileStateMachine", organization.now + timedelta(days=2))
    # Lambda, Scheduler and Step Functions calls are the harness's own (it plays the scheduler and the engine).
    called = {
        a for a in called_actions(calls) if not a.startswith(("lambda:", "scheduler:", "states:", "stepfunctions:"))
    }
    # Calls in member accounts are the member role's; the others the central functions' roles.
    in_members = {a for a in called if a.startswith(MEMBER_SERVICES)}
    central = called - in_members
    member = member_role_actions(organization.governed[0].account_id)
    assert in_members <= member, f"the member role lacks {sorted(in_members - member)}"
    central_roles = set()
    for function in ("OrganizationWorkerFunction", "TagComplianceFunction", "IdleProfileFunction"):
        central_roles |= allowed_actions(organization.stack, function)
    assert central <= central_roles, f"the central roles lack {sorted(central - central_roles)}"
    assert {"sts:AssumeRole", "organizations:ListAccounts", "s3:GetObject", "s3:PutObject"} <= central
    assert {"bedrock:ListInferenceProfiles", "tag:GetResources", "cloudwatch:GetMetricData"} <= in_members
    # Nothing the member role does not need: each of its actions is one a worker calls (or a write the
    # idle run makes once marks or deletions are due: tagging, deleting).
    writes = {
        "bedrock:TagResource",
        "bedrock:UntagResource",
        "bedrock:DeleteInferenceProfile",
        "bedrock:GetInferenceProfile",
        "tag:TagResources",
        "tag:UntagResources",
        "bedrock:ListTagsForResource",
    }
    assert member - in_members <= writes


def test_no_new_role_allows_a_wildcard_action(organization: Organization) -> None:
    for logical_id in ("TagComplianceStateMachineRole", "IdleProfileStateMachineRole"):
        for statement in (s for p in organization.stack.role_policy_documents(logical_id) for s in p.statements):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not [a for a in actions if "*" in a], f"{logical_id}: {statement}"
    for statement in (
        s for p in organization.stack.role_policy_documents("OrganizationWorkerFunction") for s in p.statements
    ):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not [a for a in actions if "*" in a]
    assert not [a for a in member_role_actions(organization.governed[0].account_id) if "*" in a]
