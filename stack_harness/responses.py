"""Where a custom resource's function answers CloudFormation: a local stand-in for the pre-signed
``ResponseURL``, on the loopback interface, that keeps the one PUT it receives."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ResponseInbox:
    url: str
    bodies: list[bytes] = field(default_factory=list)


@contextmanager
def response_url() -> Iterator[ResponseInbox]:
    """A URL that takes CloudFormation's custom-resource answers for the duration of the block."""
    inbox = ResponseInbox(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            inbox.bodies.append(self.rfile.read(length))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    inbox.url = f"http://127.0.0.1:{server.server_port}/cloudformation-response"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield inbox
    finally:
        server.shutdown()
        server.server_close()
