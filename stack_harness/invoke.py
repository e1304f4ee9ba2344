"""Handler invocation: the in-process stand-in for the Lambda Python runtime.

The harness runs a function's handler in this process, because moto cannot run Lambda containers.
This module supplies what the runtime would: the context object, the environment the runtime sets,
a fresh import of the handler module, the JSON round trip of the response, and the values
EventBridge Scheduler puts into an event's ``<aws.scheduler.*>`` placeholders.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any, Final

from bedrock_governance.core.events import clock_set_to

log = logging.getLogger(__name__)

# Lambda refuses a function whose Environment sets any of these: the runtime owns them.
RESERVED_ENVIRONMENT_KEYS = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_REGION",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_RUNTIME_DIR",
        "LAMBDA_TASK_ROOT",
    }
)

# What the handler may still see of the calling process: credentials and endpoint (what the role
# and the embedded AWS provide), moto's own settings, and what the interpreter and TLS need.
# Anything else, notably a setting a test exported itself, is hidden so that only the stack's
# variables reach the handler, as in Lambda.
_PASSTHROUGH_PREFIXES = ("AWS_", "MOTO_", "PYTHON", "LC_", "PYTEST_", "COV_", "COVERAGE_")
_PASSTHROUGH_NAMES = frozenset(
    {
        "HOME",
        "LANG",
        "PATH",
        "TMPDIR",
        "TEST_SERVER_MODE",
        "VIRTUAL_ENV",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
    }
)

_SCHEDULER_PLACEHOLDER: Final = re.compile(
    r"<aws\.scheduler\.(schedule-arn|scheduled-time|execution-id|attempt-number)>"
)

# os.environ and sys.path are process-wide: one invocation at a time.
_runtime_lock = threading.RLock()
_module_numbers = count(1)


@dataclass(frozen=True)
class FunctionConfig:
    """A function as the expanded template declares it (moto ignores Architectures, among others)."""

    logical_id: str
    function_name: str
    function_arn: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    role_arn: str
    architectures: tuple[str, ...]
    # Layer version ARNs, in order.
    layers: tuple[str, ...]
    log_group: str
    # The directory whose contents ship as the function's code: the build output, or the source.
    code_dir: Path


@dataclass(frozen=True)
class LambdaContext:
    """The attributes and methods of the Python runtime's context object."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    # A string, as in the real runtime, which reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
    memory_limit_in_mb: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_monotonic: float = field(repr=False)
    identity: None = None
    client_context: None = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_monotonic - time.monotonic()) * 1000))

    def log(self, message: str) -> None:
        sys.stdout.write(message)


def new_request_id() -> str:
    """A request id in the shape Lambda uses (a UUID)."""
    hex_digits = secrets.token_hex(16)
    return "-".join((hex_digits[:8], hex_digits[8:12], hex_digits[12:16], hex_digits[16:20], hex_digits[20:]))


def log_stream_name(now: datetime) -> str:
    return f"{now:%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}"


def runtime_environment(
    *,
    region: str,
    function_name: str,
    memory_size: int,
    runtime: str,
    handler: str,
    task_root: Path,
    log_group: str,
    log_stream: str,
) -> dict[str, str]:
    """The variables the Lambda runtime sets for every invocation (credentials aside)."""
    return {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": handler,
        "TZ": ":UTC",
    }


def _passes_through(name: str) -> bool:
    return name in _PASSTHROUGH_NAMES or name.startswith(_PASSTHROUGH_PREFIXES)


