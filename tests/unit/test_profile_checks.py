"""AWS's documented checks of CreateInferenceProfile, run before a call (pure), and the source checks of a restore."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_governance.profiles import (
    MAX_TAGS,
    ProfileProblem,
    description_problems,
    name_problems,
    profile_problems,
    source_offered,
    suggest_models,
    tag_problems,
)

GOOD_TAGS = {"Project": "Chatbot", "Owner": "ana@example.com", "Path": "a/b:c=d+e", "Note": "two words"}


def fields(problems: Sequence[ProfileProblem]) -> list[str]:
    return [problem.field for problem in problems]


@pytest.mark.parametrize("name", ["a", "chat-bot", "Chat bot 2", "x_y-z 1", "9" * 64])
def test_names_aws_accepts_pass(name: str) -> None:
    assert name_problems(name) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", "is empty"),
        ("x" * 65, "has 65 characters; at most 64"),
        ("-bot", "is not letters and digits"),
        ("chat--bot", "is not letters and digits"),
        ("chat  bot", "is not letters and digits"),
        ("chat.bot", "is not letters and digits"),
        ("bot!", "is not letters and digits"),
        ("büro", "is not letters and digits"),
    ],
)
def test_names_aws_refuses_are_refused(name: str, expected: str) -> None:
    (problem,) = name_problems(name)
    assert problem.field == "name"
    assert expected in problem.message


def test_a_taken_name_is_refused_and_names_are_case_sensitive() -> None:
    (problem,) = name_problems("chat-bot", {"chat-bot", "other"})
    assert problem.message == '"chat-bot" is taken: an application profile of that name exists'
    assert name_problems("Chat-bot", {"chat-bot"}) == []


def test_a_long_value_is_shown_cut_short() -> None:
    (problem,) = name_problems("!" * 60)
    assert '"' + "!" * 60 + '"' in problem.message
    (problem,) = description_problems("x!" * 90)
    assert '..." (180 characters)' in problem.message


@pytest.mark.parametrize("description", [None, "Support bot traffic", "v1.2: chat", "a_b-c d"])
def test_descriptions_aws_accepts_pass(description: str | None) -> None:
    assert description_problems(description) == []


@pytest.mark.parametrize(
    ("description", "expected"),
    [("", "is empty"), ("x" * 201, "has 201 characters; at most 200"), ("Hello, world", "may hold only")],
)
def test_descriptions_aws_refuses_are_refused(description: str, expected: str) -> None:
    (problem,) = description_problems(description)
    assert expected in problem.message


def test_tags_aws_accepts_pass() -> None:
    assert tag_problems(GOOD_TAGS) == []
    assert tag_problems({"Empty": ""}) == []
    assert tag_problems({f"k{i}": "v" for i in range(MAX_TAGS)}) == []


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"": "v"}, "the key has 0 characters; 1 to 128"),
        ({"k" * 129: "v"}, "the key has 129 characters; 1 to 128"),
        ({"k": "v" * 257}, "the value has 257 characters; at most 256"),
        ({"R&D": "v"}, "the key may hold only letters"),
        ({"Team": "R&D"}, 'the value "R&D" may hold only'),
        ({"Team": "Müller"}, "may hold only"),
        ({"aws:createdBy": "me"}, "keys starting with aws: are reserved for AWS"),
        ({"AWS:createdBy": "me"}, "keys starting with aws: are reserved for AWS"),
    ],
)
def test_tags_aws_refuses_are_refused(tags: dict[str, str], expected: str) -> None:
    (problem,) = tag_problems(tags)
    assert problem.field.startswith("tag ")
    assert expected in problem.message


def test_more_than_50_tags_are_refused() -> None:
    (problem,) = tag_problems({f"k{i}": "v" for i in range(MAX_TAGS + 1)})
    assert problem.describe() == "tags: 51 tags; a profile takes at most 50"


def test_every_problem_is_reported_at_once() -> None:
    problems = profile_problems("bad name!", "Hello, world", {"aws:x": "y", "ok": "R&D"}, {"bad name!"})
    assert fields(problems) == ["name", "description", 'tag "aws:x"', 'tag "ok"']


@given(st.text(alphabet=st.sampled_from("ab1 _-!."), max_size=80))
def test_the_name_check_agrees_with_a_plain_reading_of_the_pattern(name: str) -> None:
    separators = " _-"
    plain = (
        1 <= len(name) <= 64
        and name[0] not in separators
        and all(c.isascii() and (c.isalnum() or c in separators) for c in name)
        and not any(a in separators and b in separators for a, b in itertools.pairwise(name))
    )
    assert (name_problems(name) == []) == plain


# --- restore: is the record's source still offered? ---------------------------------------------------

REGION = "us-east-1"
FM = f"arn:aws:bedrock:{REGION}::foundation-model/"
MODELS = [
    {"modelId": "anthropic.claude-3-haiku-20240307-v1:0", "modelArn": f"{FM}anthropic.claude-3-haiku-20240307-v1:0",
     "inferenceTypesSupported": ["ON_DEMAND"]},
    {"modelId": "anthropic.claude-sonnet-4-20250514-v1:0", "modelArn": f"{FM}anthropic.claude-sonnet-4-20250514-v1:0",
     "inferenceTypesSupported": ["INFERENCE_PROFILE"]},
    {"modelId": "amazon.nova-lite-v1:0", "modelArn": f"{FM}amazon.nova-lite-v1:0",
     "inferenceTypesSupported": ["ON_DEMAND"]},
]  # fmt: skip
SONNET_4 = f"arn:aws:bedrock:{REGION}:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0"
SYSTEM = [{"inferenceProfileId": "us.anthropic.claude-sonnet-4-20250514-v1:0", "inferenceProfileArn": SONNET_4}]


def test_a_source_still_offered_is_found() -> None:
    assert source_offered(f"{FM}anthropic.claude-3-haiku-20240307-v1:0", MODELS, SYSTEM)
    assert source_offered(SONNET_4, MODELS, SYSTEM)


def test_a_retired_or_profile_only_source_is_not_offered() -> None:
    assert not source_offered(f"{FM}anthropic.claude-instant-v1", MODELS, SYSTEM)
    # Listed, but without on-demand inference: it cannot be copied directly any more.
    assert not source_offered(f"{FM}anthropic.claude-sonnet-4-20250514-v1:0", MODELS, SYSTEM)
    assert not source_offered(SONNET_4.replace("us.", "eu."), MODELS, SYSTEM)


def test_suggestions_are_current_models_of_the_same_provider_first() -> None:
    assert suggest_models(f"{FM}anthropic.claude-instant-v1", MODELS, SYSTEM) == [
        "anthropic.claude-3-haiku-20240307-v1:0",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "amazon.nova-lite-v1:0",
    ]
    assert suggest_models(f"{FM}amazon.titan-text-lite-v1", MODELS, SYSTEM, limit=1) == ["amazon.nova-lite-v1:0"]
    assert suggest_models(f"{FM}x.y", [], []) == []
