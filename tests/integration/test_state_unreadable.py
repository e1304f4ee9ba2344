"""A saved state that cannot be read is treated as missing, named in the alert, and kept aside.

Before, a garbage ``state/tag-compliance.json`` or ``state/budgets.json`` crashed every run, so no
alert went out until someone found and deleted the object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.s3 import QUARANTINE_PREFIX
from bedrock_governance.budgets.config import BudgetConfig
from bedrock_governance.budgets.job import STATE_KEY as BUDGET_STATE_KEY
from bedrock_governance.budgets.job import BudgetJob
from bedrock_governance.tags.config import TagComplianceConfig
from bedrock_governance.tags.job import STATE_KEY, TagComplianceJob
from bedrock_governance.tags.state import AlertReason
from embedded_aws import embedded_aws
from embedded_aws.costexplorer import set_cost_allocation_tags
from embedded_aws.faults import Fault, inject_faults
from embedded_aws.inbox import sent_messages
from embedded_aws.seed import ALLOWED_TAG_VALUES, Compliance, EstateSpec, seed_estate

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
BUCKET = "governance-state"
REGIONS = ("us-east-1", "eu-central-1")
PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abcdefghijkl"

BAD_TAG_STATES = {
    "garbage bytes": b"\x00\xff\xfe not json at all",
    "a JSON array": b"[]",
    "wrong types": json.dumps({"version": 1, "lastDigestAt": None, "fingerprints": ["x"], "regionErrors": {}}).encode(),
    "a naive timestamp": json.dumps(
        {"version": 1, "lastDigestAt": "2026-11-25T07:00:00", "fingerprints": {}, "regionErrors": {}}
    ).encode(),
    "a key that is not an ARN": json.dumps(
        {"version": 1, "lastDigestAt": NOW.isoformat(), "fingerprints": {"chatbot": "f"}, "regionErrors": {}}
    ).encode(),
}


@pytest.fixture
def topic() -> Iterator[str]:
    with embedded_aws():
        arn = boto3.client("sns", region_name="us-east-1").create_topic(Name="alerts")["TopicArn"]
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield str(arn)


def put_state(key: str, body: bytes) -> None:
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=BUCKET, Key=key, Body=body)


def read(key: str) -> bytes:
    return bytes(boto3.client("s3", region_name="us-east-1").get_object(Bucket=BUCKET, Key=key)["Body"].read())


def quarantined() -> list[str]:
    listing = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=BUCKET, Prefix=QUARANTINE_PREFIX)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def tag_job(topic: str, regions: tuple[str, ...] = REGIONS) -> TagComplianceJob:
    config = TagComplianceConfig.from_env(
        {
            "ALERT_TOPIC_ARN": topic,
            "GOVERNED_REGIONS": ",".join(regions),
            "ALLOWED_TAG_VALUES": json.dumps(ALLOWED_TAG_VALUES),
            "AWS_REGION": "us-east-1",
            "STATE_BUCKET": BUCKET,
        }
    )
    return TagComplianceJob.from_config(config, ClientFactory())


def budget_job(topic: str, *, dry_run: bool = False) -> BudgetJob:
    config = BudgetConfig.from_env(
        {"ALERT_TOPIC_ARN": topic, "STATE_BUCKET": BUCKET, "GOVERNED_REGIONS": "us-east-1", "AWS_REGION": "us-east-1"}
    )
    return BudgetJob.from_config(config, ClientFactory(), dry_run=dry_run)


# --------------------------------------------------------------------------- tag compliance


@pytest.mark.parametrize("body", BAD_TAG_STATES.values(), ids=BAD_TAG_STATES.keys())
def test_an_unreadable_tag_state_gets_the_full_digest_out_and_is_kept_aside(topic: str, body: bytes) -> None:
    estate = seed_estate(EstateSpec(profiles=12, regions=REGIONS, now=NOW, usage=False, costs=False))
    violating = {p.arn for p in estate.profiles if p.compliance is not Compliance.COMPLIANT}
    put_state(STATE_KEY, body)

    result = tag_job(topic).run(NOW)

    assert result.decision.reason is AlertReason.DIGEST
    uri = f"s3://{BUCKET}/{STATE_KEY}"
    assert result.decision.explanation == f"saved state {uri} unreadable: full digest"
    (message,) = sent_messages(topic)
    assert (message.subject or "").startswith("Bedrock tag compliance digest:")
    assert "SAVED STATE UNREADABLE" in message.text
    assert f"The saved state {uri} could not be read" in message.text
    assert message.document is not None
    assert {f["arn"] for f in message.document["findings"]} == violating
    assert uri in message.document["unreadableState"]
    # The bad object is kept byte for byte, named in the alert, and a good state replaces it.
    (copy,) = quarantined()
    assert copy == f"{QUARANTINE_PREFIX}tag-compliance-2026-11-26T070000Z.json"
    assert read(copy) == body
    assert f"s3://{BUCKET}/{copy}" in message.text
    saved = json.loads(read(STATE_KEY))
    assert saved["lastDigestAt"] == NOW.isoformat()
    assert set(saved["fingerprints"]) == violating
    # And the next run reads it as usual: nothing new, nothing sent.
    assert tag_job(topic).run(NOW + timedelta(days=1)).decision.reason is AlertReason.NOTHING_NEW
    assert len(sent_messages(topic)) == 1


def test_a_copy_that_cannot_be_kept_does_not_stop_the_digest(topic: str) -> None:
    seed_estate(EstateSpec(profiles=6, regions=REGIONS, now=NOW, usage=False, costs=False))
    put_state(STATE_KEY, b"{not json")
    denied = Fault("s3", "PutObject", "AccessDenied", 403, "no quarantine for you", times=1)
    with inject_faults(denied):
        result = tag_job(topic).run(NOW)
    assert denied.fired == 1
    assert result.decision.reason is AlertReason.DIGEST
    (message,) = sent_messages(topic)
    assert "no copy could be kept (AccessDenied: no quarantine for you)" in message.text
    assert quarantined() == []
    assert json.loads(read(STATE_KEY))["lastDigestAt"] == NOW.isoformat()


def test_a_digest_dated_in_the_future_does_not_hold_the_digest_back(topic: str) -> None:
    seed_estate(EstateSpec(profiles=6, regions=REGIONS, now=NOW, usage=False, costs=False))
    tag_job(topic).run(NOW)
    state = json.loads(read(STATE_KEY))
    forged = NOW + timedelta(days=300)
    put_state(STATE_KEY, json.dumps(state | {"lastDigestAt": forged.isoformat()}).encode())

    later = tag_job(topic).run(NOW + timedelta(days=7))

    assert later.decision.reason is AlertReason.DIGEST
    assert forged.isoformat() in later.decision.explanation
    assert len(sent_messages(topic)) == 2
    assert json.loads(read(STATE_KEY))["lastDigestAt"] == (NOW + timedelta(days=7)).isoformat()


def test_findings_of_a_region_no_longer_governed_are_dropped_not_resolved(topic: str) -> None:
    estate = seed_estate(EstateSpec(profiles=12, regions=REGIONS, now=NOW, usage=False, costs=False))
    tag_job(topic).run(NOW)
    eu = {p.arn for p in estate.profiles if p.region == "eu-central-1" and p.compliance is not Compliance.COMPLIANT}
    assert eu

    result = tag_job(topic, regions=("us-east-1",)).run(NOW + timedelta(hours=1))

    assert result.decision.resolved == ()
    assert set(result.decision.ungoverned) == eu
    assert result.decision.reason is AlertReason.NOTHING_NEW  # nothing happened to any profile
    assert len(sent_messages(topic)) == 1
    saved = json.loads(read(STATE_KEY))
    assert not eu & set(saved["fingerprints"])
    assert result.summary()["droppedUngoverned"] == len(eu)


def test_the_digest_says_in_one_line_that_ungoverned_findings_were_dropped(topic: str) -> None:
    seed_estate(EstateSpec(profiles=12, regions=REGIONS, now=NOW, usage=False, costs=False))
    tag_job(topic).run(NOW)
    result = tag_job(topic, regions=("us-east-1",)).run(NOW + timedelta(days=7))
    assert result.decision.reason is AlertReason.DIGEST
    (_, digest) = sent_messages(topic)
    assert "RESOLVED" not in digest.text
    assert "(deleted)" not in digest.text
    assert [line for line in digest.text.splitlines() if "no longer governed" in line] == [
        f"Dropped {len(result.decision.ungoverned)} earlier finding"
        f"{'' if len(result.decision.ungoverned) == 1 else 's'} in regions no longer governed (eu-central-1)."
    ]


# --------------------------------------------------------------------------- budgets

BAD_BUDGET_STATES = {
    "garbage bytes": b"\x89PNG\r\n\x1a\n",
    "a malformed pending entry": json.dumps(
        {"version": 1, "announced": [], "pending": [{"project": "chat"}], "activationRefusedKeys": []}
    ).encode(),
}


@pytest.mark.parametrize("body", BAD_BUDGET_STATES.values(), ids=BAD_BUDGET_STATES.keys())
def test_an_unreadable_budget_state_is_named_in_the_summary_and_kept_aside(topic: str, body: bytes) -> None:
    set_cost_allocation_tags({"Project": "Active", "Environment": "Active", "CostCenter": "Active", "Owner": "Active"})
    put_state(BUDGET_STATE_KEY, body)

    result = budget_job(topic).run(NOW)

    uri = f"s3://{BUCKET}/{BUDGET_STATE_KEY}"
    (message,) = sent_messages(topic)
    assert f"The saved state {uri} could not be read" in message.text
    (copy,) = quarantined()
    assert copy == f"{QUARANTINE_PREFIX}budgets-2026-11-26T070000Z.json"
    assert read(copy) == body
    assert f"s3://{BUCKET}/{copy}" in message.text
    assert any(uri in error for error in result.summary()["errors"])
    # The good state written in its place is read by the next run, which has nothing to say.
    json.loads(read(BUDGET_STATE_KEY))
    budget_job(topic).run(NOW + timedelta(days=1))
    assert len(sent_messages(topic)) == 1


def test_a_dry_run_keeps_no_copy_and_writes_nothing(topic: str) -> None:
    set_cost_allocation_tags({"Project": "Active", "Environment": "Active", "CostCenter": "Active", "Owner": "Active"})
    put_state(BUDGET_STATE_KEY, b"garbage")
    result = budget_job(topic, dry_run=True).run(NOW)
    assert any("could not be read" in error for error in result.summary()["errors"])
    assert quarantined() == []
    assert read(BUDGET_STATE_KEY) == b"garbage"
