"""The estate: application profiles with their tags, region by region, regions concurrently."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from aws_lambda_powertools import Logger

from bedrock_governance.aws.bedrock import BedrockProfiles
from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.tagging import TagReader
from bedrock_governance.errors import AwsError, NotFound
from bedrock_governance.models import InferenceProfile, RegionFailure

logger = Logger(child=True)

T = TypeVar("T")

# Regions are independent; a handful of threads is plenty and keeps throttling per region.
MAX_REGION_WORKERS = 8


def list_profiles_with_tags(bedrock: BedrockProfiles, tagging: TagReader) -> list[InferenceProfile]:
    """All application profiles of one region with their tags: ceil(N/1000) list calls plus
    ceil(N/100) tag calls, plus one ``ListTagsForResource`` per profile the Tagging API left out.

    Bedrock's own answer is the truth for a left-out profile: never tagged (no tags), deleted
    since the listing (dropped), or not yet visible to the Tagging API (its real tags). A tagged
    estate costs no extra call. Any other failure of that read fails the region: no finding, mark
    or deletion may rest on tags that were not read.
    """
    profiles = bedrock.list_application_profiles()
    listed = tagging.tags_by_arn([profile.arn for profile in profiles])
    inventory: list[InferenceProfile] = []
    for profile in profiles:
        tags = listed.get(profile.arn)
        if tags is None:
            try:
                tags = bedrock.tags_of(profile.arn)
            except NotFound:
                continue
        inventory.append(profile.with_tags(tags))
    return inventory


def region_inventory(clients: ClientFactory) -> Callable[[str], list[InferenceProfile]]:
    def inventory(region: str) -> list[InferenceProfile]:
        return list_profiles_with_tags(BedrockProfiles(clients.bedrock(region)), TagReader(clients.tagging(region)))

    return inventory


@dataclass(frozen=True)
class RegionResults(Generic[T]):
    by_region: dict[str, T]
    failures: tuple[RegionFailure, ...]


def sweep_regions(regions: Sequence[str], work: Callable[[str], T]) -> RegionResults[T]:
    """Run ``work`` for each region concurrently. A failing region is recorded, never fatal."""

    def guarded(region: str) -> tuple[str, T | None, RegionFailure | None]:
        try:
            return region, work(region), None
        except AwsError as error:
            logger.warning("Region sweep failed", extra={"region": region, "error": str(error)})
            return region, None, RegionFailure(region, error.code, error.aws_message)
        except Exception as error:  # one region's surprise must not cost the others their results
            logger.exception("Region sweep crashed", extra={"region": region})
            return region, None, RegionFailure(region, type(error).__name__, str(error))

    results: dict[str, T] = {}
    failures: list[RegionFailure] = []
    with ThreadPoolExecutor(max_workers=max(1, min(len(regions), MAX_REGION_WORKERS))) as pool:
        for region, result, failure in pool.map(guarded, regions):
            if failure is not None:
                failures.append(failure)
            else:
                results[region] = result  # type: ignore[assignment]
    return RegionResults(by_region=results, failures=tuple(failures))
