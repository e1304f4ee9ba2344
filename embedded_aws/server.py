"""The embedded AWS as a local HTTP server, for the demo and command-line runs.

    python -m embedded_aws.server [--port N] [--host H]

prints the endpoint and runs until interrupted; point boto3 at it with
``AWS_ENDPOINT_URL=http://127.0.0.1:N`` (plus any fake credentials). In Python,
:func:`start_server` starts one in a background thread of the current process, so state set
up in-process (for example :func:`embedded_aws.bedrock.set_profile_in_use`) is seen over HTTP.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType, TracebackType
from typing import Self

from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from embedded_aws.extensions import install

FAKE_CREDENTIALS = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1"


class _MotoServer(ThreadedMotoServer):
    """moto's threaded server, but a failure to bind is reported instead of hanging start()."""

    def __init__(self, ip_address: str, port: int) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        self.startup_error: OSError | None = None

    def _server_entry(self) -> None:
        try:
            super()._server_entry()
        except (OSError, SystemExit) as error:
            # werkzeug answers a failed bind with sys.exit(1) (the OSError is its context), and
            # moto's start() waits for an event that is only set after a successful bind.
            cause = error if isinstance(error, OSError) else error.__context__
            if not isinstance(cause, OSError):
                cause = OSError(f"cannot listen on {self._ip_address}:{self._port}")
            self.startup_error = cause
            self._server_ready_event.set()


class EmbeddedServer:
    """A running embedded AWS server. Stop it with :meth:`stop` or use it as a context manager."""

    def __init__(self, server: ThreadedMotoServer, host: str, port: int) -> None:
        self._server = server
        self._stopped = False
        self.host = host
        self.port = port

    @property
    def endpoint_url(self) -> str:
        # A wildcard address is where the server listens, not where a client can connect.
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)  # noqa: S104
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        """Stop serving. Idempotent."""
        if not self._stopped:
            self._stopped = True
            self._server.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_server(port: int = 0, host: str = "127.0.0.1") -> EmbeddedServer:
    """Start the embedded AWS (moto plus this project's extensions) on ``host:port``.

    ``port=0`` picks a free port; read it back from ``.port`` or ``.endpoint_url``. The server
    answers every service moto knows; the service is taken from each request's signature.
    """
    install()
    server = _MotoServer(ip_address=host, port=port)
    server.start()
    if server.startup_error is not None:
        raise server.startup_error
    bound_host, bound_port = server.get_host_and_port()
    return EmbeddedServer(server, host=host or bound_host, port=bound_port)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m embedded_aws.server", description="Run the embedded AWS as a local HTTP server."
    )
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    args = parser.parse_args(argv)

    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    # SIGTERM (e.g. from a process manager) ends the server as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, request_stop)
    try:
        server = start_server(port=args.port, host=args.host)
    except OSError as error:
        print(f"Cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    with server:
        print(f"Embedded AWS listening on {server.endpoint_url}", flush=True)
        print(f"  export AWS_ENDPOINT_URL={server.endpoint_url}", flush=True)
        # Any credentials do; boto3 only needs some to sign requests.
        print(f"  export {FAKE_CREDENTIALS}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        try:
            # wait() with a timeout keeps the main thread responsive to signals.
            while not stop_requested.wait(timeout=0.5):
                pass
        except KeyboardInterrupt:
            pass
    print("Embedded AWS stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
