"""Code, comments and the template point at documentation that is in this repository."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("layers", "functions", "embedded_aws", "tests", "docs", "events")
TOP_LEVEL = ("README.md", "template.yaml", "Makefile", "pyproject.toml", "samconfig.toml")
# The notes this project grew from live outside the repository; docs/aws-behaviour.md is their home here.
OUTSIDE = re.compile("AWS-" + "FACTS|shared/" + "AWS")


def text_files() -> list[Path]:
    files = [ROOT / name for name in TOP_LEVEL if (ROOT / name).exists()]
    for top in SOURCES:
        files += [
            path
            for path in sorted((ROOT / top).rglob("*"))
            if path.is_file() and path.suffix in {".py", ".md", ".yaml", ".yml", ".json", ".toml", ".txt"}
        ]
    return files


def test_nothing_refers_to_notes_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in text_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert found == []


def test_every_docs_path_named_in_code_exists() -> None:
    named = {
        match
        for path in text_files()
        if path.suffix in {".py", ".yaml"} or path.name == "template.yaml"
        for match in re.findall(r"docs/[\w-]+\.md", path.read_text(errors="replace"))
    }
    assert "docs/aws-behaviour.md" in named
    assert sorted(name for name in named if not (ROOT / name).is_file()) == []


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_the_encryption_key_parameter_points_at_the_hardening_notes() -> None:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    description = template["Parameters"]["EncryptionKeyArn"]["Description"]
    assert "docs/hardening.md" in description
    assert "README" not in description
    assert "## Encryption (KMS)" in (ROOT / "docs" / "hardening.md").read_text()
