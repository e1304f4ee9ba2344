"""The embedded AWS as the harness talks to it, and only it: real AWS is refused.

One session's clients, and API calls with CloudFormation-style values (numbers as strings, JSON
documents as objects) converted to the types the API takes.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore import xform_name
from botocore.model import ListShape, MapShape, Shape, StructureShape

from stack_harness.errors import StackError
from stack_harness.template import cfn_string


def refuse_real_aws() -> None:
    from moto.core.models import botocore_stubber  # noqa: PLC0415 - moto is imported only when deploying

    if botocore_stubber.enabled:
        return
    host = urllib.parse.urlparse(os.environ.get("AWS_ENDPOINT_URL", "")).hostname
    if host in {"localhost", "127.0.0.1", "::1"}:
        return
    raise StackError(
        "deploy_stack deploys only to the embedded AWS: call it inside embedded_aws.embedded_aws(), "
        "or with AWS_ENDPOINT_URL pointing at a moto server on this machine"
    )


class Aws:
    """One region of the embedded AWS: its account, its partition and one client per service."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.session = boto3.session.Session(region_name=region)
        self._clients: dict[str, Any] = {}
        self.account: str = self.client("sts").get_caller_identity()["Account"]
        self.partition: str = self.session.get_partition_for_region(region)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)  # type: ignore[call-overload]
        return self._clients[service]

    def call(self, service: str, operation: str, params: Mapping[str, Any]) -> Any:
        """Call an API with CloudFormation-style values converted to the types the API takes."""
        client = self.client(service)
        shape = client.meta.service_model.operation_model(operation).input_shape
        return getattr(client, xform_name(operation))(**_coerce(shape, dict(params)))


def _coerce(shape: Shape | None, value: Any) -> Any:
    """CloudFormation passes numbers as strings and JSON documents as objects; APIs want their types."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        return {key: _coerce(shape.members.get(key), item) for key, item in value.items()}
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_coerce(shape.member, item) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: _coerce(shape.value, item) for key, item in value.items()}
    if shape is None or (isinstance(value, dict | list) and shape.type_name != "string"):
        return value
    return _coerce_scalar(shape.type_name, value)


def _coerce_scalar(kind: str, value: Any) -> Any:
    if kind == "string":
        if isinstance(value, dict | list):
            return json.dumps(value)
        return cfn_string(value) if isinstance(value, bool | int | float) else value
    converters: dict[str, Callable[[Any], Any]] = {
        "integer": int,
        "long": int,
        "float": float,
        "double": float,
        "boolean": lambda text: str(text).lower() == "true",
    }
    converter = converters.get(kind)
    return converter(value) if converter is not None and isinstance(value, str) else value
