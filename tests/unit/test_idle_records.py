"""Deletion records: the source a profile was copied from, the record's round trip, restoring."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_governance.aws.bedrock import CreatedProfile
from bedrock_governance.core.models import IDLE_SINCE_TAG
from bedrock_governance.idle.records import (
    FOUNDATION_MODEL,
    NEW_ARN_NOTICE,
    SYSTEM_PROFILE,
    DeletionRecord,
    InvalidDeletionRecord,
    build_record,
    copy_source_for,
)
from bedrock_governance.profiles import restore_profile
from tests.unit.factories import profile

REGION = "us-east-1"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def fm(region: str, model: str = HAIKU) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model}"


def system(profile_id: str, *models: str, region: str = REGION) -> dict[str, Any]:
    return {
        "inferenceProfileArn": f"arn:aws:bedrock:{region}:123456789012:inference-profile/{profile_id}",
        "inferenceProfileId": profile_id,
        "models": [{"modelArn": arn} for arn in models],
        "type": "SYSTEM_DEFINED",
    }


US_HAIKU = system(f"us.{HAIKU}", fm("us-east-1"), fm("us-east-2"), fm("us-west-2"))
GLOBAL_HAIKU = system(f"global.{HAIKU}", fm("us-east-1"), "arn:aws:bedrock:::foundation-model/" + HAIKU)
SYSTEMS = [US_HAIKU, GLOBAL_HAIKU]


def test_one_model_in_the_profiles_region_was_copied_from_the_foundation_model() -> None:
    source = copy_source_for([fm(REGION)], REGION, SYSTEMS)
    assert source is not None
    assert (source.arn, source.kind) == (fm(REGION), FOUNDATION_MODEL)


def test_several_models_come_from_the_system_profile_with_the_same_set_in_any_order() -> None:
    source = copy_source_for([fm("us-west-2"), fm("us-east-1"), fm("us-east-2")], REGION, SYSTEMS)
    assert source is not None
    assert (source.arn, source.kind) == (US_HAIKU["inferenceProfileArn"], SYSTEM_PROFILE)


def test_a_global_profile_with_its_empty_region_model_is_recognised() -> None:
    models = [str(m["modelArn"]) for m in GLOBAL_HAIKU["models"]]
    source = copy_source_for(models, REGION, SYSTEMS)
    assert source is not None
    assert source.arn == GLOBAL_HAIKU["inferenceProfileArn"]


def test_a_single_model_from_another_region_needs_a_matching_system_profile() -> None:
    single = system("apac.some-model", fm("ap-south-1", "some-model"), region="ap-southeast-1")
    assert copy_source_for([fm("ap-south-1", "some-model")], "ap-southeast-1", []) is None
    source = copy_source_for([fm("ap-south-1", "some-model")], "ap-southeast-1", [single])
    assert source is not None
    assert source.kind == SYSTEM_PROFILE


def test_no_match_means_no_source() -> None:
    assert copy_source_for([fm("us-east-1"), fm("us-east-2")], REGION, SYSTEMS) is None
    assert copy_source_for([], REGION, SYSTEMS) is None


def test_several_matching_system_profiles_are_named_in_the_explanation() -> None:
    twin = system(f"us.twin.{HAIKU}", fm("us-east-1"), fm("us-east-2"), fm("us-west-2"))
    source = copy_source_for([fm("us-east-1"), fm("us-east-2"), fm("us-west-2")], REGION, [twin, US_HAIKU])
    assert source is not None
    assert source.arn == min(twin["inferenceProfileArn"], US_HAIKU["inferenceProfileArn"])
    assert "1 other system profile" in source.explanation


def record(tags: Mapping[str, str] | None = None, **details: Any) -> DeletionRecord:
    p = profile("chat-bot", tags=tags, profile_id="abcdefghijkl")
    source = copy_source_for(list(p.model_arns), p.region, [])
    assert source is not None
    return build_record(
        p,
        {"inferenceProfileName": p.name, "description": "Chat bot", "models": [{"modelArn": p.model_arns[0]}]}
        | details,
        tags or {},
        source,
        last_used=datetime(2026, 4, 1, 6, tzinfo=UTC),
        last_use_text="between ...",
        usage_read_since=datetime(2025, 12, 1, tzinfo=UTC),
        idle_since="2026-05-20",
        reason="idle",
        deleted_at=datetime(2026, 6, 15, 6, 30, tzinfo=UTC),
    )


def test_the_record_keeps_every_tag_but_the_idle_mark() -> None:
    tags = {"Owner": "ana@example.com", "Project": "Chat", "governance:keep": "false", IDLE_SINCE_TAG: "2026-05-20"}
    rec = record(tags)
    assert dict(rec.tags) == {"Owner": "ana@example.com", "Project": "Chat", "governance:keep": "false"}
    assert dict(rec.original_tags) == tags
    document = rec.to_json()
    assert document["oldArn"].endswith("/abcdefghijkl")
    assert document["oldId"] == "abcdefghijkl"
    assert document["copyFrom"] == rec.copy_from
    assert document["lastUse"] == "2026-04-01T06:00:00+00:00"
    assert document["restore"]["notice"] == NEW_ARN_NOTICE
    assert "NEW ARN" in NEW_ARN_NOTICE
    assert rec.key == "deletion-records/us-east-1/chat-bot/abcdefghijkl.json"


tag_text = st.text(alphabet=st.sampled_from("abcXYZ019 ._:/=+@-"), min_size=1, max_size=20)


@given(tags=st.dictionaries(tag_text, st.text(alphabet="abc 019._-", max_size=20), max_size=10), status=tag_text)
def test_the_record_survives_json(tags: dict[str, str], status: str) -> None:
    rec = record(tags).with_status(status, "detail")
    again = DeletionRecord.from_json(json.loads(json.dumps(rec.to_json())))
    assert again == rec


@pytest.mark.parametrize(
    "document",
    [{}, {"type": "something-else", "version": 1}, {"type": "bedrock-inference-profile-deletion-record", "version": 1}],
)
def test_a_document_that_is_not_a_record_is_refused(document: dict[str, Any]) -> None:
    with pytest.raises(InvalidDeletionRecord):
        DeletionRecord.from_json(document)


class FakeBedrock:
    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []

    def create_profile(self, **request: Any) -> CreatedProfile:
        self.created.append(request)
        return CreatedProfile(
            arn="arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/newnewnewnew", status="ACTIVE"
        )


def test_restore_recreates_name_description_source_and_tags_and_returns_the_new_arn() -> None:
    rec = record({"Owner": "ana@example.com", IDLE_SINCE_TAG: "2026-05-20"})
    bedrock = FakeBedrock()
    new_arn = restore_profile(rec, bedrock, client_request_token="restore-abcdefghijkl")
    assert new_arn != rec.old_arn
    (request,) = bedrock.created
    assert request == {
        "name": "chat-bot",
        "copy_from": rec.copy_from,
        "tags": {"Owner": "ana@example.com"},
        "description": "Chat bot",
        "client_request_token": "restore-abcdefghijkl",
    }


def test_the_restore_command_is_a_complete_cli_call() -> None:
    command = record({"Owner": "ana@example.com"}).restore_command()
    assert command.startswith(
        "aws bedrock create-inference-profile --region us-east-1 --inference-profile-name chat-bot"
    )
    assert "--model-source copyFrom=" in command
    assert "key=Owner,value=ana@example.com" in command


def test_deleted_at_is_kept_to_the_second() -> None:
    rec = record()
    assert DeletionRecord.from_json(rec.to_json()).deleted_at - rec.deleted_at == timedelta(0)
