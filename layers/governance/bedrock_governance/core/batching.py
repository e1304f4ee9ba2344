"""Fixed-size batches for APIs that take at most N items a call."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive batches of ``items``, each a new list of at most ``size``; every item once, in order.

    No batch for no items. ValueError if ``size`` is below 1.
    """
    if size < 1:
        # Raised here, at the call, not at the first next(): a generator would defer it.
        raise ValueError(f"size must be at least 1, got {size}")
    return (list(items[start : start + size]) for start in range(0, len(items), size))
