"""The embedded Bedrock inference-profile API, checked against docs/aws-behaviour.md through real boto3 clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from embedded_aws import bedrock as embedded_bedrock
from embedded_aws import catalog

ACCOUNT_ID = "123456789012"  # moto's account for the fake credentials
REGION = "us-east-1"
ShapeCheck = Callable[[Any, str, str], None]
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
HAIKU_ARN = f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}"
SONNET_37 = "anthropic.claude-3-7-sonnet-20250219-v1:0"  # INFERENCE_PROFILE only, everywhere
SONNET_4 = "anthropic.claude-sonnet-4-20250514-v1:0"
US_SONNET_37_ARN = f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:inference-profile/us.{SONNET_37}"
GLOBAL_SONNET_4_ARN = f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:inference-profile/global.{SONNET_4}"
APPLICATION_ARN = re.compile(rf"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:application-inference-profile/[a-z0-9]{{12}}")


def create(client: Any, name: str, copy_from: str = HAIKU_ARN, **extra: Any) -> str:
    response = client.create_inference_profile(inferenceProfileName=name, modelSource={"copyFrom": copy_from}, **extra)
    return str(response["inferenceProfileArn"])


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def status(error: pytest.ExceptionInfo[ClientError]) -> int:
    return int(error.value.response["ResponseMetadata"]["HTTPStatusCode"])


def unvalidated_client() -> Any:
    """A client that sends what botocore would refuse, to see the server's own validation."""
    return boto3.client("bedrock", region_name=REGION, config=Config(parameter_validation=False))


# --- create / get ------------------------------------------------------------------------------


def test_create_returns_an_application_arn_and_active(bedrock: Any, check_shape: ShapeCheck) -> None:
    response = bedrock.create_inference_profile(
        inferenceProfileName="project-a chat_bot", modelSource={"copyFrom": HAIKU_ARN}
    )
    check_shape(response, "bedrock", "CreateInferenceProfile")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert APPLICATION_ARN.fullmatch(response["inferenceProfileArn"])
    assert response["status"] == "ACTIVE"


def test_get_by_id_and_by_arn_has_the_real_shape(bedrock: Any, check_shape: ShapeCheck) -> None:
    before = datetime.now(UTC)
    arn = create(bedrock, "p1", description="Claude for project A", tags=[{"key": "Project", "value": "A"}])
    profile_id = arn.rsplit("/", 1)[1]

    by_arn = bedrock.get_inference_profile(inferenceProfileIdentifier=arn)
    by_id = bedrock.get_inference_profile(inferenceProfileIdentifier=profile_id)

    check_shape(by_arn, "bedrock", "GetInferenceProfile")
    by_arn.pop("ResponseMetadata")
    by_id.pop("ResponseMetadata")
    assert by_arn == by_id
    assert by_arn["inferenceProfileId"] == profile_id
    assert by_arn["inferenceProfileArn"] == arn
    assert by_arn["inferenceProfileName"] == "p1"
    assert by_arn["description"] == "Claude for project A"
    assert by_arn["type"] == "APPLICATION"
    assert by_arn["status"] == "ACTIVE"
    assert by_arn["models"] == [{"modelArn": HAIKU_ARN}]
    assert by_arn["createdAt"] == by_arn["updatedAt"]
    assert by_arn["createdAt"] >= before.replace(microsecond=0)
    assert "tags" not in by_arn


def test_copy_from_a_system_profile_takes_its_models(bedrock: Any) -> None:
    arn = create(bedrock, "cross-region", copy_from=US_SONNET_37_ARN)
    models = [m["modelArn"] for m in bedrock.get_inference_profile(inferenceProfileIdentifier=arn)["models"]]
    assert models == [
        f"arn:aws:bedrock:{region}::foundation-model/{SONNET_37}" for region in ("us-east-1", "us-east-2", "us-west-2")
    ]


