"""Cost Explorer adapter. Every request costs USD 0.01, pages included: callers ask little."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import PaginationError

from bedrock_governance.aws.errors import aws_call
from bedrock_governance.core.batching import chunks
from bedrock_governance.core.errors import PagingError

if TYPE_CHECKING:
    from mypy_boto3_ce import CostExplorerClient
    from mypy_boto3_ce.type_defs import CostAllocationTagStatusEntryTypeDef

# Third-party models are billed under their own Marketplace service names, e.g.
# "Claude 3 Haiku (Amazon Bedrock Edition)"; this search finds them all with "Amazon Bedrock".
BEDROCK_SERVICE_SEARCH: Final = "Bedrock"
# update_cost_allocation_tags_status takes at most 20 keys a call.
TAG_STATUS_BATCH: Final = 20
# Pages one answer may take before the run gives up: at USD 0.01 a page, at most USD 10. The largest
# answer this project asks for (8 weeks x DAILY x projects x services) needs about a hundred.
MAX_PAGES: Final = 1000


def guarded_pages(
    operation: str,
    pages: Iterable[Mapping[str, Any]],
    token_key: str,
    max_pages: int = MAX_PAGES,
    *,
    service: str = "ce",
) -> Iterator[Mapping[str, Any]]:
    """The pages of one answer, stopped with :class:`PagingError` when a page token comes back a
    second time or the answer runs past ``max_pages``. The one place every hand-paged loop
    goes through, so none can follow a repeated token for ever (botocore's paginators only
    notice a token repeated by the very next page)."""
    seen: set[str] = set()
    iterator = iter(pages)
    count = 0
    while True:
        try:
            with aws_call(service, operation):
                page = next(iterator, None)
        except PaginationError as error:  # botocore's own check, when a paginator drives the pages
            raise PagingError(service, operation, "RepeatedPageToken", str(error)) from error
        if page is None:
            return
        count += 1
        yield page
        token = page.get(token_key)
        if not token:
            return
        if token in seen:
            raise PagingError(
                service,
                operation,
                "RepeatedPageToken",
                f"page {count} returned a {token_key} seen before; stopped instead of asking for the same pages again",
            )
        if count >= max_pages:
            raise PagingError(
                service, operation, "TooManyPages", f"the answer did not end after {count} pages; stopped following it"
            )
        seen.add(str(token))


def _token_pages(
    call: Callable[..., Mapping[str, Any]], request: Mapping[str, Any], token_key: str
) -> Iterator[Mapping[str, Any]]:
    """Pages of a request whose answer carries ``token_key`` (no botocore paginator exists); the
    next page is asked for only when :func:`guarded_pages` lets the loop go on."""
    params = dict(request)
    while True:
        response = call(**params)
        yield response
        params[token_key] = response.get(token_key)


@dataclass(frozen=True)
class TagActivationError:
    key: str
    code: str
    message: str


class CostExplorer:
    def __init__(self, client: CostExplorerClient) -> None:
        self._client = client

    def bedrock_service_names(self, start: date, end: date) -> tuple[str, ...]:
        """Every SERVICE value with "Bedrock" in its name in [start, end)."""
        names: list[str] = []
        request: dict[str, Any] = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Dimension": "SERVICE",
            "SearchString": BEDROCK_SERVICE_SEARCH,
            "Context": "COST_AND_USAGE",
        }
        pages = _token_pages(self._client.get_dimension_values, request, "NextPageToken")
        for response in guarded_pages("GetDimensionValues", pages, "NextPageToken"):
            names += [item["Value"] for item in response.get("DimensionValues", [])]
        return tuple(sorted(set(names)))

    def cost_and_usage(self, request: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``ResultsByTime`` of a GetCostAndUsage request, all pages merged (no botocore paginator
        exists). Pages of one time bucket are merged into that bucket's ``Groups``."""
        by_start: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        pages = _token_pages(self._client.get_cost_and_usage, request, "NextPageToken")
        for response in guarded_pages("GetCostAndUsage", pages, "NextPageToken"):
            for result in response.get("ResultsByTime", []):
                start = result["TimePeriod"]["Start"]
                if start not in by_start:
                    by_start[start] = {**result, "Groups": list(result.get("Groups", []))}
                    order.append(start)
                else:
                    by_start[start]["Groups"] += result.get("Groups", [])
                    by_start[start]["Estimated"] = by_start[start].get("Estimated", False) or result.get(
                        "Estimated", False
                    )
        return [by_start[start] for start in order]

    def cost_allocation_tag_status(self, keys: Sequence[str]) -> dict[str, str]:
        """Status ("Active"/"Inactive") of each user-defined key; keys unknown to billing are absent."""
        statuses: dict[str, str] = {}
        for batch in chunks(keys, TAG_STATUS_BATCH):
            pages = self._client.get_paginator("list_cost_allocation_tags").paginate(TagKeys=batch, Type="UserDefined")
            for response in guarded_pages("ListCostAllocationTags", pages, "NextToken"):
                for tag in response.get("CostAllocationTags", []):
                    statuses[tag["TagKey"]] = tag["Status"]
        return statuses

    def activate_cost_allocation_tags(self, keys: Sequence[str]) -> list[TagActivationError]:
        """Activate keys, 20 a call. Per-key problems come back as errors, not exceptions."""
        errors: list[TagActivationError] = []
        for keys_batch in chunks(keys, TAG_STATUS_BATCH):
            batch: list[CostAllocationTagStatusEntryTypeDef] = [
                {"TagKey": key, "Status": "Active"} for key in keys_batch
            ]
            with aws_call("ce", "UpdateCostAllocationTagsStatus"):
                response = self._client.update_cost_allocation_tags_status(CostAllocationTagsStatus=batch)
            errors += [
                TagActivationError(item.get("TagKey", ""), item.get("Code", ""), item.get("Message", ""))
                for item in response.get("Errors", [])
            ]
        return errors
