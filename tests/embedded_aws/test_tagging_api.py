"""Resource Groups Tagging API over the embedded AWS, checked against docs/aws-behaviour.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
HAIKU_ARN = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
PROFILE_TYPE = "bedrock:application-inference-profile"
ShapeCheck = Callable[[Any, str, str], None]


def create(bedrock: Any, name: str, tags: dict[str, str] | None = None) -> str:
    response = bedrock.create_inference_profile(
        inferenceProfileName=name,
        modelSource={"copyFrom": HAIKU_ARN},
        tags=[{"key": k, "value": v} for k, v in (tags or {}).items()],
    )
    return str(response["inferenceProfileArn"])


def by_arn(response: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {m["ResourceARN"]: {t["Key"]: t["Value"] for t in m["Tags"]} for m in response["ResourceTagMappingList"]}


def all_pages(tagging: Any, **kwargs: Any) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for page in tagging.get_paginator("get_resources").paginate(**kwargs):
        found.update(by_arn(page))
    return found


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


# --- which profiles appear ---------------------------------------------------------------------


def test_never_tagged_profiles_are_absent_once_tagged_ones_stay(
    bedrock: Any, tagging: Any, check_shape: ShapeCheck
) -> None:
    never = create(bedrock, "never")
    tagged = create(bedrock, "tagged", {"Project": "A"})
    later = create(bedrock, "later")
    bedrock.tag_resource(resourceARN=later, tags=[{"key": "Team", "value": "x"}])
    emptied = create(bedrock, "emptied", {"Project": "B"})
    bedrock.untag_resource(resourceARN=emptied, tagKeys=["Project"])

    response = tagging.get_resources(ResourceTypeFilters=[PROFILE_TYPE])
    check_shape(response, "resourcegroupstaggingapi", "GetResources")
    found = by_arn(response)

    assert never not in found
    assert found[tagged] == {"Project": "A"}
    assert found[later] == {"Team": "x"}
    # "Resources that were previously tagged, but do not currently have tags" come with Tags [].
    assert found[emptied] == {}
    assert response["PaginationToken"] == ""


def test_resource_type_filters(bedrock: Any, tagging: Any) -> None:
    profile = create(bedrock, "p1", {"Project": "A"})
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="alerts", Tags=[{"Key": "Project", "Value": "A"}])
    topic_arn = topic["TopicArn"]

    assert set(all_pages(tagging, ResourceTypeFilters=[PROFILE_TYPE])) == {profile}
    assert set(all_pages(tagging, ResourceTypeFilters=["bedrock"])) == {profile}
    assert set(all_pages(tagging, ResourceTypeFilters=["sns"])) == {topic_arn}
    assert set(all_pages(tagging)) == {profile, topic_arn}


def test_tag_filters(bedrock: Any, tagging: Any) -> None:
    a = create(bedrock, "a", {"Project": "A", "Env": "prod"})
    b = create(bedrock, "b", {"Project": "B", "Env": "prod"})
    c = create(bedrock, "c", {"project": "A"})  # keys are case-sensitive

    assert set(all_pages(tagging, TagFilters=[{"Key": "Project"}])) == {a, b}
    assert set(all_pages(tagging, TagFilters=[{"Key": "Project", "Values": ["A"]}])) == {a}
    assert set(all_pages(tagging, TagFilters=[{"Key": "Project", "Values": ["A", "B"]}])) == {a, b}
    assert set(
        all_pages(tagging, TagFilters=[{"Key": "Env", "Values": ["prod"]}, {"Key": "Project", "Values": ["B"]}])
    ) == {b}
    assert set(all_pages(tagging, TagFilters=[{"Key": "project"}])) == {c}


def test_profiles_of_another_region_are_not_listed(aws: None, tagging: Any) -> None:
    west = boto3.client("bedrock", region_name="us-west-2")
    west.create_inference_profile(
        inferenceProfileName="west",
        modelSource={"copyFrom": HAIKU_ARN.replace(REGION, "us-west-2")},
        tags=[{"key": "Project", "value": "A"}],
    )
    assert all_pages(tagging) == {}
    assert len(all_pages(boto3.client("resourcegroupstaggingapi", region_name="us-west-2"))) == 1


def test_deleted_profiles_disappear(bedrock: Any, tagging: Any) -> None:
    arn = create(bedrock, "gone", {"Project": "A"})
    bedrock.delete_inference_profile(inferenceProfileIdentifier=arn)
    assert all_pages(tagging) == {}


# --- ResourceARNList ---------------------------------------------------------------------------


def test_100_arns_are_answered_whole_in_one_response(bedrock: Any, tagging: Any) -> None:
    # Three tags each: moto alone would have split this answer into pages of about 100 tags.
    arns = [create(bedrock, f"p{i:03d}", {"Project": f"P{i}", "Team": "t", "Env": "dev"}) for i in range(100)]
    response = tagging.get_resources(ResourceARNList=arns)
    assert response["PaginationToken"] == ""
    assert [m["ResourceARN"] for m in response["ResourceTagMappingList"]] == arns
    assert by_arn(response)[arns[7]] == {"Project": "P7", "Team": "t", "Env": "dev"}


def test_101_arns_are_rejected(bedrock: Any, tagging: Any) -> None:
    arns = [f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:application-inference-profile/{i:012d}" for i in range(101)]
    with pytest.raises(ClientError) as error:
        tagging.get_resources(ResourceARNList=arns)
    assert error_code(error) == "InvalidParameterException"


@pytest.mark.parametrize(
    "extra",
    [
        {"ResourceTypeFilters": [PROFILE_TYPE]},
        {"TagFilters": [{"Key": "Project"}]},
        {"PaginationToken": "abc"},
        {"ResourcesPerPage": 50},
        {"TagsPerPage": 100},
    ],
    ids=lambda extra: next(iter(extra)),
)
def test_arn_list_cannot_be_combined(bedrock: Any, tagging: Any, extra: dict[str, Any]) -> None:
    arn = create(bedrock, "p1", {"Project": "A"})
    with pytest.raises(ClientError) as error:
        tagging.get_resources(ResourceARNList=[arn], **extra)
    assert error_code(error) == "InvalidParameterException"


def test_unknown_and_never_tagged_arns_are_left_out(bedrock: Any, tagging: Any) -> None:
    tagged = create(bedrock, "tagged", {"Project": "A"})
    never = create(bedrock, "never")
    unknown = f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:application-inference-profile/abcdefghijkl"
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="t", Tags=[{"Key": "Project", "Value": "A"}])
    response = tagging.get_resources(ResourceARNList=[unknown, tagged, never, topic["TopicArn"], "arn:aws:s3:::nope"])
    assert list(by_arn(response)) == [tagged, topic["TopicArn"]]
    assert response["PaginationToken"] == ""


# --- paging without ARN list -------------------------------------------------------------------


def test_resources_per_page_still_pages(bedrock: Any, tagging: Any) -> None:
    arns = {create(bedrock, f"p{i}", {"Project": "A"}) for i in range(7)}
    sizes = []
    seen: set[str] = set()
    token = ""
    while True:
        kwargs: dict[str, Any] = {"ResourcesPerPage": 3}
        if token:
            kwargs["PaginationToken"] = token
        page = tagging.get_resources(**kwargs)
        sizes.append(len(page["ResourceTagMappingList"]))
        seen |= set(by_arn(page))
        token = page["PaginationToken"]
        if not token:
            break
    assert sizes == [3, 3, 1]
    assert seen == arns
    assert set(all_pages(tagging, PaginationConfig={"PageSize": 2})) == arns


# --- TagResources / UntagResources -------------------------------------------------------------


def test_tag_resources_reaches_bedrock_profiles(bedrock: Any, tagging: Any) -> None:
    arn = create(bedrock, "p1")
    unknown = f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:application-inference-profile/abcdefghijkl"
    failed = tagging.tag_resources(ResourceARNList=[arn, unknown], Tags={"Project": "A"})["FailedResourcesMap"]
    assert set(failed) == {unknown}
    assert failed[unknown]["ErrorCode"] == "InvalidParameterException"
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "Project", "value": "A"}]

    assert tagging.untag_resources(ResourceARNList=[arn], TagKeys=["Project"])["FailedResourcesMap"] == {}
    assert by_arn(tagging.get_resources(ResourceARNList=[arn])) == {arn: {}}
