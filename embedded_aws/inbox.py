"""What subscribers would receive: the messages published to a topic in the embedded AWS."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends


def delivered_body(bodies: Mapping[str, Any], protocol: str) -> str:
    """The body a ``protocol`` subscriber gets from a ``MessageStructure="json"`` message.

    As AWS (and moto's delivery) does it: the protocol's own key, else ``default``. That holds for
    ``email-json``, ``http`` and ``https`` too, which have no special fallback of their own.
    """
    return str(bodies.get(protocol) or bodies["default"])


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    subject: str | None
    text: str
    """The body e-mail subscribers get."""
    document: dict[str, Any] | None
    """The JSON body SQS, Lambda and HTTPS subscribers get, when the message has one."""
    bodies: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """The per-protocol bodies as published (empty for a message without ``MessageStructure``)."""

    def body_for(self, protocol: str) -> str:
        """The body a subscriber over ``protocol`` (``email``, ``email-json``, ``sqs``, ...) gets."""
        return delivered_body(self.bodies, protocol) if self.bodies else self.text


def _json_document(body: str) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


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
            text = delivered_body(bodies, "email")
            document = _json_document(delivered_body(bodies, "sqs"))
            messages.append(SentMessage(message_id, subject, text, document, MappingProxyType(dict(bodies))))
        else:
            messages.append(SentMessage(message_id, subject, body, None))
    return messages
