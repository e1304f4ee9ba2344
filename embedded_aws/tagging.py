"""Resource Groups Tagging API fixes for moto, for every resource type moto knows.

- ``GetResources`` with ``ResourceARNList``: AWS answers all (at most 100) ARNs in one
  response with an empty ``PaginationToken``, rejects more than 100 ARNs and rejects the
  parameter beside ``ResourceTypeFilters``, ``TagFilters`` or any paging parameter with
  ``InvalidParameterException``; unknown ARNs are left out. moto pages such an answer by tag
  count and accepts the combinations.
- The last page of a normal ``GetResources`` carries an empty ``PaginationToken``, as AWS
  sends it, instead of none at all.
- ``TagResources`` / ``UntagResources`` report an ARN that its service rejects (unknown
  resource, too many tags) in ``FailedResourcesMap`` instead of failing the whole call, and
  reject more than 20 ARNs with ``InvalidParameterException``, as AWS does.

Which resources appear is the backends' business: a backend joins through moto's
``TaggableResourcesMixin`` (Bedrock profiles do, see :mod:`embedded_aws.bedrock`), and one that
sets ``include_untagged`` is listed with no tags after its last tag was removed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Final

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.resourcegroupstaggingapi.exceptions import ResourceGroupsTaggingAPIError
from moto.resourcegroupstaggingapi.models import ResourceGroupsTaggingAPIBackend
from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse
from werkzeug.exceptions import HTTPException

MAX_ARNS_PER_CALL: Final = 100
# TagResources / UntagResources take 1..20 ARNs (API reference; botocore does not check the maximum).
MAX_ARNS_PER_WRITE: Final = 20
# Parameters that may not stand beside ResourceARNList (GetResources API reference).
_EXCLUSIVE_WITH_ARN_LIST: Final = (
    "ResourceTypeFilters",
    "TagFilters",
    "PaginationToken",
    "ResourcesPerPage",
    "TagsPerPage",
)

_lock = threading.Lock()
_originals: dict[str, Callable[..., Any]] = {}


def _invalid(message: str) -> ResourceGroupsTaggingAPIError:
    return ResourceGroupsTaggingAPIError("InvalidParameterException", message)


def _is_given(value: object) -> bool:
    # An empty list or string is what a client sends for "not set"; treat it as absent.
    return value not in (None, [], "")


def _mapping(arn: str, tags: dict[str, str]) -> dict[str, Any]:
    return {"ResourceARN": arn, "Tags": [{"Key": key, "Value": value} for key, value in tags.items()]}


def _get_resources(self: ResourceGroupsTaggingAPIResponse) -> ActionResult:
    arns = self._get_param("ResourceARNList")
    if not _is_given(arns):
        result = _originals["get_resources"](self)
        if not isinstance(result, ActionResult):
            raise TypeError(f"moto's GetResources answered with a {type(result).__name__}, not an ActionResult")
        body = result.result
        if isinstance(body, dict) and body.get("PaginationToken") is None:
            body["PaginationToken"] = ""
        return result

    given = [name for name in _EXCLUSIVE_WITH_ARN_LIST if _is_given(self._get_param(name))]
    if given:
        raise _invalid(f"You can't specify ResourceARNList together with {', '.join(given)} in the same request.")
    if not isinstance(arns, list) or len(arns) > MAX_ARNS_PER_CALL:
        raise _invalid(f"ResourceARNList can contain at most {MAX_ARNS_PER_CALL} ARNs.")
    wanted = [str(arn) for arn in arns]
    found = {resource.arn: resource for resource in self.backend._get_resources_generator(resource_arn_list=wanted)}
    # One response, in the order asked, each ARN once; unknown or never-tagged ARNs are left out.
    ordered = [found[arn] for arn in dict.fromkeys(wanted) if arn in found]
    return ActionResult(
        {
            "ResourceTagMappingList": [_mapping(r.arn, r.tags) for r in ordered],
            "PaginationToken": "",
        }
    )


def _failure(error: Exception) -> dict[str, Any]:
    message = getattr(error, "message", None) or getattr(error, "description", None) or str(error)
    return {"StatusCode": 400, "ErrorCode": "InvalidParameterException", "ErrorMessage": str(message)}


def _each_arn(
    self: ResourceGroupsTaggingAPIBackend, name: str, arns: list[str], payload: Any
) -> dict[str, dict[str, Any]]:
    """Apply moto's TagResources/UntagResources ARN by ARN, so one rejected ARN does not fail
    the others."""
    if not 1 <= len(arns) <= MAX_ARNS_PER_WRITE:
        raise _invalid(f"ResourceARNList must contain between 1 and {MAX_ARNS_PER_WRITE} ARNs.")
    failed: dict[str, dict[str, Any]] = {}
    for arn in arns:
        try:
            failed.update(_originals[name](self, [arn], payload))
        except (ServiceException, HTTPException) as error:
            failed[arn] = _failure(error)
    return failed


def _tag_resources(
    self: ResourceGroupsTaggingAPIBackend, resource_arns: list[str], tags: dict[str, str]
) -> dict[str, dict[str, Any]]:
    return _each_arn(self, "tag_resources", resource_arns, tags)


def _untag_resources(
    self: ResourceGroupsTaggingAPIBackend, resource_arn_list: list[str], tag_keys: list[str]
) -> dict[str, dict[str, Any]]:
    return _each_arn(self, "untag_resources", resource_arn_list, tag_keys)


def install() -> None:
    """Install the Tagging API fixes into moto. Idempotent."""
    with _lock:
        if _originals:
            return
        _originals["get_resources"] = ResourceGroupsTaggingAPIResponse.get_resources
        _originals["tag_resources"] = ResourceGroupsTaggingAPIBackend.tag_resources
        _originals["untag_resources"] = ResourceGroupsTaggingAPIBackend.untag_resources
        setattr(ResourceGroupsTaggingAPIResponse, "get_resources", _get_resources)  # noqa: B010
        setattr(ResourceGroupsTaggingAPIBackend, "tag_resources", _tag_resources)  # noqa: B010
        setattr(ResourceGroupsTaggingAPIBackend, "untag_resources", _untag_resources)  # noqa: B010
