"""What AWS checks before it creates an application inference profile, checked first: pure.

``CreateInferenceProfile`` refuses a request whose name, description or tags break the limits
of Bedrock's API model (botocore's ``bedrock`` service model, checked against the AWS docs), or
whose name is taken in the region. A dry run that says "Would create" for such a request is
wrong, and a real create would fail half-way through a script; so both run these checks first.

* name: 1..64 characters, pattern ``([0-9a-zA-Z][ _-]?)+`` (letters and digits, a single space,
  ``_`` or ``-`` between them), unique among the region's application profiles;
* description (optional): 1..200 characters, pattern ``([0-9a-zA-Z:.][ _-]?)+``;
* tags: at most 50 per resource, key 1..128 and value 0..256 characters of
  ``[a-zA-Z0-9\\s._:/=+@-]``, no key starting with the reserved ``aws:`` prefix.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final

NAME_MAX: Final = 64
NAME_PATTERN: Final = re.compile(r"([0-9a-zA-Z][ _-]?)+")
DESCRIPTION_MAX: Final = 200
DESCRIPTION_PATTERN: Final = re.compile(r"([0-9a-zA-Z:.][ _-]?)+")
TAG_KEY_MAX: Final = 128
TAG_VALUE_MAX: Final = 256
TAG_PATTERN: Final = re.compile(r"[a-zA-Z0-9\s._:/=+@-]*", re.ASCII)
MAX_TAGS: Final = 50
RESERVED_TAG_PREFIX: Final = "aws:"


@dataclass(frozen=True)
class ProfileProblem:
    """One reason AWS would refuse the request; ``field`` is what the user gave it as."""

    field: str
    message: str

    def describe(self) -> str:
        return f"{self.field}: {self.message}"


def _shown(value: str, limit: int = 70) -> str:
    """A value as the user typed it, quoted, cut short when long."""
    return f'"{value}"' if len(value) <= limit else f'"{value[:limit]}..." ({len(value)} characters)'


def name_problems(name: str, existing_names: Collection[str] = ()) -> list[ProfileProblem]:
    if not name:
        return [ProfileProblem("name", "is empty; a profile name has 1 to 64 characters")]
    if len(name) > NAME_MAX:
        return [ProfileProblem("name", f"has {len(name)} characters; at most {NAME_MAX}")]
    if not NAME_PATTERN.fullmatch(name):
        return [
            ProfileProblem(
                "name",
                f"{_shown(name)} is not letters and digits with single spaces, _ or - between them "
                "(it must start with a letter or digit)",
            )
        ]
    if name in existing_names:
        return [ProfileProblem("name", f"{_shown(name)} is taken: an application profile of that name exists")]
    return []


def description_problems(description: str | None) -> list[ProfileProblem]:
    if description is None:
        return []
    if not description:
        return [ProfileProblem("description", "is empty; leave it out or give 1 to 200 characters")]
    if len(description) > DESCRIPTION_MAX:
        return [ProfileProblem("description", f"has {len(description)} characters; at most {DESCRIPTION_MAX}")]
    if not DESCRIPTION_PATTERN.fullmatch(description):
        return [
            ProfileProblem(
                "description",
                f"{_shown(description)} may hold only letters, digits, : and . with single spaces, _ or - between them",
            )
        ]
    return []


def tag_problems(tags: Mapping[str, str]) -> list[ProfileProblem]:
    problems: list[ProfileProblem] = []
    if len(tags) > MAX_TAGS:
        problems.append(ProfileProblem("tags", f"{len(tags)} tags; a profile takes at most {MAX_TAGS}"))
    for key, value in tags.items():
        where = f"tag {_shown(key, 40)}"
        if not key or len(key) > TAG_KEY_MAX:
            problems.append(ProfileProblem(where, f"the key has {len(key)} characters; 1 to {TAG_KEY_MAX}"))
        elif not TAG_PATTERN.fullmatch(key):
            problems.append(ProfileProblem(where, "the key may hold only letters, digits, spaces and ._:/=+@-"))
        elif key.lower().startswith(RESERVED_TAG_PREFIX):
            problems.append(ProfileProblem(where, f"keys starting with {RESERVED_TAG_PREFIX} are reserved for AWS"))
        if len(value) > TAG_VALUE_MAX:
            problems.append(ProfileProblem(where, f"the value has {len(value)} characters; at most {TAG_VALUE_MAX}"))
        elif not TAG_PATTERN.fullmatch(value):
            problems.append(
                ProfileProblem(where, f"the value {_shown(value)} may hold only letters, digits, spaces and ._:/=+@-")
            )
    return problems


def profile_problems(
    name: str, description: str | None, tags: Mapping[str, str], existing_names: Collection[str] = ()
) -> list[ProfileProblem]:
    """Every reason ``CreateInferenceProfile`` would refuse this request ([] when none is known).

    ``existing_names`` are the names of the region's application profiles (ListInferenceProfiles).
    """
    return [*name_problems(name, existing_names), *description_problems(description), *tag_problems(tags)]
