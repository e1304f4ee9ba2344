"""Tags in bulk through the Resource Groups Tagging API: 100 ARNs a call."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from bedrock_governance.aws.errors import aws_call
from bedrock_governance.core.batching import chunks
from bedrock_governance.core.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient

# GetResources accepts at most 100 ARNs in ResourceARNList, and answers them in one response.
ARNS_PER_CALL: Final = 100
# TagResources and UntagResources take 1..20 ARNs a call.
ARNS_PER_WRITE: Final = 20


class TagReader:
    def __init__(self, client: ResourceGroupsTaggingAPIClient) -> None:
        self._client = client

    def tags_by_arn(self, arns: Sequence[str]) -> dict[str, dict[str, str]]:
        """Tags of each ARN the Tagging API answers for; an ARN it leaves out is absent.

        Left out means any of: never tagged (the API lists only resources that are or were
        tagged), deleted, or not yet visible (the API is eventually consistent). The caller
        tells these apart before anything depends on those tags.
        """
        wanted = set(arns)
        tags: dict[str, dict[str, str]] = {}
        for batch in chunks(arns, ARNS_PER_CALL):
            with aws_call("tagging", "GetResources"):
                # ResourceARNList may not be combined with paging parameters: one call, one answer.
                response = self._client.get_resources(ResourceARNList=batch)
            for mapping in response.get("ResourceTagMappingList", []):
                arn = mapping.get("ResourceARN", "")
                if arn in wanted:
                    tags[arn] = {tag["Key"]: tag["Value"] for tag in mapping.get("Tags", [])}
        return tags


@dataclass(frozen=True)
class TagWriteFailure:
    """One ARN a bulk tag write did not change, as ``FailedResourcesMap`` reports it."""

    code: str
    message: str
    status_code: int | None = None


def _failures(response: Mapping[str, Any]) -> dict[str, TagWriteFailure]:
    return {
        arn: TagWriteFailure(
            code=str(info.get("ErrorCode") or "Unknown"),
            message=str(info.get("ErrorMessage") or ""),
            status_code=info.get("StatusCode"),
        )
        for arn, info in response.get("FailedResourcesMap", {}).items()
    }


class TagWriter:
    """Writes and removes tags on many resources, 20 ARNs a call.

    Per-ARN failures come back in ``FailedResourcesMap`` rather than as an error, and are returned
    per ARN. The service's own permission (``bedrock:TagResource`` with its tag-key conditions)
    still applies to each ARN, besides ``tag:TagResources``.
    """

    def __init__(self, client: ResourceGroupsTaggingAPIClient) -> None:
        self._client = client

    def tag(self, arns: Sequence[str], tags: Mapping[str, str]) -> dict[str, TagWriteFailure]:
        """Add ``tags`` to every ARN; the ARNs that were not changed, and why."""
        return self._each_batch(
            arns, "TagResources", lambda batch: self._client.tag_resources(ResourceARNList=batch, Tags=dict(tags))
        )

    def untag(self, arns: Sequence[str], keys: Sequence[str]) -> dict[str, TagWriteFailure]:
        """Remove ``keys`` from every ARN; the ARNs that were not changed, and why."""
        return self._each_batch(
            arns,
            "UntagResources",
            lambda batch: self._client.untag_resources(ResourceARNList=batch, TagKeys=list(keys)),
        )

    def _each_batch(
        self, arns: Sequence[str], operation: str, call: Callable[[list[str]], Mapping[str, Any]]
    ) -> dict[str, TagWriteFailure]:
        # A batch whose call fails (throttled past the retries, denied) fails for each of its ARNs;
        # the other batches still go: one bad call must not cost the rest of the sweep its marks.
        failed: dict[str, TagWriteFailure] = {}
        for batch in chunks(arns, ARNS_PER_WRITE):
            try:
                with aws_call("tagging", operation):
                    response = call(batch)
            except AwsError as error:
                failed.update(dict.fromkeys(batch, TagWriteFailure(error.code, error.aws_message)))
                continue
            failed.update(_failures(response))
        return failed
