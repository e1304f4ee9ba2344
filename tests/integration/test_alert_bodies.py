"""Each alert body is sent once, and each kind of subscriber still gets its own form.

SNS delivers the ``default`` body to every protocol without a key of its own, so the alert carries
the JSON document once (``default``) and the text once (``email``): copies would only eat into the
256 KB budget the findings share.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto.awslambda.models import LambdaBackend
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sns.models import Subscription, sns_backends

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.sns import SnsPublisher
from bedrock_governance.core.notify import Notification
from bedrock_governance.tags.config import TagComplianceConfig
from bedrock_governance.tags.job import TagComplianceJob
from embedded_aws import embedded_aws
from embedded_aws.inbox import sent_messages
from embedded_aws.seed import ALLOWED_TAG_VALUES

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
REGION = "us-east-1"
BUCKET = "governance-state"
CONSUMER = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:alert-consumer"
SOURCE = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-lite-v1:0"
COMPLIANT = {"Project": "Chatbot", "Environment": "prod", "CostCenter": "CC-1001", "Owner": "alice@example.com"}
# The mistakes people make, in turn: a missing key, a near-miss key, values not allowed, no tags.
VIOLATIONS: tuple[dict[str, str], ...] = (
    {"Project": "Chatbot", "Environment": "prod", "Owner": "bob@example.com"},
    {"project": "DocSearch", "Environment": "dev", "CostCenter": "CC-2040", "Owner": "carol@example.com"},
    {"Project": "Insights", "Environment": "production", "CostCenter": "CC-3300", "Owner": "dan@example.com"},
    {"Project": "Translate", "Environment": "Staging", "CostCenter": "CC-1001", "Owner": " "},
    {},
)


class Topic:
    """A topic with an SQS queue, a Lambda function and e-mail addresses subscribed."""

    def __init__(self, arn: str, queue_url: str, lambda_deliveries: list[dict[str, Any]]) -> None:
        self.arn = arn
        self.queue_url = queue_url
        self.lambda_deliveries = lambda_deliveries

    def sqs_envelopes(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=REGION)
        received = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
        return [json.loads(message["Body"]) for message in received.get("Messages", [])]

    def subscription(self, protocol: str) -> Subscription:
        backend = sns_backends[DEFAULT_ACCOUNT_ID][REGION]
        (found,) = [s for s in backend.subscriptions.values() if s.topic.arn == self.arn and s.protocol == protocol]
        return found


@pytest.fixture
def topic(monkeypatch: pytest.MonkeyPatch) -> Iterator[Topic]:
    # moto cannot run a Lambda container; what SNS hands the function is caught on its way there.
    lambda_deliveries: list[dict[str, Any]] = []

    def send_sns_message(
        _backend: LambdaBackend, function_name: str, message: str, subject: str | None = None, **_: Any
    ) -> None:
        lambda_deliveries.append({"function": function_name, "message": message, "subject": subject})

    monkeypatch.setattr(LambdaBackend, "send_sns_message", send_sns_message)
    with embedded_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        arn = sns.create_topic(Name="alerts")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="alert-consumer")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
        sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=CONSUMER)
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="finops@example.com")
        sns.subscribe(TopicArn=arn, Protocol="email-json", Endpoint="robot@example.com")
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield Topic(arn, queue_url, lambda_deliveries)


def test_email_sqs_and_lambda_subscribers_each_get_their_own_form(topic: Topic) -> None:
    document = {"type": "tag-compliance", "findings": [{"arn": "arn:aws:bedrock:x", "violations": ["missing"]}]}
    note = Notification(subject="Bedrock tag violations", text="Bedrock tag compliance\n[1] chatbot", document=document)
    SnsPublisher(boto3.client("sns", region_name=REGION)).publish(topic.arn, note)

    # Programs over SQS get the JSON document inside SNS's envelope.
    (envelope,) = topic.sqs_envelopes()
    assert envelope["TopicArn"] == topic.arn
    assert envelope["Subject"] == "Bedrock tag violations"
    assert json.loads(envelope["Message"]) == document
    # Programs over Lambda get the JSON document too.
    (delivery,) = topic.lambda_deliveries
    assert delivery["function"] == "alert-consumer"
    assert json.loads(delivery["message"]) == document
    # People get the text; e-mail-json, HTTP and HTTPS have no key of their own and get `default`,
    # the JSON document, as in AWS. moto sends no mail, so its own selection rule is asked.
    (sent,) = sent_messages(topic.arn)
    message = note.sns_message()
    assert topic.subscription("email")._parse_message_structure(message, "email") == note.text
    assert json.loads(topic.subscription("email-json")._parse_message_structure(message, "email-json")) == document
    for protocol in ("http", "https"):
        subscription = Subscription(DEFAULT_ACCOUNT_ID, topic.subscription("sqs").topic, "https://x.invalid/", protocol)
        assert json.loads(subscription._parse_message_structure(message, protocol)) == document
    # The embedded AWS's inbox delivers the same way.
    assert sent.text == sent.body_for("email") == note.text
    assert sent.document == document
    for protocol in ("sqs", "lambda", "email-json", "http", "https", "firehose"):
        assert json.loads(sent.body_for(protocol)) == document
    # Each body once.
    assert sorted(json.loads(message)) == ["default", "email"]


def test_an_alert_about_100_violators_among_1000_profiles_names_all_100(topic: Topic) -> None:
    bedrock = boto3.client("bedrock", region_name=REGION)
    violators: set[str] = set()
    for index in range(1000):
        violating = index % 10 == 0
        tags = VIOLATIONS[(index // 10) % len(VIOLATIONS)] if violating else COMPLIANT
        arn = bedrock.create_inference_profile(
            inferenceProfileName=f"profile-{index:04d}",
            modelSource={"copyFrom": SOURCE},
            tags=[{"key": key, "value": value} for key, value in tags.items()],
        )["inferenceProfileArn"]
        if violating:
            violators.add(arn)
    assert len(violators) == 100
    config = TagComplianceConfig.from_env(
        {
            "ALERT_TOPIC_ARN": topic.arn,
            "GOVERNED_REGIONS": REGION,
            "ALLOWED_TAG_VALUES": json.dumps(ALLOWED_TAG_VALUES),
            "AWS_REGION": REGION,
            "STATE_BUCKET": BUCKET,
        }
    )

    result = TagComplianceJob.from_config(config, ClientFactory()).run(NOW)

    assert result.facts.checked == 1000
    assert {f.profile.arn for f in result.findings} == violators
    # Nothing is cut and nobody is sent to S3 for the rest.
    assert result.full_report_uri is None
    (sent,) = sent_messages(topic.arn)
    assert sent.document is not None
    assert sent.document["truncated"] is False
    assert sent.document["omitted"] == 0
    assert {f["arn"] for f in sent.document["findings"]} == violators
    for arn in violators:
        assert arn in sent.text
    assert "more not shown" not in sent.text
    # The program subscribers get every finding as well.
    (envelope,) = topic.sqs_envelopes()
    assert {f["arn"] for f in json.loads(envelope["Message"])["findings"]} == violators
    (delivery,) = topic.lambda_deliveries
    assert {f["arn"] for f in json.loads(delivery["message"])["findings"]} == violators
