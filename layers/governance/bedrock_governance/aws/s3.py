"""JSON documents in the stack's S3 bucket: alert state, deletion records, full reports."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bedrock_governance.aws.errors import aws_call
from bedrock_governance.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class JsonStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def get(self, key: str) -> dict[str, Any] | None:
        """The document at ``key``, or None when there is none yet."""
        try:
            with aws_call("s3", "GetObject"):
                response = self._client.get_object(Bucket=self.bucket, Key=key)
                body = response["Body"].read()
        except NotFound:
            return None
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError(f"{self.uri(key)} does not hold a JSON object")
        return document

    def put(self, key: str, document: dict[str, Any]) -> str:
        return self.put_bytes(key, json.dumps(document, indent=2, sort_keys=True).encode(), "application/json")

    def put_bytes(self, key: str, body: bytes, content_type: str) -> str:
        """Write ``body`` and return its ``s3://`` URI. Encryption is the bucket's default."""
        with aws_call("s3", "PutObject"):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        return self.uri(key)
