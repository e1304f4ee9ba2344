"""Fake credentials have one home for tests (tests/conftest.py) and one for the embedded AWS's own
programs (embedded_aws/credentials.py): a second copy drifts, or leaks a real-looking value."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOMES = {ROOT / "tests" / "conftest.py", ROOT / "embedded_aws" / "credentials.py"}
# A credential spelled out: the variable or parameter name, then a literal value (quoted, or bare
# as in an export line); a name followed by another variable's name is not a definition.
NAME = r"(?:AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws_access_key_id|aws_secret_access_key)"
DEFINED = re.compile(NAME + r"""(?:["']?\s*[:,]\s*|\s*=\s*)["'](?!AWS_)[^"'{]|""" + NAME + r"=[a-z0-9]")


def test_fake_credentials_are_defined_only_in_their_two_homes() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for top in ("tests", "embedded_aws")
        for path in sorted((ROOT / top).rglob("*.py"))
        if path not in HOMES
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if DEFINED.search(line)
    ]
    assert found == []


def test_the_embedded_aws_and_the_tests_use_the_same_fake_credentials() -> None:
    from embedded_aws.credentials import FAKE_CREDENTIALS  # noqa: PLC0415
    from tests.conftest import FAKE_ENV  # noqa: PLC0415

    assert {name: FAKE_ENV[name] for name in FAKE_CREDENTIALS} == FAKE_CREDENTIALS