@contextmanager
def lambda_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """os.environ as the function would see it, for the duration of the block only."""
    with _runtime_lock:
        saved = dict(os.environ)
        kept = {name: value for name, value in saved.items() if _passes_through(name)}
        os.environ.clear()
        os.environ.update(kept | dict(variables))
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def handler_module_file(task_root: Path, handler: str) -> Path:
    """The file of the handler's module (``app.lambda_handler`` -> ``app.py``), as the runtime finds it."""
    module_path, _, attribute = handler.rpartition(".")
    if not module_path or not attribute:
        raise ValueError(f"Bad handler {handler!r}: expected 'module.function'")
    relative = Path(*module_path.replace("/", ".").split("."))
    for candidate in (task_root / relative.with_suffix(".py"), task_root / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    # The runtime's Runtime.ImportModuleError, with its wording.
    raise ImportError(f"Unable to import module '{module_path}': No module named '{module_path}'")


@contextmanager
def fresh_handler(task_root: Path, handler: str, layer_paths: Sequence[Path]) -> Iterator[Callable[[Any, Any], Any]]:
    """Import the handler's module anew, under a name of its own, and yield the handler.

    The task root goes first on sys.path and the layers' directories last, as in Lambda. Modules
    imported from the task root are forgotten afterwards, so the next invocation starts cold;
    modules from the layers stay, as the test process imports the same shared package.
    """
    module_file = handler_module_file(task_root, handler)
    module_path, _, attribute = handler.rpartition(".")
    with _runtime_lock:
        added = [str(task_root)] + [str(path) for path in layer_paths if str(path) not in sys.path]
        sys.path.insert(0, added[0])
        sys.path.extend(added[1:])
        before = set(sys.modules)
        # Dots would make it a submodule of a package that does not exist.
        unique_name = f"_embedded_lambda_{next(_module_numbers)}_" + re.sub(r"\W", "_", module_path)
        try:
            spec = importlib.util.spec_from_file_location(unique_name, module_file)
            if spec is None or spec.loader is None:
                raise ImportError(f"Unable to import module '{module_path}'")
            module = importlib.util.module_from_spec(spec)
            sys.modules[unique_name] = module
            spec.loader.exec_module(module)
            function = getattr(module, attribute, None)
            if not callable(function):
                # The runtime's Runtime.HandlerNotFound, with its wording.
                raise AttributeError(f"Handler '{attribute}' missing on module '{module_path}'")
            yield function
        finally:
            for path in added:
                if path in sys.path:
                    sys.path.remove(path)
            for name in set(sys.modules) - before:
                file = getattr(sys.modules[name], "__file__", None)
                if name == unique_name or (file and Path(file).is_relative_to(task_root)):
                    del sys.modules[name]


def _json_default(value: object) -> object:
    # The runtime writes a Decimal as a JSON number; anything else unknown fails the invocation.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def marshal_response(result: object) -> Any:
    """The response as the caller of a Lambda function receives it: through JSON."""
    try:
        return json.loads(json.dumps(result, default=_json_default))
    except (TypeError, ValueError) as error:
        raise TypeError(f"Unable to marshal response: {error}") from error


def fill_scheduler_placeholders(payload: Any, moment: datetime, *, schedule_arn: Callable[[], str]) -> Any:
    """The event with Scheduler's ``<aws.scheduler.*>`` placeholders filled in for an invocation at ``moment``."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "scheduled-time":
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if name == "execution-id":
            return secrets.token_hex(8)
        if name == "attempt-number":
            return "1"
        return schedule_arn()

    def fill(item: Any) -> Any:
        if isinstance(item, str):
            return _SCHEDULER_PLACEHOLDER.sub(value, item)
        if isinstance(item, list):
            return [fill(element) for element in item]
        if isinstance(item, dict):
            return {key: fill(element) for key, element in item.items()}
        return item

    return fill(payload)


def invoke_handler(
    config: FunctionConfig,
    payload: Any,
    *,
    variables: Mapping[str, str],
    moment: datetime,
    layer_paths: Sequence[Path],
) -> Any:
    """Run the function's handler once with ``variables`` as its whole environment and ``moment``
    as its clock, and return its response as the caller would receive it. Exceptions propagate."""
    with (
        lambda_environment(variables),
        # The simulated timeline's moment is the handler's real clock too, as it would be in AWS.
        clock_set_to(moment),
        fresh_handler(config.code_dir, config.handler, layer_paths) as handler,
    ):
        started = time.monotonic()
        context = LambdaContext(
            function_name=config.function_name,
            function_version="$LATEST",
            invoked_function_arn=config.function_arn,
            memory_limit_in_mb=str(config.memory_size),
            aws_request_id=new_request_id(),
            log_group_name=config.log_group,
            log_stream_name=variables["AWS_LAMBDA_LOG_STREAM_NAME"],
            deadline_monotonic=started + config.timeout,
        )
        result = handler(payload, context)
    elapsed = time.monotonic() - started
    if elapsed > config.timeout:
        # Not enforced: the embedded AWS is slower or faster than the real one.
        log.warning("%s ran %.1f s, beyond its Timeout of %d s", config.logical_id, elapsed, config.timeout)
    return marshal_response(result)
