"""The package's layout keeps its promises: pure policies, handlers that load only their own job, nothing left out.

Each import is measured in a fresh interpreter (``sys.modules`` of this one holds everything the
other tests imported).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import setuptools

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "governance"
PACKAGE = LAYER / "bedrock_governance"
JOB_PACKAGES = ("tags", "idle", "cost", "budgets", "org")
# Each function's handler and the job packages it runs: the two jobs an organization run aggregates
# load the shared organization package too; its worker reads with the idle job's own code. The
# budget job asks Organizations whether its account is a member account (which cannot activate
# cost allocation tags).
HANDLERS = {
    "tag_compliance": {"tags", "org"},
    "idle_profiles": {"idle", "org"},
    "cost_report": {"cost"},
    "budgets": {"budgets", "org"},
    "organization_worker": {"org", "idle"},
}


def loaded_after(code: str) -> list[str]:
    """The modules loaded after ``code`` ran in a fresh interpreter that finds the package in the layer directory."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(LAYER), "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
        timeout=60,
    )
    modules: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return modules


def is_aws_sdk(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] in {"boto3", "botocore"}


def job_packages_in(modules: list[str]) -> set[str]:
    return {
        name.split(".")[1] for name in modules if name.count(".") >= 1 and name.split(".")[0] == "bedrock_governance"
    } & set(JOB_PACKAGES)


POLICIES = sorted(path.parent.name for path in PACKAGE.glob("*/policy.py"))


def test_every_job_has_a_policy() -> None:
    assert sorted(JOB_PACKAGES) == POLICIES


@pytest.mark.parametrize("job", POLICIES)
def test_a_policy_loads_no_aws_sdk(job: str) -> None:
    modules = loaded_after(f"import bedrock_governance.{job}.policy")
    assert f"bedrock_governance.{job}.policy" in modules
    assert [module for module in modules if is_aws_sdk(module)] == []


@pytest.mark.parametrize(("function", "jobs"), sorted(HANDLERS.items()))
def test_a_handler_loads_only_its_own_job_packages(function: str, jobs: set[str]) -> None:
    app = ROOT / "functions" / function / "app.py"
    code = (
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(app)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert callable(module.lambda_handler)"
    )
    modules = loaded_after(code)
    assert job_packages_in(modules) == jobs
    # The layer's own copy, not some installed one.
    assert "bedrock_governance" in modules


def test_every_function_has_a_handler_listed_here() -> None:
    assert sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py")) == sorted(HANDLERS)


def test_the_install_finds_every_subpackage() -> None:
    """pyproject.toml finds packages rather than listing them: every directory of the package that
    holds Python code must be one that setuptools' find returns (a missing ``__init__.py`` is not)."""
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert "layers/governance" in find["where"]
    found = set(setuptools.find_packages(where=str(LAYER), include=find["include"]))
    on_disk = {
        ".".join(directory.relative_to(LAYER).parts)
        for directory in {path.parent for path in PACKAGE.rglob("*.py")}
        if "__pycache__" not in directory.parts
    }
    assert on_disk == found
    assert {"bedrock_governance.core", "bedrock_governance.aws", "bedrock_governance.cost.render"} <= found
