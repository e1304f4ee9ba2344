"""Fault injection: make an AWS operation fail the way AWS fails, in front of the embedded AWS.

Faults are answered at botocore's ``before-send`` step with a real HTTP error response in the
service's own protocol, so botocore parses it and its retry policy sees it exactly as it would
see AWS's answer (a throttling burst is retried; an access denial is not).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders

from embedded_aws.hooks import add_client_hook, remove_client_hook


@dataclass
class Fault:
    """Fail ``operation`` of ``service`` (botocore names, e.g. "bedrock", "ListInferenceProfiles";
    "*" matches any), optionally only in ``region``, ``times`` times (None: always)."""

    service: str
    operation: str
    code: str
    status: int = 400
    message: str = "injected fault"
    region: str | None = None
    times: int | None = None
    fired: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, service: str, operation: str, region: str) -> bool:
        if self.service not in {"*", service} or self.operation not in {"*", operation}:
            return False
        if self.region is not None and self.region != region:
            return False
        with self._lock:
            if self.times is not None and self.fired >= self.times:
                return False
            self.fired += 1
            return True


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    if len(data) < 24:
        return bytes([0x60 | len(data)]) + data
    if len(data) < 256:
        return bytes([0x78, len(data)]) + data
    return bytes([0x79]) + len(data).to_bytes(2, "big") + data


def _cbor_map(items: dict[str, str]) -> bytes:
    """The few bytes of CBOR an error body needs: a small map of text to text."""
    encoded = bytes([0xA0 | len(items)])
    for key, value in items.items():
        encoded += _cbor_text(key) + _cbor_text(value)
    return encoded


def _error_response(url: str, protocol: str, fault: Fault) -> AWSResponse:
    if protocol == "smithy-rpc-v2-cbor":
        headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}
        body = _cbor_map({"__type": fault.code, "message": fault.message})
    elif protocol in {"json", "rest-json"}:
        headers = {"x-amzn-ErrorType": fault.code, "Content-Type": "application/x-amz-json-1.1"}
        body = json.dumps({"__type": fault.code, "message": fault.message, "Message": fault.message}).encode()
    elif protocol in {"query", "ec2"}:
        headers = {"Content-Type": "text/xml"}
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{fault.code}</Code>"
            f"<Message>{fault.message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
        ).encode()
    else:  # rest-xml
        headers = {"Content-Type": "application/xml"}
        body = f"<Error><Code>{fault.code}</Code><Message>{fault.message}</Message></Error>".encode()
    http_headers = HTTPHeaders()
    for name, value in headers.items():
        http_headers[name] = value
    return AWSResponse(url, fault.status, http_headers, _RawBody(body))


@contextmanager
def inject_faults(*faults: Fault) -> Iterator[tuple[Fault, ...]]:
    """Inject ``faults`` into every client created inside the block."""

    def hook(client: Any) -> None:
        service = client.meta.service_model.service_name
        model = client.meta.service_model
        # botocore picks one of the protocols a service offers; answer in the one it picked.
        protocol = getattr(model, "resolved_protocol", model.protocol)
        region = client.meta.region_name or ""

        def before_send(request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
            operation = event_name.rsplit(".", 1)[-1]
            for fault in faults:
                if fault.take(service, operation, region):
                    response = _error_response(request.url, protocol, fault)
                    # botocore still offers the request to every other before-send handler;
                    # pointing it nowhere keeps moto's from carrying out a write that failed.
                    request.url = "https://fault-injected.invalid/"
                    return response
            return None

        # First in line, ahead of moto's own before-send handler that answers from the fakes.
        client.meta.events.register_first("before-send", before_send)

    add_client_hook(hook)
    try:
        yield faults
    finally:
        remove_client_hook(hook)