def test_copy_from_a_global_profile_has_a_model_arn_with_an_empty_region(bedrock: Any) -> None:
    arn = create(bedrock, "global-profile", copy_from=GLOBAL_SONNET_4_ARN)
    models = [m["modelArn"] for m in bedrock.get_inference_profile(inferenceProfileIdentifier=arn)["models"]]
    assert f"arn:aws:bedrock:::foundation-model/{SONNET_4}" in models
    assert all(m.endswith(f"::foundation-model/{SONNET_4}") for m in models)


@pytest.mark.parametrize(
    ("region", "copy_from"),
    [
        pytest.param(REGION, f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-9-v1:0", id="unknown-model"),
        pytest.param(REGION, f"arn:aws:bedrock:us-west-2::foundation-model/{HAIKU}", id="model-of-another-region"),
        pytest.param(REGION, f"arn:aws:bedrock:{REGION}::foundation-model/{SONNET_37}", id="no-on-demand-us-east-1"),
        pytest.param(
            "eu-central-1",
            f"arn:aws:bedrock:eu-central-1::foundation-model/{SONNET_4}",
            id="no-on-demand-eu-central-1",
        ),
        pytest.param(
            REGION, f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:inference-profile/eu.{SONNET_37}", id="other-geography"
        ),
        pytest.param(
            REGION, f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:inference-profile/us.nope-v1:0", id="unknown-system"
        ),
        pytest.param(REGION, "not-an-arn", id="not-an-arn"),
    ],
)
def test_copy_from_must_be_a_foundation_model_or_system_profile_of_the_region(
    aws: None, region: str, copy_from: str
) -> None:
    client = boto3.client("bedrock", region_name=region)
    with pytest.raises(ClientError) as error:
        create(client, "p1", copy_from=copy_from)
    assert error_code(error) == "ValidationException"
    assert status(error) == 400


def test_copy_from_an_application_profile_is_rejected(bedrock: Any) -> None:
    arn = create(bedrock, "first")
    with pytest.raises(ClientError) as error:
        create(bedrock, "second", copy_from=arn)
    assert error_code(error) == "ValidationException"


def test_eu_central_1_reaches_current_models_through_eu_profiles(aws: None) -> None:
    client = boto3.client("bedrock", region_name="eu-central-1")
    arn = create(client, "eu", copy_from=f"arn:aws:bedrock:eu-central-1:{ACCOUNT_ID}:inference-profile/eu.{SONNET_4}")
    models = client.get_inference_profile(inferenceProfileIdentifier=arn)["models"]
    assert {m["modelArn"].split(":")[3] for m in models} <= {"eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1"}
    assert arn.startswith("arn:aws:bedrock:eu-central-1:")


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["x" * 65, "bad!name", "two  spaces", "-leading-dash", "dotted.name"],
)
def test_invalid_names_are_rejected(bedrock: Any, name: str) -> None:
    with pytest.raises(ClientError) as error:
        create(bedrock, name)
    assert error_code(error) == "ValidationException"
    assert "inferenceProfileName" in error.value.response["Error"]["Message"]


def test_name_limits_are_inclusive(bedrock: Any) -> None:
    assert create(bedrock, "x" * 64)
    assert create(bedrock, "a")


@pytest.mark.parametrize("description", ["d" * 201, ""])
def test_description_length_is_1_to_200(aws: None, description: str) -> None:
    with pytest.raises(ClientError) as error:
        create(unvalidated_client(), "p1", description=description)
    assert error_code(error) == "ValidationException"


def test_description_of_200_characters_is_accepted(bedrock: Any) -> None:
    arn = create(bedrock, "p1", description="d" * 200)
    assert bedrock.get_inference_profile(inferenceProfileIdentifier=arn)["description"] == "d" * 200


def test_empty_name_is_rejected_by_the_server_too(aws: None) -> None:
    with pytest.raises(ClientError) as error:
        create(unvalidated_client(), "")
    assert error_code(error) == "ValidationException"


# --- conflicts, idempotency, quota -------------------------------------------------------------


