"""Small builders for domain values used across unit tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from bedrock_governance.core.models import InferenceProfile, frozen_tags

ACCOUNT = "123456789012"


def profile(
    name: str = "chatbot-prod",
    *,
    tags: Mapping[str, str] | None = None,
    region: str = "us-east-1",
    profile_id: str | None = None,
    created_at: datetime = datetime(2026, 1, 1, tzinfo=UTC),
) -> InferenceProfile:
    pid = profile_id or (name.replace("-", "") + "000000000000")[:12].lower()
    return InferenceProfile(
        profile_id=pid,
        name=name,
        arn=f"arn:aws:bedrock:{region}:{ACCOUNT}:application-inference-profile/{pid}",
        region=region,
        model_arns=(f"arn:aws:bedrock:{region}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",),
        status="ACTIVE",
        created_at=created_at,
        tags=frozen_tags(tags),
    )
