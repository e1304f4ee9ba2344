"""Cost Explorer adapter. Every request costs USD 0.01, pages included: callers ask little."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from bedrock_governance.aws.errors import aws_call

if TYPE_CHECKING:
    from mypy_boto3_ce import CostExplorerClient
    from mypy_boto3_ce.type_defs import CostAllocationTagStatusEntryTypeDef

# Third-party models are billed under their own Marketplace service names, e.g.
# "Claude 3 Haiku (Amazon Bedrock Edition)"; this search finds them all with "Amazon Bedrock".
BEDROCK_SERVICE_SEARCH: Final = "Bedrock"
# update_cost_allocation_tags_status takes at most 20 keys a call.
TAG_STATUS_BATCH: Final = 20


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
        while True:
            with aws_call("ce", "GetDimensionValues"):
                response = self._client.get_dimension_values(**request)
            names += [item["Value"] for item in response.get("DimensionValues", [])]
            token = response.get("NextPageToken")
            if not token:
                break
            request["NextPageToken"] = token
        return tuple(sorted(set(names)))

    def cost_and_usage(self, request: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``ResultsByTime`` of a GetCostAndUsage request, all pages merged (no botocore paginator
        exists). Pages of one time bucket are merged into that bucket's ``Groups``."""
        by_start: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        call: dict[str, Any] = dict(request)
        while True:
            with aws_call("ce", "GetCostAndUsage"):
                response = self._client.get_cost_and_usage(**call)
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
            token = response.get("NextPageToken")
            if not token:
                break
            call["NextPageToken"] = token
        return [by_start[start] for start in order]

    def cost_allocation_tag_status(self, keys: Sequence[str]) -> dict[str, str]:
        """Status ("Active"/"Inactive") of each user-defined key; keys unknown to billing are absent."""
        statuses: dict[str, str] = {}
        for start in range(0, len(keys), TAG_STATUS_BATCH):
            request: dict[str, Any] = {"TagKeys": list(keys[start : start + TAG_STATUS_BATCH]), "Type": "UserDefined"}
            while True:
                with aws_call("ce", "ListCostAllocationTags"):
                    response = self._client.list_cost_allocation_tags(**request)
                for tag in response.get("CostAllocationTags", []):
                    statuses[tag["TagKey"]] = tag["Status"]
                token = response.get("NextToken")
                if not token:
                    break
                request["NextToken"] = token
        return statuses

    def activate_cost_allocation_tags(self, keys: Sequence[str]) -> list[TagActivationError]:
        """Activate keys, 20 a call. Per-key problems come back as errors, not exceptions."""
        errors: list[TagActivationError] = []
        for start in range(0, len(keys), TAG_STATUS_BATCH):
            batch: list[CostAllocationTagStatusEntryTypeDef] = [
                {"TagKey": key, "Status": "Active"} for key in keys[start : start + TAG_STATUS_BATCH]
            ]
            with aws_call("ce", "UpdateCostAllocationTagsStatus"):
                response = self._client.update_cost_allocation_tags_status(CostAllocationTagsStatus=batch)
            errors += [
                TagActivationError(item.get("TagKey", ""), item.get("Code", ""), item.get("Message", ""))
                for item in response.get("Errors", [])
            ]
        return errors
