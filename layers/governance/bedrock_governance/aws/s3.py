"""JSON documents in the stack's S3 bucket: alert state, deletion records, full reports."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from bedrock_governance.aws.errors import aws_call
from bedrock_governance.core.errors import AwsError, NotFound, UnreadableState

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")

#: Where a state document that could not be read is kept before the run overwrites it.
QUARANTINE_PREFIX: Final = "state/quarantine/"
# A hostile or broken object is named in alerts: a reason longer than this is cut.
_REASON_CHARS: Final = 200


@dataclass(frozen=True)
class UnreadableObject:
    """A state document that exists but could not be understood, and where a copy of it was kept."""

    uri: str
    key: str
    reason: str
    body: bytes
    copy_uri: str | None = None
    copy_error: str | None = None

    def describe(self) -> str:
        if self.copy_uri:
            kept = f"a copy was kept at {self.copy_uri}"
        elif self.copy_error:
            kept = f"no copy could be kept ({self.copy_error})"
        else:
            kept = "it was left as it is"
        return f"The saved state {self.uri} could not be read ({self.reason}): treated as missing, {kept}."


@dataclass(frozen=True)
class StateRead(Generic[T]):
    """A state document as read: ``value`` None when there is none, or when it was ``unreadable``."""

    value: T | None
    unreadable: UnreadableObject | None = None


class JsonStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def get_bytes(self, key: str) -> bytes | None:
        """The object at ``key``, or None when there is none yet."""
        try:
            with aws_call("s3", "GetObject"):
                response = self._client.get_object(Bucket=self.bucket, Key=key)
                return response["Body"].read()
        except NotFound:
            return None

    def get(self, key: str) -> dict[str, Any] | None:
        """The document at ``key``, or None when there is none yet."""
        body = self.get_bytes(key)
        if body is None:
            return None
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError(f"{self.uri(key)} does not hold a JSON object")
        return document

    def read_state(self, key: str, parse: Callable[[dict[str, Any]], T]) -> StateRead[T]:
        """The state at ``key`` through ``parse``. Content that is not a JSON object, or that ``parse``
        rejects with :class:`UnreadableState`, comes back as ``unreadable`` instead of raising: a
        broken state must not stop every later run from alerting. AWS errors still raise."""
        body = self.get_bytes(key)
        if body is None:
            return StateRead(None)
        try:
            try:
                document = json.loads(body)
            except ValueError as error:  # not UTF-8, or not JSON
                raise UnreadableState(f"not JSON: {error}") from error
            if not isinstance(document, dict):
                raise UnreadableState(f"a JSON {type(document).__name__}, not an object")
            return StateRead(parse(document))
        except UnreadableState as error:
            reason = str(error)
            if len(reason) > _REASON_CHARS:
                reason = reason[: _REASON_CHARS - 3] + "..."
            return StateRead(None, UnreadableObject(self.uri(key), key, reason, body))

    def quarantine(self, unreadable: UnreadableObject, now: datetime) -> UnreadableObject:
        """Keep a copy of an unreadable state under :data:`QUARANTINE_PREFIX` before the run writes a
        new one. A copy that cannot be written is reported, not raised: the bucket's versioning
        still holds the old object, and the alert matters more."""
        stamp = now.astimezone(UTC) if now.tzinfo else now
        copy_key = f"{QUARANTINE_PREFIX}{PurePosixPath(unreadable.key).stem}-{stamp:%Y-%m-%dT%H%M%SZ}.json"
        try:
            uri = self.put_bytes(copy_key, unreadable.body, "application/octet-stream")
        except AwsError as error:
            return dataclasses.replace(unreadable, copy_error=f"{error.code}: {error.aws_message}")
        return dataclasses.replace(unreadable, copy_uri=uri)

    def put(self, key: str, document: dict[str, Any]) -> str:
        return self.put_bytes(key, json.dumps(document, indent=2, sort_keys=True).encode(), "application/json")

    def put_bytes(self, key: str, body: bytes, content_type: str) -> str:
        """Write ``body`` and return its ``s3://`` URI. Encryption is the bucket's default."""
        with aws_call("s3", "PutObject"):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        return self.uri(key)