def test_duplicate_name_in_the_same_region_is_a_conflict(bedrock: Any) -> None:
    create(bedrock, "shared-name")
    with pytest.raises(ClientError) as error:
        create(bedrock, "shared-name")
    assert error_code(error) == "ConflictException"
    assert status(error) == 400


def test_same_name_in_another_region_is_fine(bedrock: Any) -> None:
    create(bedrock, "shared-name")
    other = boto3.client("bedrock", region_name="us-west-2")
    assert create(other, "shared-name", copy_from=f"arn:aws:bedrock:us-west-2::foundation-model/{HAIKU}")


def test_client_request_token_makes_a_retry_idempotent(bedrock: Any) -> None:
    first = create(bedrock, "p1", clientRequestToken="retry-1", tags=[{"key": "Project", "value": "A"}])
    again = create(bedrock, "p1", clientRequestToken="retry-1", tags=[{"key": "Project", "value": "A"}])
    assert again == first
    listed = bedrock.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"]
    assert [p["inferenceProfileArn"] for p in listed] == [first]


def test_reusing_a_token_for_a_different_request_is_rejected(bedrock: Any) -> None:
    create(bedrock, "p1", clientRequestToken="token-1")
    with pytest.raises(ClientError) as error:
        create(bedrock, "p2", clientRequestToken="token-1")
    assert error_code(error) == "ConflictException"


def test_quota_of_application_profiles(bedrock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded_bedrock, "PROFILE_QUOTA", 2)
    create(bedrock, "p1")
    create(bedrock, "p2")
    with pytest.raises(ClientError) as error:
        create(bedrock, "p3")
    assert error_code(error) == "ServiceQuotaExceededException"


# --- list --------------------------------------------------------------------------------------


def test_listing_without_a_type_shows_only_system_defined_profiles(bedrock: Any, check_shape: ShapeCheck) -> None:
    create(bedrock, "mine")
    response = bedrock.list_inference_profiles()
    check_shape(response, "bedrock", "ListInferenceProfiles")
    summaries = response["inferenceProfileSummaries"]
    assert summaries
    assert {s["type"] for s in summaries} == {"SYSTEM_DEFINED"}


def test_type_equals_filters(bedrock: Any, check_shape: ShapeCheck) -> None:
    arn = create(bedrock, "mine", description="mine")
    application = bedrock.list_inference_profiles(typeEquals="APPLICATION")
    check_shape(application, "bedrock", "ListInferenceProfiles")
    [summary] = application["inferenceProfileSummaries"]
    assert summary["inferenceProfileArn"] == arn
    assert summary["type"] == "APPLICATION"
    assert "tags" not in summary
    system = bedrock.list_inference_profiles(typeEquals="SYSTEM_DEFINED")["inferenceProfileSummaries"]
    assert arn not in {s["inferenceProfileArn"] for s in system}


def test_paging_250_profiles_with_max_results_100(bedrock: Any) -> None:
    created = [create(bedrock, f"profile-{i:03d}") for i in range(250)]
    sizes: list[int] = []
    seen: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"typeEquals": "APPLICATION", "maxResults": 100}
        if token:
            kwargs["nextToken"] = token
        page = bedrock.list_inference_profiles(**kwargs)
        sizes.append(len(page["inferenceProfileSummaries"]))
        seen += [s["inferenceProfileArn"] for s in page["inferenceProfileSummaries"]]
        token = page.get("nextToken")
        if not token:
            break
    assert sizes == [100, 100, 50]
    assert seen == created


def test_botocore_paginator_and_the_default_page_size(bedrock: Any) -> None:
    created = [create(bedrock, f"p{i}") for i in range(105)]
    first = bedrock.list_inference_profiles(typeEquals="APPLICATION")
    assert len(first["inferenceProfileSummaries"]) == embedded_bedrock.DEFAULT_PAGE_SIZE
    assert first["nextToken"]
    pages = bedrock.get_paginator("list_inference_profiles").paginate(
        typeEquals="APPLICATION", PaginationConfig={"PageSize": 1000}
    )
    assert [s["inferenceProfileArn"] for page in pages for s in page["inferenceProfileSummaries"]] == created


