"""The instruments tests rely on: call counting and fault injection behave like botocore sees AWS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from embedded_aws import embedded_aws
from embedded_aws.calls import count_api_calls
from embedded_aws.faults import Fault, inject_faults


def any_client(service: str, **options: Any) -> Any:
    """``boto3.client`` for a service named at run time: the stubs' overloads want a literal name."""
    make: Callable[..., Any] = boto3.client
    return make(service, **options)


def test_calls_are_counted_per_operation_and_region() -> None:
    with embedded_aws(), count_api_calls() as calls:
        for region in ("us-east-1", "eu-central-1"):
            boto3.client("sns", region_name=region).create_topic(Name="t")
        boto3.client("sns", region_name="us-east-1").list_topics()
    assert calls.count("sns", "CreateTopic") == 2
    assert calls.count("sns", "CreateTopic", region="eu-central-1") == 1
    assert calls.by_operation() == {"sns:CreateTopic": 2, "sns:ListTopics": 1}
    assert calls.writes() == {"sns:CreateTopic": 2}


def test_clients_created_outside_the_block_are_not_counted() -> None:
    with embedded_aws():
        before = boto3.client("sns", region_name="us-east-1")
        with count_api_calls() as calls:
            before.list_topics()
        assert calls.count() == 0


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("bedrock", lambda c: c.list_inference_profiles(), "AccessDeniedException"),
        ("sns", lambda c: c.list_topics(), "AuthorizationError"),
        ("s3", lambda c: c.list_buckets(), "AccessDenied"),
        ("resourcegroupstaggingapi", lambda c: c.get_resources(), "ThrottlingException"),
        ("cloudwatch", lambda c: c.list_metrics(), "AccessDenied"),
        (
            "ce",
            lambda c: c.get_dimension_values(
                TimePeriod={"Start": "2026-01-01", "End": "2026-01-02"}, Dimension="SERVICE"
            ),
            "AccessDeniedException",
        ),
    ],
)
def test_injected_faults_arrive_as_aws_errors_in_each_protocol(service: str, call: object, code: str) -> None:
    with embedded_aws(), inject_faults(Fault(service, "*", code, status=400)):
        client = any_client(service, region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
        with pytest.raises(ClientError) as caught:
            call(client)  # type: ignore[operator]
    assert caught.value.response["Error"]["Code"] == code


def test_a_throttling_burst_is_retried_by_botocore_and_counted_as_attempts() -> None:
    burst = Fault("sns", "ListTopics", "Throttling", status=400, times=2)
    with embedded_aws(), count_api_calls() as calls, inject_faults(burst):
        client = boto3.client("sns", region_name="us-east-1", config=Config(retries={"mode": "standard"}))
        client.list_topics()
    assert burst.fired == 2
    assert calls.count("sns", "ListTopics") == 1
    assert sum(n for (s, o, _), n in calls.attempts.items() if o == "ListTopics") == 3


def test_faults_can_target_one_region() -> None:
    with embedded_aws(), inject_faults(Fault("sns", "ListTopics", "AuthorizationError", region="eu-west-1")):
        boto3.client("sns", region_name="us-east-1").list_topics()
        with pytest.raises(ClientError):
            boto3.client("sns", region_name="eu-west-1").list_topics()


def test_a_faulted_write_does_not_happen() -> None:
    with embedded_aws(), inject_faults(Fault("sns", "CreateTopic", "Throttling")):
        client = boto3.client("sns", region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
        with pytest.raises(ClientError):
            client.create_topic(Name="never")
        assert client.list_topics()["Topics"] == []
