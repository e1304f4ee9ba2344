"""Bedrock control-plane adapter for application inference profiles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bedrock_governance.aws.errors import aws_call
from bedrock_governance.core.arn import region_of
from bedrock_governance.core.models import InferenceProfile

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient

# The largest page Bedrock allows: one list call per 1,000 profiles.
LIST_PAGE_SIZE = 1000


def profile_from_summary(summary: Mapping[str, Any]) -> InferenceProfile:
    arn = str(summary["inferenceProfileArn"])
    return InferenceProfile(
        profile_id=str(summary["inferenceProfileId"]),
        name=str(summary["inferenceProfileName"]),
        arn=arn,
        region=region_of(arn),
        model_arns=tuple(str(model["modelArn"]) for model in summary.get("models", [])),
        status=str(summary.get("status", "ACTIVE")),
        created_at=summary["createdAt"],
        updated_at=summary.get("updatedAt"),
        description=str(summary.get("description", "")),
    )


@dataclass(frozen=True)
class CreatedProfile:
    arn: str
    status: str


class BedrockProfiles:
    """Lists, creates, deletes and tags application inference profiles in one region."""

    def __init__(self, client: BedrockClient) -> None:
        self._client = client

    def list_application_profiles(self) -> list[InferenceProfile]:
        """Every APPLICATION profile in the region, without tags (summaries carry none)."""
        profiles: list[InferenceProfile] = []
        with aws_call("bedrock", "ListInferenceProfiles"):
            paginator = self._client.get_paginator("list_inference_profiles")
            pages = paginator.paginate(typeEquals="APPLICATION", PaginationConfig={"PageSize": LIST_PAGE_SIZE})
            for page in pages:
                profiles.extend(profile_from_summary(summary) for summary in page.get("inferenceProfileSummaries", []))
        return profiles

    def list_system_profiles(self) -> list[Mapping[str, Any]]:
        summaries: list[Mapping[str, Any]] = []
        with aws_call("bedrock", "ListInferenceProfiles"):
            paginator = self._client.get_paginator("list_inference_profiles")
            for page in paginator.paginate(typeEquals="SYSTEM_DEFINED", PaginationConfig={"PageSize": LIST_PAGE_SIZE}):
                summaries.extend(page.get("inferenceProfileSummaries", []))
        return summaries

    def list_foundation_models(self) -> list[Mapping[str, Any]]:
        with aws_call("bedrock", "ListFoundationModels"):
            return list(self._client.list_foundation_models().get("modelSummaries", []))

    def get_profile(self, identifier: str) -> Mapping[str, Any]:
        with aws_call("bedrock", "GetInferenceProfile"):
            response = self._client.get_inference_profile(inferenceProfileIdentifier=identifier)
        return {key: value for key, value in response.items() if key != "ResponseMetadata"}

    def create_profile(
        self,
        *,
        name: str,
        copy_from: str,
        tags: Mapping[str, str],
        description: str | None = None,
        client_request_token: str | None = None,
    ) -> CreatedProfile:
        request: dict[str, Any] = {
            "inferenceProfileName": name,
            "modelSource": {"copyFrom": copy_from},
            "tags": [{"key": key, "value": value} for key, value in tags.items()],
        }
        if description:
            request["description"] = description
        if client_request_token:
            request["clientRequestToken"] = client_request_token
        with aws_call("bedrock", "CreateInferenceProfile"):
            response = self._client.create_inference_profile(**request)
        return CreatedProfile(arn=response["inferenceProfileArn"], status=response.get("status", "ACTIVE"))

    def delete_profile(self, identifier: str) -> None:
        with aws_call("bedrock", "DeleteInferenceProfile"):
            self._client.delete_inference_profile(inferenceProfileIdentifier=identifier)

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        with aws_call("bedrock", "TagResource"):
            self._client.tag_resource(
                resourceARN=arn, tags=[{"key": key, "value": value} for key, value in tags.items()]
            )

    def untag(self, arn: str, keys: list[str]) -> None:
        with aws_call("bedrock", "UntagResource"):
            self._client.untag_resource(resourceARN=arn, tagKeys=keys)

    def tags_of(self, arn: str) -> dict[str, str]:
        """Tags of one resource; sweeps use :class:`TagReader` instead (100 ARNs a call)."""
        with aws_call("bedrock", "ListTagsForResource"):
            response = self._client.list_tags_for_resource(resourceARN=arn)
        return {tag["key"]: tag["value"] for tag in response.get("tags", [])}
