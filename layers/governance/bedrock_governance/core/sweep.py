"""Region by region, regions concurrently: one region's failure is recorded, never fatal."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from aws_lambda_powertools import Logger

from bedrock_governance.core.errors import AwsError
from bedrock_governance.core.models import RegionFailure

logger = Logger(child=True)

T = TypeVar("T")

# Regions are independent; a handful of threads is plenty and keeps throttling per region.
MAX_REGION_WORKERS = 8


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
