"""``set_profile_created_at``: backdating a profile in the embedded AWS, for age-based rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from embedded_aws.bedrock import ResourceNotFoundException, set_profile_created_at

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
HAIKU_ARN = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
SYSTEM_ID = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"


def create(bedrock: Any, name: str) -> str:
    arn = bedrock.create_inference_profile(inferenceProfileName=name, modelSource={"copyFrom": HAIKU_ARN})
    return str(arn["inferenceProfileArn"])


def test_a_backdated_profile_reports_its_new_created_at_everywhere(bedrock: Any) -> None:
    arn = create(bedrock, "old-one")
    other = create(bedrock, "new-one")
    then = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    set_profile_created_at(ACCOUNT_ID, REGION, arn, then)

    got = bedrock.get_inference_profile(inferenceProfileIdentifier=arn)
    assert got["createdAt"] == then
    assert got["updatedAt"] >= got["createdAt"]
    listed = {
        s["inferenceProfileArn"]: s["createdAt"]
        for s in bedrock.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"]
    }
    assert listed[arn] == then
    assert listed[other] > datetime.now(UTC) - timedelta(minutes=5)


def test_the_profile_id_works_too_and_other_time_zones_are_converted(bedrock: Any) -> None:
    arn = create(bedrock, "by-id")
    later = datetime(2031, 5, 6, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    set_profile_created_at(ACCOUNT_ID, REGION, arn.rsplit("/", 1)[1], later)
    got = bedrock.get_inference_profile(inferenceProfileIdentifier=arn)
    assert got["createdAt"] == later
    assert got["updatedAt"] >= later  # moving createdAt forward drags updatedAt along


def test_naive_times_system_profiles_and_unknown_profiles_are_refused(bedrock: Any) -> None:
    arn = create(bedrock, "strict")
    with pytest.raises(ValueError, match="timezone"):
        set_profile_created_at(ACCOUNT_ID, REGION, arn, datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="application"):
        set_profile_created_at(ACCOUNT_ID, REGION, SYSTEM_ID, datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ResourceNotFoundException, match="not found"):
        set_profile_created_at(ACCOUNT_ID, REGION, "zzzzzzzzzzzz", datetime(2025, 1, 1, tzinfo=UTC))
