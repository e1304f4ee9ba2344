"""What a tag violation is: pure policy, no AWS calls, no clock.

Keys and values are case-sensitive in AWS (``project`` and ``Project`` are different keys), and
cost allocation groups by the exact key, so near misses are violations too: they are named as
such, with the exact fix.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from bedrock_governance.core.models import InferenceProfile


class ViolationKind(StrEnum):
    MISSING_KEY = "missing-key"
    BLANK_VALUE = "blank-value"
    VALUE_NOT_ALLOWED = "value-not-allowed"
    KEY_NEAR_MISS = "key-near-miss"
    VALUE_NEAR_MISS = "value-near-miss"


@dataclass(frozen=True)
class TagPolicy:
    """Required keys, and for some keys the list of allowed values."""

    required_keys: tuple[str, ...]
    allowed_values: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_values", MappingProxyType(dict(self.allowed_values)))


@dataclass(frozen=True)
class Violation:
    """One thing wrong with one tag key. ``suggestion`` is the value to set, when it is known."""

    kind: ViolationKind
    key: str
    found_key: str | None = None
    found_value: str | None = None
    allowed: tuple[str, ...] = ()
    suggestion: str | None = None

    def describe(self) -> str:
        allowed = f" (allowed: {', '.join(self.allowed)})" if self.allowed else ""
        match self.kind:
            case ViolationKind.MISSING_KEY:
                return f"missing tag {self.key}{allowed}"
            case ViolationKind.BLANK_VALUE:
                return f"tag {self.key} is blank{allowed}"
            case ViolationKind.VALUE_NOT_ALLOWED:
                return f"tag {self.key}={self.found_value!r} is not an allowed value{allowed}"
            case ViolationKind.KEY_NEAR_MISS:
                return f"tag key {self.found_key!r} should be {self.key!r} (keys are case-sensitive)"
            case ViolationKind.VALUE_NEAR_MISS:
                return f"tag {self.key}={self.found_value!r} should be {self.suggestion!r} (values are case-sensitive)"

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "key": self.key,
            "foundKey": self.found_key,
            "foundValue": self.found_value,
            "allowed": list(self.allowed),
            "suggestion": self.suggestion,
            "description": self.describe(),
        }


def _normalise(text: str) -> str:
    return text.strip().casefold()


def _check_value(key: str, value: str, policy: TagPolicy) -> Violation | None:
    allowed = policy.allowed_values.get(key, ())
    if not value.strip():
        return Violation(ViolationKind.BLANK_VALUE, key, found_key=key, found_value=value, allowed=allowed)
    if not allowed or value in allowed:
        return None
    near = [candidate for candidate in allowed if _normalise(candidate) == _normalise(value)]
    if near:
        return Violation(
            ViolationKind.VALUE_NEAR_MISS, key, found_key=key, found_value=value, allowed=allowed, suggestion=near[0]
        )
    return Violation(ViolationKind.VALUE_NOT_ALLOWED, key, found_key=key, found_value=value, allowed=allowed)


def evaluate_tags(tags: Mapping[str, str], policy: TagPolicy) -> tuple[Violation, ...]:
    """Every violation of ``policy`` in ``tags``, in the policy's key order."""
    violations: list[Violation] = []
    for key in policy.required_keys:
        allowed = policy.allowed_values.get(key, ())
        if key in tags:
            problem = _check_value(key, tags[key], policy)
            if problem:
                violations.append(problem)
            continue
        near_keys = sorted(found for found in tags if _normalise(found) == _normalise(key))
        if not near_keys:
            violations.append(Violation(ViolationKind.MISSING_KEY, key, allowed=allowed))
            continue
        found_key = near_keys[0]
        value = tags[found_key]
        # Suggest the value the key should carry once renamed: the allowed spelling if it is a
        # near miss, the value as it is if it passes, nothing if it would still be wrong.
        value_problem = _check_value(key, value, policy)
        if value_problem is None:
            suggestion: str | None = value
        elif value_problem.kind is ViolationKind.VALUE_NEAR_MISS:
            suggestion = value_problem.suggestion
        else:
            suggestion = None
        violations.append(
            Violation(
                ViolationKind.KEY_NEAR_MISS,
                key,
                found_key=found_key,
                found_value=value,
                allowed=allowed,
                suggestion=suggestion,
            )
        )
    # Keys with allowed values that are present but not required still have to use those values.
    for key in policy.allowed_values:
        if key not in policy.required_keys and key in tags:
            problem = _check_value(key, tags[key], policy)
            if problem:
                violations.append(problem)
    return tuple(violations)


@dataclass(frozen=True)
class ProfileFinding:
    """A profile that violates the policy, with everything needed to fix it."""

    profile: InferenceProfile
    violations: tuple[Violation, ...]

    @property
    def fingerprint(self) -> str:
        """Stable digest of what is wrong: changes when the violations change, not otherwise."""
        material = json.dumps([v.to_dict() for v in self.violations], sort_keys=True)
        return hashlib.sha256(material.encode()).hexdigest()[:16]

    def fix_commands(self) -> tuple[str, ...]:
        return fix_commands(self.profile, self.violations)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.profile.name,
            "arn": self.profile.arn,
            "id": self.profile.profile_id,
            "region": self.profile.region,
            "tags": dict(self.profile.tags),
            "violations": [v.to_dict() for v in self.violations],
            "fix": list(self.fix_commands()),
        }


def _placeholder(violation: Violation) -> str:
    if violation.allowed:
        return "<" + "|".join(violation.allowed) + ">"
    return f"<{violation.key}>"


def fix_commands(
    profile: InferenceProfile, violations: tuple[Violation, ...], quote: Callable[[str], str] = shlex.quote
) -> tuple[str, ...]:
    """AWS CLI commands that fix the violations; placeholders in <> where a person must choose.

    ``quote`` makes one shell word of a value (a text body passes one that keeps a command on one line).
    """
    to_set: list[str] = []
    to_remove: list[str] = []
    for violation in violations:
        value = violation.suggestion if violation.suggestion is not None else _placeholder(violation)
        # The CLI's shorthand splits on commas, so values are quoted for the shell as a whole.
        to_set.append(f"key={violation.key},value={value}")
        if violation.kind is ViolationKind.KEY_NEAR_MISS and violation.found_key:
            to_remove.append(violation.found_key)
    base = f"aws bedrock {{}} --region {quote(profile.region)} --resource-arn {quote(profile.arn)}"
    commands: list[str] = []
    if to_set:
        tags = " ".join(quote(item) for item in to_set)
        commands.append(base.format("tag-resource") + f" --tags {tags}")
    if to_remove:
        keys = " ".join(quote(key) for key in to_remove)
        commands.append(base.format("untag-resource") + f" --tag-keys {keys}")
    return tuple(commands)


def evaluate_profile(profile: InferenceProfile, policy: TagPolicy) -> ProfileFinding | None:
    violations = evaluate_tags(profile.tags, policy)
    return ProfileFinding(profile, violations) if violations else None