def test_a_deleted_profile_does_not_break_the_next_page(bedrock: Any) -> None:
    created = [create(bedrock, f"p{i}") for i in range(4)]
    page = bedrock.list_inference_profiles(typeEquals="APPLICATION", maxResults=2)
    bedrock.delete_inference_profile(inferenceProfileIdentifier=created[1])
    rest = bedrock.list_inference_profiles(typeEquals="APPLICATION", maxResults=2, nextToken=page["nextToken"])
    assert [s["inferenceProfileArn"] for s in rest["inferenceProfileSummaries"]] == created[2:]


@pytest.mark.parametrize("max_results", [0, 1001])
def test_max_results_must_be_1_to_1000(aws: None, max_results: int) -> None:
    with pytest.raises(ClientError) as error:
        unvalidated_client().list_inference_profiles(maxResults=max_results)
    assert error_code(error) == "ValidationException"


def test_an_invalid_next_token_is_rejected(bedrock: Any) -> None:
    with pytest.raises(ClientError) as error:
        bedrock.list_inference_profiles(typeEquals="APPLICATION", nextToken="not-a-token")
    assert error_code(error) == "ValidationException"


def test_a_token_of_the_other_type_is_rejected(bedrock: Any) -> None:
    system_token = bedrock.list_inference_profiles(maxResults=1)["nextToken"]
    with pytest.raises(ClientError) as error:
        bedrock.list_inference_profiles(typeEquals="APPLICATION", nextToken=system_token)
    assert error_code(error) == "ValidationException"


def test_an_unknown_type_is_rejected(aws: None) -> None:
    with pytest.raises(ClientError) as error:
        unvalidated_client().list_inference_profiles(typeEquals="CUSTOM")
    assert error_code(error) == "ValidationException"


# --- system-defined profiles -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "prefixes"),
    [("us-east-1", {"us", "global"}), ("eu-central-1", {"eu", "global"}), ("ap-northeast-1", {"apac", "global"})],
)
def test_system_profiles_follow_the_geography(aws: None, region: str, prefixes: set[str]) -> None:
    client = boto3.client("bedrock", region_name=region)
    pages = client.get_paginator("list_inference_profiles").paginate(typeEquals="SYSTEM_DEFINED")
    summaries = [s for page in pages for s in page["inferenceProfileSummaries"]]
    assert {s["inferenceProfileId"].split(".", 1)[0] for s in summaries} == prefixes
    for summary in summaries:
        assert summary["inferenceProfileArn"] == (
            f"arn:aws:bedrock:{region}:{ACCOUNT_ID}:inference-profile/{summary['inferenceProfileId']}"
        )
        assert 1 <= len(summary["models"]) <= 5
        assert all(":foundation-model/" in m["modelArn"] for m in summary["models"])


def test_get_a_system_profile_by_id_and_arn(bedrock: Any, check_shape: ShapeCheck) -> None:
    by_arn = bedrock.get_inference_profile(inferenceProfileIdentifier=US_SONNET_37_ARN)
    check_shape(by_arn, "bedrock", "GetInferenceProfile")
    assert by_arn["type"] == "SYSTEM_DEFINED"
    assert by_arn["inferenceProfileId"] == f"us.{SONNET_37}"
    by_id = bedrock.get_inference_profile(inferenceProfileIdentifier=f"us.{SONNET_37}")
    assert by_id["inferenceProfileArn"] == US_SONNET_37_ARN


# --- delete ------------------------------------------------------------------------------------


def test_delete_by_id_then_get_is_not_found(bedrock: Any) -> None:
    arn = create(bedrock, "p1")
    bedrock.delete_inference_profile(inferenceProfileIdentifier=arn.rsplit("/", 1)[1])
    with pytest.raises(ClientError) as error:
        bedrock.get_inference_profile(inferenceProfileIdentifier=arn)
    assert error_code(error) == "ResourceNotFoundException"
    assert status(error) == 404
    assert bedrock.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"] == []


