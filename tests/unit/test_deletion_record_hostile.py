"""A deletion record is a file anyone with bucket access can edit: a hostile one is refused on
load, and every field of the printed and stored restore command is quoted."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_governance.core.errors import ConfigError
from bedrock_governance.core.settings import bedrock_regions, check_region, parse_regions
from bedrock_governance.idle.records import DeletionRecord, InvalidDeletionRecord

GOOD: dict[str, Any] = {
    "type": "bedrock-inference-profile-deletion-record", "version": 1, "status": "deleted",
    "region": "us-east-1", "profileName": "chat-bot", "description": "Chat bot",
    "copyFrom": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
    "tags": {"Project": "Chat"}, "oldArn": "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc",
    "oldId": "abc", "deletedAt": "2026-11-23T07:00:00+00:00",
}  # fmt: skip


def load(**changes: Any) -> DeletionRecord:
    return DeletionRecord.from_json({key: value for key, value in (GOOD | changes).items() if value is not None})


@pytest.mark.parametrize(
    "region", ["us-east-1 $(touch /tmp/pwned)", "us-east-1;rm -rf ~", "us-east-1`id`", "us-east-1\n--debug", ""]
)
def test_a_hostile_region_is_refused_on_load(region: str) -> None:
    with pytest.raises(InvalidDeletionRecord, match='field "region"'):
        load(region=region)


def test_every_field_of_the_restore_command_is_quoted() -> None:
    hostile = load(
        profileName="bot $(id)",
        description="it's `whoami`",
        copyFrom="arn:aws:bedrock:us-east-1::foundation-model/x; rm -rf ~",
        tags={"Project": "a' b", "k$(id)": "v"},
    )
    words = shlex.split(hostile.restore_command())
    assert words[:5] == ["aws", "bedrock", "create-inference-profile", "--region", "us-east-1"]
    assert words[words.index("--inference-profile-name") + 1] == "bot $(id)"
    assert words[words.index("--description") + 1] == "it's `whoami`"
    assert (
        words[words.index("--model-source") + 1] == "copyFrom=arn:aws:bedrock:us-east-1::foundation-model/x; rm -rf ~"
    )
    assert words[words.index("--tags") + 1 :] == ["key=Project,value=a' b", "key=k$(id),value=v"]
    assert hostile.to_json()["restore"]["awsCli"] == hostile.restore_command()


def test_the_region_is_quoted_in_the_command_even_when_built_directly() -> None:
    record = load()
    built = DeletionRecord(**{**record.__dict__, "region": "us-east-1 $(id)"})
    assert "--region 'us-east-1 $(id)'" in built.restore_command()


@given(st.text(min_size=1, max_size=30), st.text(max_size=30))
def test_any_name_and_description_come_back_as_one_word_each(name: str, description: str) -> None:
    record = DeletionRecord(**{**load().__dict__, "name": name, "description": description})
    words = shlex.split(record.restore_command())
    assert words[words.index("--inference-profile-name") + 1] == name
    if description:
        assert words[words.index("--description") + 1] == description


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([GOOD], "a deletion record is a JSON object, not a JSON list"),
        ("text", "a deletion record is a JSON object, not a JSON string"),
        (None, "a deletion record is a JSON object, not a JSON null"),
    ],
)
def test_a_document_that_is_not_an_object_is_refused(document: object, expected: str) -> None:
    with pytest.raises(InvalidDeletionRecord) as refused:
        DeletionRecord.from_json(document)
    assert str(refused.value) == expected


@pytest.mark.parametrize("field", ["region", "profileName", "copyFrom", "oldArn", "oldId", "deletedAt"])
def test_a_missing_field_is_named(field: str) -> None:
    with pytest.raises(InvalidDeletionRecord) as refused:
        load(**{field: None})
    assert str(refused.value) == f'the deletion record lacks the field "{field}"'


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"profileName": ["x"]}, 'field "profileName" must be a non-empty string, not a JSON list'),
        ({"tags": ["Project"]}, 'field "tags" must be an object of tag key to string value'),
        ({"tags": {"Project": 1}}, 'field "tags" must be an object of tag key to string value'),
        ({"modelArns": "arn"}, 'field "modelArns" must be a list of strings'),
        ({"deletedAt": "soon"}, "field \"deletedAt\" 'soon' is not an ISO 8601 time"),
        ({"createdAt": 5}, 'field "createdAt" must be an ISO 8601 time, not a JSON number'),
    ],
)
def test_a_field_of_the_wrong_kind_is_named(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidDeletionRecord) as refused:
        load(**changes)
    assert str(refused.value) == expected


def test_a_good_record_loads() -> None:
    record = load()
    assert (record.region, record.name, record.deleted_at) == (
        "us-east-1",
        "chat-bot",
        datetime(2026, 11, 23, 7, tzinfo=UTC),
    )


# --- the one region check (config.check_region) -------------------------------------------------------


def test_the_regions_the_tests_use_are_bedrock_regions() -> None:
    assert {"us-east-1", "us-west-2", "eu-central-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1"} <= set(
        bedrock_regions()
    )


def test_a_well_formed_typo_is_an_unknown_region_naming_the_setting() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_regions("us-east-1,eu-centrall-1", "GOVERNED_REGIONS", "us-east-1")
    assert refused.value.setting == "GOVERNED_REGIONS"
    assert str(refused.value).startswith("Invalid setting GOVERNED_REGIONS: unknown region 'eu-centrall-1' (Bedrock is")


def test_the_default_region_is_checked_too_naming_its_variable() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_regions("", "GOVERNED_REGIONS", "us-esat-1", "AWS_DEFAULT_REGION")
    assert refused.value.setting == "AWS_DEFAULT_REGION"
    assert check_region("eu-central-1", "--region") == "eu-central-1"
