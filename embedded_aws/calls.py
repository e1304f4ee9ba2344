"""Count AWS API calls from botocore's own events, for every client created while counting."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from embedded_aws.hooks import add_client_hook, remove_client_hook

_WRITE_PREFIXES = (
    "Create",
    "Delete",
    "Put",
    "Update",
    "Tag",
    "Untag",
    "Publish",
    "Activate",
    "Start",
    "Send",
)


@dataclass
class ApiCalls:
    """API calls by (service, operation, region), and HTTP attempts including retries."""

    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    attempts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def hook(self, client: Any) -> None:
        region = client.meta.region_name or ""
        service = client.meta.service_model.service_name

        def on_call(model: Any, **_: Any) -> None:
            with self._lock:
                self.calls[(service, model.name, region)] += 1

        def on_attempt(event_name: str = "", **_: Any) -> None:
            with self._lock:
                self.attempts[(service, event_name.rsplit(".", 1)[-1], region)] += 1

        client.meta.events.register("before-call", on_call)
        # before-send fires once per HTTP attempt, retries included.
        client.meta.events.register("before-send", on_attempt)

    def count(self, service: str | None = None, operation: str | None = None, region: str | None = None) -> int:
        return sum(
            n
            for (s, o, r), n in self.calls.items()
            if (service is None or s == service)
            and (operation is None or o == operation)
            and (region is None or r == region)
        )

    def by_operation(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for (service, operation, _region), n in self.calls.items():
            totals[f"{service}:{operation}"] += n
        return dict(sorted(totals.items()))

    def writes(self, service: str | None = None) -> dict[str, int]:
        """Calls that change something (by operation name), e.g. to prove a second run writes nothing."""
        return {
            name: n
            for name, n in self.by_operation().items()
            if name.split(":", 1)[1].startswith(_WRITE_PREFIXES) and (service is None or name.startswith(f"{service}:"))
        }

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.attempts.clear()


@contextmanager
def count_api_calls() -> Iterator[ApiCalls]:
    """Count the calls of every botocore client created inside the block."""
    counter = ApiCalls()
    add_client_hook(counter.hook)
    try:
        yield counter
    finally:
        remove_client_hook(counter.hook)