@pytest.mark.parametrize(
    "identifier",
    [
        "abcdefghijkl",
        f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:application-inference-profile/abcdefghijkl",
        f"arn:aws:bedrock:{REGION}:999999999999:application-inference-profile/abcdefghijkl",
    ],
)
def test_unknown_profiles_are_not_found(bedrock: Any, identifier: str) -> None:
    for call in (bedrock.get_inference_profile, bedrock.delete_inference_profile):
        with pytest.raises(ClientError) as error:
            call(inferenceProfileIdentifier=identifier)
        assert error_code(error) == "ResourceNotFoundException"
        assert status(error) == 404


def test_a_profile_of_another_region_is_not_found_here(bedrock: Any) -> None:
    other = boto3.client("bedrock", region_name="us-west-2")
    arn = create(other, "west", copy_from=f"arn:aws:bedrock:us-west-2::foundation-model/{HAIKU}")
    with pytest.raises(ClientError) as error:
        bedrock.get_inference_profile(inferenceProfileIdentifier=arn)
    assert error_code(error) == "ResourceNotFoundException"


def test_system_profiles_cannot_be_deleted(bedrock: Any) -> None:
    with pytest.raises(ClientError) as error:
        bedrock.delete_inference_profile(inferenceProfileIdentifier=US_SONNET_37_ARN)
    assert error_code(error) == "ValidationException"


def test_deleting_a_profile_in_use_is_a_conflict(bedrock: Any) -> None:
    arn = create(bedrock, "busy")
    embedded_bedrock.set_profile_in_use(ACCOUNT_ID, REGION, arn)
    with pytest.raises(ClientError) as error:
        bedrock.delete_inference_profile(inferenceProfileIdentifier=arn)
    assert error_code(error) == "ConflictException"
    assert status(error) == 400
    assert bedrock.get_inference_profile(inferenceProfileIdentifier=arn)["inferenceProfileArn"] == arn

    embedded_bedrock.set_profile_in_use(ACCOUNT_ID, REGION, arn.rsplit("/", 1)[1], in_use=False)
    bedrock.delete_inference_profile(inferenceProfileIdentifier=arn)


def test_set_profile_in_use_refuses_unknown_and_system_profiles(bedrock: Any) -> None:
    with pytest.raises(embedded_bedrock.ResourceNotFoundException):
        embedded_bedrock.set_profile_in_use(ACCOUNT_ID, REGION, "abcdefghijkl")
    with pytest.raises(ValueError, match="application"):
        embedded_bedrock.set_profile_in_use(ACCOUNT_ID, REGION, US_SONNET_37_ARN)


def test_a_deleted_name_can_be_reused(bedrock: Any) -> None:
    arn = create(bedrock, "again")
    bedrock.delete_inference_profile(inferenceProfileIdentifier=arn)
    assert create(bedrock, "again") != arn


# --- tags --------------------------------------------------------------------------------------


def tags_of(client: Any, arn: str) -> dict[str, str]:
    return {t["key"]: t["value"] for t in client.list_tags_for_resource(resourceARN=arn)["tags"]}


def test_create_time_tags_are_the_profiles_tags(bedrock: Any) -> None:
    arn = create(bedrock, "p1", tags=[{"key": "Project", "value": "A"}, {"key": "CostCenter", "value": ""}])
    assert tags_of(bedrock, arn) == {"Project": "A", "CostCenter": ""}


def test_tag_and_untag_a_profile_keys_are_case_sensitive(bedrock: Any) -> None:
    arn = create(bedrock, "p1", tags=[{"key": "Project", "value": "A"}])
    bedrock.tag_resource(resourceARN=arn, tags=[{"key": "project", "value": "b"}, {"key": "Project", "value": "C"}])
    assert tags_of(bedrock, arn) == {"Project": "C", "project": "b"}
    bedrock.untag_resource(resourceARN=arn, tagKeys=["project", "not-there"])
    assert tags_of(bedrock, arn) == {"Project": "C"}


