"""One switch that teaches moto what this project needs from AWS."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from moto import mock_aws

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Install every extension into moto. Idempotent and thread-safe."""
    global _installed  # noqa: PLW0603 - one process-wide switch, like moto's own registries
    with _lock:
        if _installed:
            return
        from embedded_aws import (  # noqa: PLC0415
            accounts,
            bedrock,
            budgets,
            costexplorer,
            stacksets,
            stepfunctions,
            tagging,
        )

        for extension in (bedrock, tagging, costexplorer, budgets, accounts, stacksets, stepfunctions):
            extension.install()
        _installed = True


@contextmanager
def embedded_aws() -> Iterator[None]:
    """In-process embedded AWS: moto's mock with the project's extensions installed."""
    install()
    from embedded_aws import stacksets  # noqa: PLC0415

    stacksets.reset()  # what an earlier embedded AWS deployed is gone with it
    with mock_aws():
        yield
