"""Domain values shared by every job: frozen, typed, free of boto3."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Final

# Tag keys this project writes or honours on profiles.
IDLE_SINCE_TAG: Final = "governance:idle-since"
KEEP_TAG: Final = "governance:keep"


def frozen_tags(tags: Mapping[str, str] | None) -> Mapping[str, str]:
    """A read-only copy of a tag mapping, so frozen dataclasses stay frozen."""
    return MappingProxyType(dict(tags or {}))


@dataclass(frozen=True)
class InferenceProfile:
    """An application inference profile as the governance jobs see it: summary plus tags."""

    profile_id: str
    name: str
    arn: str
    region: str
    model_arns: tuple[str, ...]
    status: str
    created_at: datetime
    updated_at: datetime | None = None
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: frozen_tags(None))

    def with_tags(self, tags: Mapping[str, str]) -> InferenceProfile:
        return InferenceProfile(
            profile_id=self.profile_id,
            name=self.name,
            arn=self.arn,
            region=self.region,
            model_arns=self.model_arns,
            status=self.status,
            created_at=self.created_at,
            updated_at=self.updated_at,
            description=self.description,
            tags=frozen_tags(tags),
        )


@dataclass(frozen=True)
class RegionFailure:
    """A governed region the run could not complete, and why."""

    region: str
    error_code: str
    message: str

    def describe(self) -> str:
        return f"{self.region}: {self.error_code}: {self.message}"


# Budgets this stack manages are named with this prefix and the project's tag value.
BUDGET_NAME_PREFIX: Final = "bedrock-project-"


def budget_name_for(project: str) -> str:
    """The managed budget's name for a project. Budget names may not contain ':' or '\\'."""
    safe = project.replace(":", "-").replace("\\", "-")
    return f"{BUDGET_NAME_PREFIX}{safe}"[:100]
