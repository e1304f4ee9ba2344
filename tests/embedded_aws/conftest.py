"""Fixtures for the embedded AWS's own tests: fake credentials, no network, real boto3 clients."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.model import ListShape, ServiceModel, Shape, StructureShape

from embedded_aws import embedded_aws

ACCOUNT_ID = "123456789012"  # moto's account for any unknown access key
REGION = "us-east-1"

ShapeCheck = Callable[[Any, str, str], None]


@pytest.fixture
def aws() -> Iterator[None]:
    """The in-process embedded AWS, fresh for each test."""
    with embedded_aws():
        yield


@pytest.fixture
def bedrock(aws: None) -> Any:
    return boto3.client("bedrock", region_name=REGION)


@pytest.fixture
def tagging(aws: None) -> Any:
    return boto3.client("resourcegroupstaggingapi", region_name=REGION)


def _check(value: Any, shape: Shape, path: str) -> None:
    """Fail if ``value`` (a parsed response) lacks a required member or has a wrong type.

    botocore silently drops members it does not know, so a misspelt key in the fake shows up
    here as a missing required member.
    """
    if isinstance(shape, StructureShape):
        assert isinstance(value, dict), f"{path}: expected a structure, got {value!r}"
        for name in shape.required_members:
            assert name in value, f"{path}: required member {name} is missing"
        for name, member in shape.members.items():
            if name in value:
                _check(value[name], member, f"{path}.{name}")
    elif isinstance(shape, ListShape):
        assert isinstance(value, list), f"{path}: expected a list, got {value!r}"
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        assert low is None or len(value) >= low, f"{path}: fewer than {low} items"
        assert high is None or len(value) <= high, f"{path}: more than {high} items"
        for index, item in enumerate(value):
            _check(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "string":
        assert isinstance(value, str), f"{path}: expected a string, got {value!r}"
    elif shape.type_name == "timestamp":
        assert isinstance(value, datetime), f"{path}: expected a timestamp, got {value!r}"
        assert value.tzinfo is not None, f"{path}: timestamp without time zone"
    elif shape.type_name == "boolean":
        assert isinstance(value, bool), f"{path}: expected a boolean, got {value!r}"
    elif shape.type_name in {"integer", "long"}:
        assert isinstance(value, int), f"{path}: expected an integer, got {value!r}"


@functools.cache
def _service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


@pytest.fixture
def check_shape() -> ShapeCheck:
    """``check_shape(response, service, operation)`` validates a response against botocore's model."""

    def check(response: Any, service: str, operation: str) -> None:
        model = _service_model(service)
        output = model.operation_model(operation).output_shape
        assert output is not None
        body = {key: value for key, value in response.items() if key != "ResponseMetadata"}
        _check(body, output, operation)

    return check
