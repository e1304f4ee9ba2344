"""The governed create and restore of profiles.py, against in-memory fakes: every check before one create."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from bedrock_governance.aws.bedrock import CreatedProfile
from bedrock_governance.core.models import InferenceProfile
from bedrock_governance.idle.records import DeletionRecord, build_record, copy_source_for
from bedrock_governance.profiles import (
    ProfileRefused,
    create_planned,
    plan_create,
    plan_restore,
    restore_planned,
)
from bedrock_governance.tags.policy import TagPolicy
from tests.unit.factories import profile

REGION = "us-east-1"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
POLICY = TagPolicy(required_keys=("Project", "Owner"), allowed_values={"Project": ("Chatbot",)})
GOOD_TAGS = {"Project": "Chatbot", "Owner": "ana@example.com"}


def model(model_id: str) -> dict[str, Any]:
    return {
        "modelId": model_id,
        "modelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{model_id}",
        "inferenceTypesSupported": ["ON_DEMAND"],
    }


class FakeBedrock:
    """A region's catalog and create call, in memory; every create is kept."""

    def __init__(self, *, models: list[Mapping[str, Any]], existing: list[InferenceProfile] | None = None) -> None:
        self.models = models
        self.existing = existing or []
        self.creates: list[dict[str, Any]] = []

    def list_application_profiles(self) -> list[InferenceProfile]:
        return list(self.existing)

    def list_foundation_models(self) -> list[Mapping[str, Any]]:
        return list(self.models)

    def list_system_profiles(self) -> list[Mapping[str, Any]]:
        return []

    def create_profile(
        self,
        *,
        name: str,
        copy_from: str,
        tags: Mapping[str, str],
        description: str | None = None,
        client_request_token: str | None = None,
    ) -> CreatedProfile:
        self.creates.append(
            {
                "name": name,
                "copy_from": copy_from,
                "tags": dict(tags),
                "description": description,
                "client_request_token": client_request_token,
            }
        )
        return CreatedProfile(
            arn=f"arn:aws:bedrock:{REGION}:123456789012:application-inference-profile/new", status="ACTIVE"
        )


def plan(bedrock: FakeBedrock, *, name: str = "chat-bot", tags: Mapping[str, str] = GOOD_TAGS) -> Any:
    return plan_create(
        name=name, model=HAIKU, tags=tags, description=None, region=REGION, policy=POLICY, catalog=bedrock
    )


def record(tags: Mapping[str, str] | None = None) -> DeletionRecord:
    p = profile("chat-bot", tags=tags, profile_id="abcdefghijkl")
    source = copy_source_for(list(p.model_arns), p.region, [])
    assert source is not None
    return build_record(
        p,
        {"inferenceProfileName": p.name, "description": "Chat bot", "models": [{"modelArn": p.model_arns[0]}]},
        tags or {},
        source,
        last_used=datetime(2026, 4, 1, 6, tzinfo=UTC),
        last_use_text="between ...",
        usage_read_since=datetime(2025, 12, 1, tzinfo=UTC),
        idle_since="2026-05-20",
        reason="idle",
        deleted_at=datetime(2026, 6, 15, 6, 30, tzinfo=UTC),
    )


# --- create


def test_a_refused_tag_policy_creates_nothing() -> None:
    bedrock = FakeBedrock(models=[model(HAIKU)])
    with pytest.raises(ProfileRefused, match="do not follow the tag policy, nothing was created") as refused:
        plan(bedrock, tags={"Project": "Other", "Owner": "ana@example.com"})
    assert "Project" in str(refused.value)
    assert bedrock.creates == []


def test_a_name_aws_would_refuse_is_refused_before_any_listing() -> None:
    bedrock = FakeBedrock(models=[model(HAIKU)])
    with pytest.raises(ProfileRefused, match="AWS would reject this profile, nothing was created"):
        plan(bedrock, name="-bad name!")
    assert bedrock.creates == []


def test_a_taken_name_creates_nothing() -> None:
    bedrock = FakeBedrock(models=[model(HAIKU)], existing=[profile("chat-bot")])
    with pytest.raises(ProfileRefused, match='name: "chat-bot" is taken'):
        plan(bedrock)
    assert bedrock.creates == []


def test_a_good_request_calls_create_once_with_a_client_request_token() -> None:
    bedrock = FakeBedrock(models=[model(HAIKU)])
    planned = plan(bedrock)
    assert planned.source.kind == "foundation-model"
    assert bedrock.creates == []  # planning only reads

    created = create_planned(planned, bedrock)

    assert len(bedrock.creates) == 1
    call = bedrock.creates[0]
    assert call["name"] == "chat-bot"
    assert call["copy_from"] == model(HAIKU)["modelArn"]
    assert call["tags"] == GOOD_TAGS
    assert call["client_request_token"]
    assert created.arn.endswith("/new")
    assert created.copy_from == call["copy_from"]


def test_a_given_client_request_token_is_passed_as_given() -> None:
    bedrock = FakeBedrock(models=[model(HAIKU)])
    create_planned(plan(bedrock), bedrock, client_request_token="token-1")
    assert [call["client_request_token"] for call in bedrock.creates] == ["token-1"]


# --- restore


def test_a_restore_against_the_tag_policy_re_creates_nothing() -> None:
    bedrock = FakeBedrock(models=[model(HAIKU)])
    with pytest.raises(ProfileRefused, match="nothing was re-created"):
        plan_restore(record({"Project": "Chatbot"}), extra_tags={}, policy=POLICY, catalog=bedrock)
    assert bedrock.creates == []


def test_a_restore_to_a_taken_name_re_creates_nothing() -> None:
    bedrock = FakeBedrock(models=[model(HAIKU)], existing=[profile("chat-bot")])
    with pytest.raises(ProfileRefused, match="is taken"):
        plan_restore(record(GOOD_TAGS), extra_tags={}, policy=POLICY, catalog=bedrock)
    assert bedrock.creates == []


def test_a_retired_model_yields_the_profiles_create_suggestion() -> None:
    old = record(GOOD_TAGS)
    assert old.copy_from.endswith(HAIKU)
    bedrock = FakeBedrock(models=[model(SONNET)])  # HAIKU retired from the region
    with pytest.raises(ProfileRefused) as refused:
        plan_restore(old, extra_tags={"Owner": "bo@example.com"}, policy=POLICY, catalog=bedrock)
    message = str(refused.value)
    assert f"{old.copy_from} is no longer offered in {REGION}" in message
    assert f"bedrock-governance profiles create --region {REGION} --name chat-bot --model {SONNET}" in message
    assert "--tag Owner=bo@example.com" in message  # the tags the restore would have applied
    assert "--description 'Chat bot'" in message
    assert bedrock.creates == []


def test_a_good_restore_calls_create_once_with_a_client_request_token() -> None:
    old = record(GOOD_TAGS)
    bedrock = FakeBedrock(models=[model(HAIKU)])
    planned = plan_restore(old, extra_tags={"Owner": "bo@example.com"}, policy=POLICY, catalog=bedrock)
    assert "key=Owner,value=bo@example.com" in planned.command

    restored = restore_planned(planned, bedrock)

    assert len(bedrock.creates) == 1
    call = bedrock.creates[0]
    assert call["name"] == "chat-bot"
    assert call["copy_from"] == old.copy_from
    assert call["tags"] == {"Project": "Chatbot", "Owner": "bo@example.com"}
    assert call["description"] == "Chat bot"
    assert call["client_request_token"]
    assert restored.old_arn == old.old_arn
    assert restored.arn.endswith("/new")
