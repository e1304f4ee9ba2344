"""Publishing notifications to SNS: one body for people, one for programs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bedrock_governance.aws.errors import aws_call
from bedrock_governance.core.notify import Notification

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class SnsPublisher:
    def __init__(self, client: SNSClient) -> None:
        self._client = client

    def publish(self, topic_arn: str, notification: Notification) -> str:
        """Publish and return the message id. Raises an ``AwsError`` subclass on failure."""
        with aws_call("sns", "Publish"):
            response = self._client.publish(
                TopicArn=topic_arn,
                Subject=notification.subject,
                Message=notification.sns_message(),
                MessageStructure="json",
            )
        return response["MessageId"]
