"""Tags in bulk through the Resource Groups Tagging API: 100 ARNs a call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from bedrock_governance.aws.errors import aws_call

if TYPE_CHECKING:
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient

# GetResources accepts at most 100 ARNs in ResourceARNList, and answers them in one response.
ARNS_PER_CALL: Final = 100


class TagReader:
    def __init__(self, client: ResourceGroupsTaggingAPIClient) -> None:
        self._client = client

    def tags_by_arn(self, arns: Sequence[str]) -> dict[str, dict[str, str]]:
        """Tags of each ARN. A resource that was never tagged is not returned by the Tagging
        API at all: it maps to an empty dict here, which is the truth."""
        tags: dict[str, dict[str, str]] = {arn: {} for arn in arns}
        for start in range(0, len(arns), ARNS_PER_CALL):
            batch = list(arns[start : start + ARNS_PER_CALL])
            with aws_call("tagging", "GetResources"):
                # ResourceARNList may not be combined with paging parameters: one call, one answer.
                response = self._client.get_resources(ResourceARNList=batch)
            for mapping in response.get("ResourceTagMappingList", []):
                arn = mapping.get("ResourceARN", "")
                if arn in tags:
                    tags[arn] = {tag["Key"]: tag["Value"] for tag in mapping.get("Tags", [])}
        return tags
