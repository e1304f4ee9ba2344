"""What subscribers would receive: the messages published to a topic in the embedded AWS."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    subject: str | None
    text: str
    """The body e-mail subscribers get."""
    document: dict[str, Any] | None
    """The JSON body SQS, Lambda and HTTPS subscribers get, when the message has one."""


def sent_messages(topic_arn: str, account_id: str = DEFAULT_ACCOUNT_ID) -> list[SentMessage]:
    """Every message published to ``topic_arn`` so far, oldest first."""
    region = topic_arn.split(":")[3]
    topic = sns_backends[account_id][region].topics[topic_arn]
    messages: list[SentMessage] = []
    for message_id, body, subject, _attributes, _group in topic.sent_notifications:
        try:
            bodies = json.loads(body)
        except json.JSONDecodeError:
            bodies = None
        if isinstance(bodies, dict) and "default" in bodies:
            text = str(bodies.get("email", bodies["default"]))
            document = json.loads(bodies["sqs"]) if "sqs" in bodies else None
        else:
            text, document = body, None
        messages.append(SentMessage(message_id, subject, text, document))
    return messages
