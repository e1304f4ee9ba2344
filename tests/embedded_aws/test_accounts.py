"""Several accounts as AWS has them: AssumeRole needs the role and its trust (moto grants any ARN)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from embedded_aws import embedded_aws
from embedded_aws.accounts import trust_allows
from embedded_aws.organization import member_session


@pytest.fixture
def member() -> Iterator[str]:
    with embedded_aws():
        organizations = boto3.client("organizations", region_name="us-east-1")
        organizations.create_organization(FeatureSet="ALL")
        status = organizations.create_account(AccountName="member", Email="member@example.com")
        yield status["CreateAccountStatus"]["AccountId"]


def assume(arn: str, session: boto3.session.Session | None = None) -> str:
    sts = (session or boto3.session.Session()).client("sts", region_name="us-east-1")
    credentials = sts.assume_role(RoleArn=arn, RoleSessionName="test")["Credentials"]
    assumed = boto3.session.Session(
        credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )
    return str(assumed.client("sts", region_name="us-east-1").get_caller_identity()["Arn"])


def denied(arn: str, session: boto3.session.Session | None = None) -> ClientError:
    with pytest.raises(ClientError) as raised:
        assume(arn, session)
    return raised.value


def test_a_role_that_does_not_exist_is_access_denied_as_in_aws(member: str) -> None:
    error = denied(f"arn:aws:iam::{member}:role/BedrockGovernanceMember")
    assert error.response["Error"]["Code"] == "AccessDenied"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "is not authorized to perform: sts:AssumeRole on resource" in error.response["Error"]["Message"]


def test_the_access_role_trusts_the_management_account_and_maps_to_the_member(member: str) -> None:
    arn = assume(f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole")
    assert arn == f"arn:aws:sts::{member}:assumed-role/OrganizationAccountAccessRole/test"


def test_a_role_trusting_one_role_arn_refuses_every_other_caller(member: str) -> None:
    iam = member_session(member).client("iam")
    trusted = "arn:aws:iam::123456789012:role/Central"
    iam.create_role(
        RoleName="Narrow",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}],
            }
        ),
    )
    management = boto3.client("iam", region_name="us-east-1")
    for name in ("Central", "Other"):
        management.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )

    def session_as(name: str) -> boto3.session.Session:
        sts = boto3.client("sts", region_name="us-east-1")
        arn = f"arn:aws:iam::123456789012:role/{name}"
        keys = sts.assume_role(RoleArn=arn, RoleSessionName="central")["Credentials"]
        return boto3.session.Session(keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"])

    narrow = f"arn:aws:iam::{member}:role/Narrow"
    assert assume(narrow, session_as("Central")).startswith(f"arn:aws:sts::{member}:assumed-role/Narrow/")
    assert denied(narrow, session_as("Other")).response["Error"]["Code"] == "AccessDenied"
    assert denied(narrow).response["Error"]["Code"] == "AccessDenied"  # the account's own user


def test_trust_conditions_and_explicit_denies() -> None:
    caller = {
        "caller_arn": "arn:aws:sts::1:assumed-role/R/s",
        "caller_account": "1",
        "caller_role_arn": "arn:aws:iam::1:role/R",
    }
    allow_any = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    assert trust_allows({"Statement": [allow_any]}, **caller)
    in_org = {**allow_any, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-nope"}}}
    assert not trust_allows({"Statement": [in_org]}, **caller)
    like = {**allow_any, "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/*"}}}
    assert trust_allows({"Statement": [like]}, **caller)
    unknown = {**allow_any, "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}}
    assert not trust_allows({"Statement": [unknown]}, **caller)
    deny = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:*"}
    assert not trust_allows({"Statement": [allow_any, deny]}, **caller)
    other_action = {**allow_any, "Action": "sts:TagSession"}
    assert not trust_allows({"Statement": [other_action]}, **caller)
