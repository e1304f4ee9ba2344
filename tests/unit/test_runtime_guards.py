"""Runtime guards are real errors: ``python -O`` strips ``assert``, so only tests may use it."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_AND_TOOLS = ("layers", "functions", "embedded_aws")


def test_no_assert_outside_the_tests() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for top in SHIPPED_AND_TOOLS
        for path in sorted((ROOT / top).rglob("*.py"))
        if ".aws-sam" not in path.parts
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Assert)
    ]
    assert found == []


def test_ruff_allows_assert_only_under_tests() -> None:
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "S101" not in lint.get("ignore", [])
    assert {pattern for pattern, codes in lint["per-file-ignores"].items() if "S101" in codes} == {"tests/**"}