def test_at_most_50_tags_at_create(bedrock: Any) -> None:
    tags = [{"key": f"k{i}", "value": "v"} for i in range(51)]
    with pytest.raises(ClientError) as error:
        create(bedrock, "p1", tags=tags)
    assert error_code(error) == "TooManyTagsException"
    assert create(bedrock, "p2", tags=tags[:50])


def test_at_most_50_tags_after_tag_resource(bedrock: Any) -> None:
    arn = create(bedrock, "p1", tags=[{"key": f"k{i}", "value": "v"} for i in range(40)])
    # Re-tagging existing keys does not count twice.
    bedrock.tag_resource(resourceARN=arn, tags=[{"key": f"k{i}", "value": "w"} for i in range(30, 50)])
    assert len(tags_of(bedrock, arn)) == 50
    with pytest.raises(ClientError) as error:
        bedrock.tag_resource(resourceARN=arn, tags=[{"key": "one-too-many", "value": "v"}])
    assert error_code(error) == "TooManyTagsException"
    # A field of this error beyond the ones botocore declares for every ClientError.
    response: Mapping[str, object] = error.value.response
    assert response["resourceName"] == arn
    assert len(tags_of(bedrock, arn)) == 50


@pytest.mark.parametrize(
    "tag",
    [
        {"key": "k" * 129, "value": "v"},
        {"key": "k", "value": "v" * 257},
        {"key": "bad*key", "value": "v"},
        {"key": "k", "value": "bad#value"},
    ],
)
def test_tag_limits_and_pattern(bedrock: Any, tag: dict[str, str]) -> None:
    arn = create(bedrock, "p1")
    with pytest.raises(ClientError) as error:
        bedrock.tag_resource(resourceARN=arn, tags=[tag])
    assert error_code(error) == "ValidationException"
    with pytest.raises(ClientError) as error:
        create(bedrock, "p2", tags=[tag])
    assert error_code(error) == "ValidationException"


def test_tag_limits_are_inclusive(bedrock: Any) -> None:
    arn = create(bedrock, "p1")
    bedrock.tag_resource(
        resourceARN=arn, tags=[{"key": "k" * 128, "value": "v" * 256}, {"key": "a:b/c=d+e@f", "value": ""}]
    )
    assert len(tags_of(bedrock, arn)) == 2


def test_tagging_an_unknown_profile_is_not_found(bedrock: Any) -> None:
    arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:application-inference-profile/abcdefghijkl"
    for call, kwargs in (
        (bedrock.tag_resource, {"tags": [{"key": "k", "value": "v"}]}),
        (bedrock.untag_resource, {"tagKeys": ["k"]}),
        (bedrock.list_tags_for_resource, {}),
    ):
        with pytest.raises(ClientError) as error:
            call(resourceARN=arn, **kwargs)
        assert error_code(error) == "ResourceNotFoundException"
        assert status(error) == 404


def test_moto_keeps_its_own_tagging_for_other_bedrock_resources(bedrock: Any) -> None:
    # moto's own backend answers for resources that are not inference profiles.
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="training")
    s3.put_object(Bucket="training", Key="data.jsonl", Body=b"{}")
    job = bedrock.create_model_customization_job(
        jobName="job1",
        customModelName="custom1",
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/bedrock",
        baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": "s3://training/data.jsonl"},
        outputDataConfig={"s3Uri": "s3://training/out"},
        hyperParameters={},
        jobTags=[{"key": "Project", "value": "A"}],
    )
    bedrock.tag_resource(resourceARN=job["jobArn"], tags=[{"key": "Team", "value": "ml"}])
    assert tags_of(bedrock, job["jobArn"]) == {"Project": "A", "Team": "ml"}
    with pytest.raises(ClientError) as error:
        bedrock.list_tags_for_resource(
            resourceARN=f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:custom-model/a.b/abcdefghijkl"
        )
    assert error_code(error) == "ResourceNotFoundException"


