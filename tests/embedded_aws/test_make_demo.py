"""`make demo` sets up only what the demo needs and says what it is doing; `make test` still runs
everything; the packaging metadata gives no warnings (PEP 639 licence, moto's real extras)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import setuptools

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def planned(target: str) -> str:
    """The commands `make` would run for ``target`` from scratch (-B), without running them (-n)."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-nB", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


@needs_make
def test_make_demo_installs_neither_checkov_nor_the_test_tools() -> None:
    plan = planned("demo")
    assert "checkov" not in plan
    assert "'.[dev]'" not in plan
    assert "pip install --quiet -e '.[demo]'" in plan
    assert "aws-sam-cli==" in plan
    assert plan.rstrip().endswith("-m programs.demo")


@needs_make
def test_make_demo_announces_the_set_up_and_times_each_step() -> None:
    plan = planned("demo")
    assert re.search(r"one-time set-up of about \d+(\.\d+)? minutes?", plan)
    for step in ("project venv", "SAM CLI", "sam build"):
        assert f'echo "setup: {step} ... $((SECONDS - start)) s"' in plan, step


@needs_make
def test_make_test_still_runs_everything() -> None:
    plan = planned("test")
    for command in (
        "pip install --quiet -e '.[dev]'",
        "checkov==",
        "ruff check .",
        "ruff format --check .",
        "mypy",
        "sam validate --lint",
        "--framework cloudformation",
        "sam build",
        ".venv/bin/pytest",
    ):
        assert command in plan, command
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_licence_is_an_spdx_expression_with_a_setuptools_that_reads_it() -> None:
    # The table form ({text = ...}) is deprecated by setuptools; the string needs setuptools >= 77.
    assert PYPROJECT["project"]["license"] == "MIT-0"
    [requirement] = [r for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    minimum = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", requirement)
    assert minimum, requirement
    assert int(minimum.group(1)) >= 77


def test_every_moto_extra_asked_for_exists() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    [moto] = [r for group in extras.values() for r in group if r.startswith("moto[")]
    asked = set(moto.split("[", 1)[1].split("]", 1)[0].split(","))
    provided = set(metadata.metadata("moto").get_all("Provides-Extra") or [])
    assert asked <= provided, f"moto has no extra {sorted(asked - provided)}"


def test_the_dev_extra_is_the_demo_extra_plus_the_test_tools() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert "bedrock-governance[demo]" in extras["dev"]
    assert not any(r.startswith("checkov") for r in extras["demo"] + extras["dev"])
    assert not any(r.split("=")[0] in {"pytest", "ruff", "mypy", "hypothesis"} for r in extras["demo"])


def test_the_embedded_aws_is_installed_with_its_console_script() -> None:
    # Packages are found, not listed: the install's find must return them from the project root.
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    assert "." in find["where"]
    found = setuptools.find_packages(where=str(ROOT), include=find["include"])
    for package in ("embedded_aws", "stack_harness", "programs"):
        assert package in found, package
    assert PYPROJECT["project"]["scripts"]["embedded-aws"] == "embedded_aws.server:entry_point"
