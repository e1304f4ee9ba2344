"""The one ARN parser (core.arn) and the one batching helper (core.batching)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_governance.core.arn import Arn, parse_arn, region_of
from bedrock_governance.core.batching import chunks

APPLICATION = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123xyz"
SYSTEM = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0"
FOUNDATION = "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"


def test_application_profile_arn() -> None:
    assert parse_arn(APPLICATION) == Arn(
        "aws", "bedrock", "eu-west-1", "123456789012", "application-inference-profile", "abc123xyz"
    )


def test_system_profile_arn_keeps_the_colon_of_the_model_version() -> None:
    arn = parse_arn(SYSTEM)
    assert (arn.region, arn.account, arn.resource_type) == ("us-east-1", "123456789012", "inference-profile")
    assert arn.resource_id == "us.anthropic.claude-3-haiku-20240307-v1:0"


def test_foundation_model_arn_has_an_empty_account() -> None:
    arn = parse_arn(FOUNDATION)
    assert arn.account == ""
    assert arn.region == "eu-west-1"
    assert (arn.resource_type, arn.resource_id) == ("foundation-model", "anthropic.claude-3-haiku-20240307-v1:0")


def test_empty_region_copied_from_a_global_profile() -> None:
    value = "arn:aws:bedrock::123456789012:inference-profile/global.anthropic.claude-sonnet-4-20250514-v1:0"
    arn = parse_arn(value)
    assert arn.region == ""
    assert region_of(value) == ""
    assert arn.account == "123456789012"
    assert str(arn) == value


def test_resource_without_a_type_is_all_id() -> None:
    value = "arn:aws-us-gov:sns:us-gov-west-1:123456789012:governance-alerts"
    arn = parse_arn(value)
    assert (arn.partition, arn.service, arn.resource_type, arn.resource_id) == (
        "aws-us-gov",
        "sns",
        "",
        "governance-alerts",
    )
    assert region_of(value) == "us-gov-west-1"
    assert str(arn) == value


def test_arn_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_arn(APPLICATION).region = "us-east-1"  # type: ignore[misc]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "arn",
        "abc123xyz",
        "arn:aws:bedrock:eu-west-1:123456789012",  # no resource field
        "arn:aws:bedrock:eu-west-1:123456789012:",  # empty resource
        "arn::bedrock:eu-west-1:123456789012:application-inference-profile/x",  # empty partition
        "arn:aws::eu-west-1:123456789012:application-inference-profile/x",  # empty service
        "arn:aws:bedrock:eu-west-1:123456789012:/x",  # empty resource type before '/'
        "urn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/x",
        "ARN:aws:bedrock:eu-west-1:123456789012:application-inference-profile/x",
    ],
)
def test_malformed_arns_raise(value: str) -> None:
    with pytest.raises(ValueError, match="not an ARN"):
        parse_arn(value)
    with pytest.raises(ValueError, match="not an ARN"):
        region_of(value)


_field = st.text(alphabet=st.characters(exclude_characters=":/"), max_size=12)


@given(
    partition=_field.filter(bool),
    service=_field.filter(bool),
    region=_field,
    account=_field,
    resource_type=_field.filter(bool),
    resource_id=st.text(max_size=30),
)
def test_parse_round_trips(
    *, partition: str, service: str, region: str, account: str, resource_type: str, resource_id: str
) -> None:
    value = f"arn:{partition}:{service}:{region}:{account}:{resource_type}/{resource_id}"
    arn = parse_arn(value)
    assert arn == Arn(partition, service, region, account, resource_type, resource_id)
    assert str(arn) == value
    assert region_of(value) == region


def test_chunks_splits_in_order() -> None:
    assert list(chunks(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunks("abcd", 2)) == [["a", "b"], ["c", "d"]]
    assert list(chunks([], 20)) == []
    assert list(chunks([1, 2], 100)) == [[1, 2]]


def test_chunks_batches_are_new_lists() -> None:
    items = (1, 2, 3)
    (batch,) = chunks(items, 5)
    assert isinstance(batch, list)
    batch.append(4)
    assert items == (1, 2, 3)


@pytest.mark.parametrize("size", [0, -1, -100])
def test_chunks_rejects_a_size_below_one_at_the_call(size: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        chunks([1, 2, 3], size)


@given(items=st.lists(st.integers(), max_size=300), size=st.integers(min_value=1, max_value=120))
def test_chunks_covers_every_item_once_in_order(items: list[int], size: int) -> None:
    batches = list(chunks(items, size))
    assert [item for batch in batches for item in batch] == items
    assert all(1 <= len(batch) <= size for batch in batches)
    # Only the last batch may be short, so the count is the ceiling of len/size.
    assert all(len(batch) == size for batch in batches[:-1])
    assert len(batches) == -(-len(items) // size)