# --- foundation models -------------------------------------------------------------------------


def test_list_foundation_models_shape_and_filters(bedrock: Any, check_shape: ShapeCheck) -> None:
    everything = bedrock.list_foundation_models()
    check_shape(everything, "bedrock", "ListFoundationModels")
    ids = {m["modelId"] for m in everything["modelSummaries"]}
    assert {HAIKU, SONNET_37} <= ids
    for model in everything["modelSummaries"]:
        assert model["modelArn"] == f"arn:aws:bedrock:{REGION}::foundation-model/{model['modelId']}"
        assert model["modelLifecycle"]["status"] in {"ACTIVE", "LEGACY"}

    anthropic = bedrock.list_foundation_models(byProvider="anthropic")["modelSummaries"]
    assert anthropic
    assert {m["providerName"] for m in anthropic} == {"Anthropic"}

    on_demand = {m["modelId"] for m in bedrock.list_foundation_models(byInferenceType="ON_DEMAND")["modelSummaries"]}
    assert HAIKU in on_demand
    assert SONNET_37 not in on_demand

    embeddings = bedrock.list_foundation_models(byOutputModality="EMBEDDING")["modelSummaries"]
    assert embeddings
    assert all("EMBEDDING" in m["outputModalities"] for m in embeddings)


def test_newest_models_need_a_system_profile_even_in_us_east_1(bedrock: Any) -> None:
    models = {m["modelId"]: m for m in bedrock.list_foundation_models()["modelSummaries"]}
    assert "ON_DEMAND" in models[HAIKU]["inferenceTypesSupported"]
    assert models[SONNET_37]["inferenceTypesSupported"] == ["INFERENCE_PROFILE"]


def test_most_current_models_in_eu_central_1_are_profile_only(aws: None) -> None:
    client = boto3.client("bedrock", region_name="eu-central-1")
    anthropic = client.list_foundation_models(byProvider="Anthropic")["modelSummaries"]
    profile_only = [m for m in anthropic if "ON_DEMAND" not in m["inferenceTypesSupported"]]
    assert len(profile_only) > len(anthropic) / 2


def test_get_foundation_model_by_id_and_arn(bedrock: Any, check_shape: ShapeCheck) -> None:
    by_id = bedrock.get_foundation_model(modelIdentifier=HAIKU)
    check_shape(by_id, "bedrock", "GetFoundationModel")
    assert by_id["modelDetails"]["modelArn"] == HAIKU_ARN
    by_arn = bedrock.get_foundation_model(modelIdentifier=HAIKU_ARN)
    assert by_arn["modelDetails"] == by_id["modelDetails"]
    with pytest.raises(ClientError) as error:
        bedrock.get_foundation_model(modelIdentifier="anthropic.claude-9-v1:0")
    assert error_code(error) == "ValidationException"


def test_invalid_filter_values_are_rejected(aws: None) -> None:
    with pytest.raises(ClientError) as error:
        unvalidated_client().list_foundation_models(byInferenceType="SOMETIMES")
    assert error_code(error) == "ValidationException"


def test_the_catalogue_is_consistent_in_every_region() -> None:
    for region in catalog.REGIONS:
        offered = {m.spec.model_id: m for m in catalog.foundation_models(region)}
        for profile in catalog.system_profiles(region):
            prefix, model_id = profile.profile_id.split(".", 1)
            assert prefix in {*catalog.GEOGRAPHIES, catalog.GLOBAL}
            # A system profile is offered only where its model is, and routes within its geography.
            assert model_id in offered
            assert 1 <= len(profile.model_arns) <= 5
            assert foundation_arn(region, model_id) in profile.model_arns
            if prefix != catalog.GLOBAL:
                assert {arn.split(":")[3] for arn in profile.model_arns} <= set(catalog.GEOGRAPHIES[prefix])


def foundation_arn(region: str, model_id: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"
