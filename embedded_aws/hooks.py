"""Hooks on every botocore client created while they are active: call counting, fault injection.

botocore clients carry their own event emitters, so a hook that must see the clients a Lambda
handler creates for itself is attached when any client is created.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import botocore.session

ClientHook = Callable[[Any], None]

_lock = threading.Lock()
_hooks: list[ClientHook] = []
_original_create_client = botocore.session.Session.create_client


def _create_client_with_hooks(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
    client = _original_create_client(self, *args, **kwargs)
    with _lock:
        hooks = list(_hooks)
    for hook in hooks:
        hook(client)
    return client


def add_client_hook(hook: ClientHook) -> None:
    with _lock:
        if not _hooks:
            botocore.session.Session.create_client = _create_client_with_hooks  # type: ignore[method-assign]
        _hooks.append(hook)


def remove_client_hook(hook: ClientHook) -> None:
    with _lock:
        _hooks.remove(hook)
        if not _hooks:
            botocore.session.Session.create_client = _original_create_client  # type: ignore[method-assign]
