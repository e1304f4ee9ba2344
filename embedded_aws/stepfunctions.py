"""Step Functions that run the real ASL, as AWS would: moto's interpreter, with its gaps closed.

moto executes state machine definitions only when asked to (``execute_state_machine``); this
extension asks. Unnamed executions get a UUID for a name, as in AWS (moto's executing backend
names them all "None"). Its Distributed Map ``ResultWriter`` writes a manifest that lists no result files
(AWS writes ``SUCCEEDED_0.json`` / ``FAILED_0.json`` and lists them): the embedded AWS writes
them. Its Lambda tasks call moto's Lambda, which needs a container; a runner registered with
:func:`set_lambda_runner` (the deployment harness's in-process invocation) takes their place.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from moto.awslambda.models import LambdaFunction
from moto.core.config import default_user_config
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3 import (
    ResourceEvalS3,
)
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

# (function ARN, event JSON) -> (response JSON, errored): what Lambda's Invoke would answer.
LambdaRunner = Callable[[str, str], tuple[str, bool]]

_lock = threading.Lock()
_originals: dict[str, Any] = {}
_runners: list[LambdaRunner] = []
RESULT_FILE_FORMAT: Final = "{status}_0.json"


def set_lambda_runner(runner: LambdaRunner | None) -> None:
    """Run Lambda invocations (from Step Functions tasks too) with ``runner``; None: moto's own."""
    with _lock:
        _runners.clear()
        if runner is not None:
            _runners.append(runner)


def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    with _lock:
        runner = _runners[0] if _runners else None
    if runner is None:
        result: tuple[str, bool, str] = _originals["invoke_lambda"](self, event)
        return result
    # The Invoke API hands over the request body; Step Functions' interpreter an object.
    if isinstance(event, bytes):
        event = event.decode()
    payload = event if isinstance(event, str) else json.dumps(event if event is not None else {})
    output, errored = runner(self.function_arn, payload)
    return output, errored, ""


def _execution_record(map_run_arn: str, index: int, output: Any, now: str) -> dict[str, Any]:
    """A child execution as AWS writes it into a result file (the fields the project reads, and
    those that say what the emulator does not know)."""
    status = "FAILED" if output is None else "SUCCEEDED"
    record: dict[str, Any] = {
        "ExecutionArn": f"{map_run_arn.replace(':mapRun:', ':execution:')}:{index}",
        "Name": str(index),
        "Status": status,
        "StartDate": now,
        "StopDate": now,
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
    }
    if output is None:
        # The interpreter keeps a failed item's result as null: its error is not known here.
        record |= {"Error": "States.TaskFailed", "Cause": "the child execution failed"}
    else:
        record |= {"Output": json.dumps(output), "OutputDetails": {"Included": True}}
    return record


def _handle_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    parameters = env.stack.pop()
    results = env.stack.pop()
    s3: Any = boto_client_for(service="s3", region=resource_runtime_part.region, state_credentials=state_credentials)
    map_run_arn = env.map_run_record_pool_manager.get_all().pop().map_run_arn
    prefix = parameters.get("Prefix", "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    base = f"{prefix}{map_run_arn.split(':')[-1]}/"
    now = datetime.now(UTC).isoformat()
    records = [_execution_record(map_run_arn, i, output, now) for i, output in enumerate(results or [])]
    files: dict[str, list[dict[str, str | int]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for status in ("SUCCEEDED", "FAILED"):
        chosen = [record for record in records if record["Status"] == status]
        if not chosen:
            continue
        key = base + RESULT_FILE_FORMAT.format(status=status)
        body = json.dumps(chosen).encode()
        s3.put_object(Bucket=parameters["Bucket"], Key=key, Body=body)
        files[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": parameters["Bucket"], "MapRunArn": map_run_arn, "ResultFiles": files}
    key = base + "manifest.json"
    s3.put_object(Bucket=parameters["Bucket"], Key=key, Body=json.dumps(manifest, indent=2).encode())
    env.stack.append({"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": parameters["Bucket"], "Key": key}})


def _start_execution(
    self: StepFunctionsParserBackend, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any
) -> Any:
    # AWS names an unnamed execution with a UUID; moto's executing backend names it "None", so a
    # second unnamed execution of the same state machine would be refused as already existing.
    return _originals["start_execution"](self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)


def install() -> None:
    """Install the Step Functions fixes into moto. Idempotent."""
    with _lock:
        if _originals:
            return
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        _originals["invoke_lambda"] = LambdaFunction._invoke_lambda
        _originals["put_object"] = ResourceEvalS3._handle_put_object
        _originals["start_execution"] = StepFunctionsParserBackend.start_execution
        setattr(StepFunctionsParserBackend, "start_execution", _start_execution)  # noqa: B010
        setattr(LambdaFunction, "_invoke_lambda", _invoke_lambda)  # noqa: B010
        setattr(ResourceEvalS3, "_handle_put_object", staticmethod(_handle_put_object))  # noqa: B010
