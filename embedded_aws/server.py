"""The embedded AWS as a local HTTP server, for the demo and command-line runs.

    python -m embedded_aws.server [--port N] [--host H] [--seed demo]
    embedded-aws [...]                  (the same, installed with the project's demo extra)

prints the endpoint and the exports to use, and runs until Ctrl-C or SIGTERM; point boto3 (or
``bedrock-governance``) at it with ``AWS_ENDPOINT_URL=http://127.0.0.1:N`` plus any fake
credentials. ``--seed demo`` first loads the estate `make demo` seeds (profiles in three regions,
eight weeks of usage, the cost ledger), so every command-line example has something to show.

It is the emulator the tests use, with the same fidelity: moto plus every extension of
:func:`embedded_aws.extensions.install`, and CloudWatch served by
:mod:`embedded_aws.indexed_cloudwatch` (a query sees only its own namespace, AWS's request limits,
no silently empty metric math). In Python, :func:`start_server` starts one in a background thread
of the current process, so state set up in-process (for example
:func:`embedded_aws.bedrock.set_profile_in_use`) is seen over HTTP.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType, TracebackType
from typing import Final, NoReturn, Self

import boto3
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from embedded_aws.credentials import FAKE_CREDENTIALS as CREDENTIALS
from embedded_aws.extensions import install
from embedded_aws.indexed_cloudwatch import indexed_cloudwatch
from embedded_aws.seed import DEMO_PROFILES, demo_spec, seed_estate

HOME_REGION: Final = "us-east-1"
# The exports a person copies to point the AWS CLI or the command line at the server.
FAKE_CREDENTIALS = " ".join(
    f"{name}={value}" for name, value in {**CREDENTIALS, "AWS_DEFAULT_REGION": HOME_REGION}.items()
)
# What --seed demo creates besides the estate, for the examples that publish or delete.
SEEDED_TOPIC_NAME: Final = "bedrock-governance-alerts"
SEEDED_RECORDS_BUCKET: Final = "bedrock-governance-records"


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

    def __init__(
        self, server: ThreadedMotoServer, host: str, port: int, cleanup: contextlib.ExitStack | None = None
    ) -> None:
        self._server = server
        self._cleanup = cleanup or contextlib.ExitStack()
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
            try:
                self._server.stop()
            finally:
                self._cleanup.close()

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
    While it runs, CloudWatch reads in this process are those of :func:`indexed_cloudwatch`.
    """
    install()
    cleanup = contextlib.ExitStack()
    cleanup.enter_context(indexed_cloudwatch())
    try:
        server = _MotoServer(ip_address=host, port=port)
        server.start()
        if server.startup_error is not None:
            raise server.startup_error
    except BaseException:
        cleanup.close()
        raise
    bound_host, bound_port = server.get_host_and_port()
    return EmbeddedServer(server, host=host or bound_host, port=bound_port, cleanup=cleanup)


@dataclass(frozen=True)
class SeededDemo:
    """What ``--seed demo`` loaded into a running server."""

    regions: tuple[str, ...]
    profiles: int
    ledger_rows: int
    topic_arn: str
    records_bucket: str


def seed_demo(server: EmbeddedServer, *, now: datetime | None = None, say: Callable[[str], None] = print) -> SeededDemo:
    """Load the estate `make demo` seeds into ``server`` (which runs in this process), as of the
    start of today (UTC) unless ``now`` is given, plus an SNS topic and an S3 bucket for the
    examples that publish or write deletion records."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    spec = demo_spec(now or today)
    # Explicit fake credentials and endpoint: nothing from the caller's AWS set-up is used.
    session = boto3.session.Session(
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=HOME_REGION,
    )
    estate = seed_estate(spec, session=session, endpoint_url=server.endpoint_url, progress=say)
    topic_arn = session.client("sns", endpoint_url=server.endpoint_url).create_topic(Name=SEEDED_TOPIC_NAME)["TopicArn"]
    session.client("s3", endpoint_url=server.endpoint_url).create_bucket(Bucket=SEEDED_RECORDS_BUCKET)
    return SeededDemo(spec.regions, len(estate.profiles), estate.ledger_rows, topic_arn, SEEDED_RECORDS_BUCKET)


def _examples(seeded: SeededDemo) -> list[str]:
    regions = ",".join(seeded.regions)
    common = f"--region {HOME_REGION} --regions {regions}"
    return [
        f"bedrock-governance check tags {common}",
        f"bedrock-governance check idle {common}",
        f"bedrock-governance report cost --region {HOME_REGION}",
        f"bedrock-governance sync budgets {common} --project-budgets '{{\"Chatbot\": 500}}'",
        f"bedrock-governance sync budgets {common} --apply --topic-arn {seeded.topic_arn}",
        f"bedrock-governance check idle {common} --delete --records-bucket {seeded.records_bucket}",
    ]


class _Stop(BaseException):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt (and, like it, not an Exception)."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m embedded_aws.server", description="Run the embedded AWS as a local HTTP server."
    )
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument(
        "--seed",
        choices=["demo"],
        help=f"load an estate first: 'demo' is the one `make demo` seeds ({DEMO_PROFILES} profiles, 8 weeks' history)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request (werkzeug's access log, on stderr)")
    args = parser.parse_args(argv)
    if not args.verbose:
        # One line per request buries the exports and examples; --verbose brings it back.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    def request_stop(signum: int, frame: FrameType | None) -> NoReturn:
        raise _Stop

    # SIGTERM (e.g. from a process manager) ends the server as cleanly as Ctrl-C does, at any point.
    signal.signal(signal.SIGTERM, request_stop)
    try:
        server = start_server(port=args.port, host=args.host)
    except OSError as error:
        print(f"Cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, _Stop):
        return 0
    try:
        with server:
            _serve(server, args.seed)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        # A second Ctrl-C or SIGTERM must not interrupt the shutdown.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("Embedded AWS stopped.", flush=True)
    return 0


def _serve(server: EmbeddedServer, seed: str | None) -> None:
    def say(text: str = "") -> None:
        print(text, flush=True)

    say(f"Embedded AWS listening on {server.endpoint_url}")
    seeded = None
    if seed == "demo":
        say("Seeding the demo estate (the one `make demo` seeds):")
        seeded = seed_demo(server, say=lambda message: say(f"  {message}"))
        say(
            f"  {seeded.profiles} profiles in {', '.join(seeded.regions)}; {seeded.ledger_rows:,} cost ledger rows; "
            f"SNS topic {seeded.topic_arn}; S3 bucket {seeded.records_bucket}"
        )
        say("Use it from another shell:")
    say(f"  export AWS_ENDPOINT_URL={server.endpoint_url}")
    # Any credentials do; boto3 only needs some to sign requests.
    say(f"  export {FAKE_CREDENTIALS}")
    if seeded is not None:
        say("Then try (read-only unless a flag asks for changes):")
        for example in _examples(seeded):
            say(f"  {example}")
    say("Press Ctrl-C to stop.")
    while True:
        # A sleeping main thread still runs signal handlers (Ctrl-C, SIGTERM) at once.
        time.sleep(3600)


def entry_point() -> NoReturn:
    """The ``embedded-aws`` console script."""
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
