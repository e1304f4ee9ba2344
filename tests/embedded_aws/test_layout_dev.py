"""The three development-side places stay apart: the embedded AWS knows neither the deployment
harness nor the programs, and the harness does not know the programs."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Each package, and what it must never import.
APART = {
    "embedded_aws": ("stack_harness", "programs"),
    "stack_harness": ("programs",),
}

# Imports every module of a package in a fresh interpreter and prints the top-level names it loaded.
_LOADED = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
    importlib.import_module(module.name)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


@pytest.mark.parametrize("package", sorted(APART))
def test_importing_every_module_of_a_package_loads_nothing_it_must_not_know(package: str) -> None:
    path = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "governance"), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-c", _LOADED, package],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = set(json.loads(result.stdout))
    assert package in loaded
    assert loaded & set(APART[package]) == set()


@pytest.mark.parametrize("package", sorted(APART))
def test_no_module_of_a_package_imports_what_it_must_not_know_even_late(package: str) -> None:
    # Imports inside functions (moto's are late, for one) do not show in sys.modules until called.
    found = []
    for file in sorted((ROOT / package).glob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [f"{file.name}: {name}" for name in names if name.split(".")[0] in APART[package]]
    assert found == []
