"""The embedded AWS as a local HTTP server: the extended operations must be routed over HTTP."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from embedded_aws.bedrock import set_profile_in_use
from embedded_aws.server import EmbeddedServer, start_server

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
HAIKU_ARN = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
US_SONNET_37_ARN = (
    f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0"
)
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def running() -> Iterator[EmbeddedServer]:
    with start_server() as server:
        yield server


@pytest.fixture
def server(running: EmbeddedServer) -> EmbeddedServer:
    # Each test starts from an empty account, as with mock_aws().
    connection = http.client.HTTPConnection(running.host, running.port, timeout=10)
    try:
        connection.request("POST", "/moto-api/reset")
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    return running


def client(server: EmbeddedServer, service: str) -> Any:
    return any_client(service, region_name=REGION, endpoint_url=server.endpoint_url)


def any_client(service: str, **options: Any) -> Any:
    """``boto3.client`` for a service named at run time: the stubs' overloads want a literal name."""
    make: Callable[..., Any] = boto3.client
    return make(service, **options)


def test_endpoint_is_loopback_with_the_bound_port(server: EmbeddedServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.endpoint_url)
    assert server.port > 0


def test_inference_profile_round_trip_over_http(server: EmbeddedServer) -> None:
    bedrock = client(server, "bedrock")
    created = bedrock.create_inference_profile(
        inferenceProfileName="over-http",
        modelSource={"copyFrom": US_SONNET_37_ARN},
        tags=[{"key": "Project", "value": "A"}],
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    arn = created["inferenceProfileArn"]

    # An ARN in the URL path travels percent-encoded; the route must still find the profile.
    profile = bedrock.get_inference_profile(inferenceProfileIdentifier=arn)
    assert profile["inferenceProfileArn"] == arn
    assert len(profile["models"]) == 3
    listed = bedrock.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"]
    assert [p["inferenceProfileArn"] for p in listed] == [arn]
    assert bedrock.list_inference_profiles(maxResults=5)["inferenceProfileSummaries"][0]["type"] == "SYSTEM_DEFINED"

    bedrock.tag_resource(resourceARN=arn, tags=[{"key": "Team", "value": "x"}])
    bedrock.untag_resource(resourceARN=arn, tagKeys=["Project"])
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "Team", "value": "x"}]

    bedrock.delete_inference_profile(inferenceProfileIdentifier=arn)
    with pytest.raises(ClientError) as error:
        bedrock.get_inference_profile(inferenceProfileIdentifier=arn)
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_foundation_models_over_http(server: EmbeddedServer) -> None:
    bedrock = client(server, "bedrock")
    models = bedrock.list_foundation_models(byProvider="Anthropic", byInferenceType="ON_DEMAND")["modelSummaries"]
    assert HAIKU_ARN in {m["modelArn"] for m in models}
    assert bedrock.get_foundation_model(modelIdentifier=HAIKU_ARN)["modelDetails"]["modelArn"] == HAIKU_ARN


def test_validation_errors_keep_their_class_over_http(server: EmbeddedServer) -> None:
    bedrock = client(server, "bedrock")
    with pytest.raises(bedrock.exceptions.ValidationException):
        bedrock.create_inference_profile(inferenceProfileName="bad!", modelSource={"copyFrom": HAIKU_ARN})
    with pytest.raises(bedrock.exceptions.ValidationException):
        bedrock.list_inference_profiles(maxResults=1001)


def test_in_use_profile_over_http(server: EmbeddedServer) -> None:
    bedrock = client(server, "bedrock")
    arn = bedrock.create_inference_profile(inferenceProfileName="busy", modelSource={"copyFrom": HAIKU_ARN})[
        "inferenceProfileArn"
    ]
    # The server runs in this process, so the in-process switch applies to it.
    set_profile_in_use(ACCOUNT_ID, REGION, arn)
    with pytest.raises(bedrock.exceptions.ConflictException):
        bedrock.delete_inference_profile(inferenceProfileIdentifier=arn)


def test_tagging_api_over_http(server: EmbeddedServer) -> None:
    bedrock = client(server, "bedrock")
    tagging = client(server, "resourcegroupstaggingapi")
    tagged = bedrock.create_inference_profile(
        inferenceProfileName="tagged", modelSource={"copyFrom": HAIKU_ARN}, tags=[{"key": "Project", "value": "A"}]
    )["inferenceProfileArn"]
    never = bedrock.create_inference_profile(inferenceProfileName="never", modelSource={"copyFrom": HAIKU_ARN})[
        "inferenceProfileArn"
    ]

    response = tagging.get_resources(ResourceARNList=[tagged, never])
    assert [m["ResourceARN"] for m in response["ResourceTagMappingList"]] == [tagged]
    assert response["PaginationToken"] == ""
    filtered = tagging.get_resources(ResourceTypeFilters=["bedrock:application-inference-profile"])
    assert [m["ResourceARN"] for m in filtered["ResourceTagMappingList"]] == [tagged]
    with pytest.raises(ClientError) as error:
        tagging.get_resources(ResourceARNList=[tagged], ResourcesPerPage=10)
    assert error.value.response["Error"]["Code"] == "InvalidParameterException"


def test_stop_closes_the_port() -> None:
    with start_server() as server:
        port = server.port
    server.stop()  # idempotent
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_a_busy_port_is_an_error_not_a_hang(running: EmbeddedServer) -> None:
    with pytest.raises(OSError, match="in use"):
        start_server(port=running.port)


def test_command_line_entry_point_prints_the_endpoint_and_stops_on_interrupt() -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "embedded_aws.server", "--port", "0"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        # A terminal's Ctrl-C reaches a server that handles it: a disposition this test process
        # inherited (an ignored SIGINT is passed on to children) must not decide the outcome.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509 - no threads in the child yet
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", first)
        assert match, first
        endpoint = match.group(1)
        assert process.stdout.readline().strip() == f"export AWS_ENDPOINT_URL={endpoint}"

        bedrock = boto3.client("bedrock", region_name=REGION, endpoint_url=endpoint)
        assert bedrock.list_inference_profiles(maxResults=1)["inferenceProfileSummaries"]

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
