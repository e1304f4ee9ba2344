"""Edit AWS answers the way AWS itself can: eventual consistency, partial answers, odd tokens.

Adversarial tests use this to take an answer from the embedded AWS and change it before the code
under test sees it, e.g. a Tagging API answer that leaves out an ARN (eventually consistent) or a
GetMetricData answer without one query's result. The edit happens after botocore parsed the
response, on every client created while the context is active (the handlers' own clients too).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from embedded_aws.hooks import add_client_hook, remove_client_hook

# An editor changes the parsed answer in place; ``params`` are the request's parameters.
AnswerEditor = Callable[[dict[str, Any], dict[str, Any]], None]


@dataclass
class EditedAnswers:
    """How many answers of the operation were edited."""

    service: str
    operation: str
    edited: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self) -> None:
        with self._lock:
            self.edited += 1


@contextmanager
def edit_answers(service: str, operation: str, editor: AnswerEditor) -> Iterator[EditedAnswers]:
    """Run ``editor`` on every parsed answer of ``service`` (endpoint prefix, e.g. ``tagging``,
    ``monitoring``) and ``operation`` (e.g. ``GetResources``) while active."""
    record = EditedAnswers(service, operation)

    def hook(client: Any) -> None:
        model = client.meta.service_model
        if service not in {model.endpoint_prefix, model.service_name}:
            return
        params_by_request: dict[int, dict[str, Any]] = {}

        def remember(params: dict[str, Any], **_: Any) -> None:
            params_by_request[threading.get_ident()] = dict(params)

        def after_call(parsed: dict[str, Any], model: Any, **_: Any) -> None:
            if model.name != operation or "Error" in parsed:
                return
            editor(parsed, params_by_request.get(threading.get_ident(), {}))
            record.count()

        service_id = model.service_id.hyphenize()
        client.meta.events.register(f"provide-client-params.{service_id}.{operation}", remember)
        client.meta.events.register(f"after-call.{service_id}.{operation}", after_call)

    add_client_hook(hook)
    try:
        yield record
    finally:
        remove_client_hook(hook)
