"""Message pieces are written once (core.text, RegionFailure.to_dict) and every render uses them."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import bedrock_governance
from bedrock_governance.budgets import render as budget_render
from bedrock_governance.core.models import RegionFailure
from bedrock_governance.core.text import RULE, footer, plural, rule, run_header
from bedrock_governance.idle import render as idle_render
from bedrock_governance.tags import render as tag_render
from bedrock_governance.tags.policy import TagPolicy, evaluate_profile
from bedrock_governance.tags.state import AlertState, decide_alert
from tests.unit.factories import profile
from tests.unit.test_budget_alert import facts as budget_facts
from tests.unit.test_idle_alert import facts as idle_facts

PACKAGE = Path(bedrock_governance.__file__).parent
RENDER_MODULES = (
    PACKAGE / "tags" / "render.py",
    PACKAGE / "idle" / "render.py",
    PACKAGE / "budgets" / "render.py",
)
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
FAILURES = (
    RegionFailure("eu-west-1", "AccessDeniedException", "not authorized to perform bedrock:ListInferenceProfiles"),
    RegionFailure("ap-south-1", "EndpointConnectionError", "Could not connect\nto the endpoint"),
)


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 regions"), (1, "1 region"), (2, "2 regions"), (1_000, "1,000 regions")],
)
def test_plural(count: int, expected: str) -> None:
    assert plural(count, "region") == expected


def test_plural_takes_an_irregular_form() -> None:
    assert plural(1, "was", "were") == "1 was"
    assert plural(3, "was", "were") == "3 were"


def test_rule_and_run_header() -> None:
    assert RULE == "=" * 72
    assert rule(78) == "=" * 78
    tokyo = datetime(2026, 11, 26, 16, 0, tzinfo=timezone(timedelta(hours=9)))
    assert run_header("Title", tokyo) == ["Title", "Thu 26 Nov 2026 07:00 UTC"]


def test_footer() -> None:
    assert footer("CostReportFunction") == ["--", "Sent by the Bedrock governance CostReportFunction."]
    assert footer("BudgetFunction", ["more."], rest=" when it") == [
        "--",
        "Sent by the Bedrock governance BudgetFunction when it",
        "more.",
    ]


def _functions(path: Path) -> set[str]:
    return {node.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.FunctionDef)}


def test_no_local_plural_anywhere_in_the_package() -> None:
    offenders = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if "_plural" in _functions(path)]
    assert offenders == []


@pytest.mark.parametrize("path", RENDER_MODULES, ids=lambda p: p.parent.name)
def test_every_render_uses_the_shared_pieces(path: Path) -> None:
    source = path.read_text()
    tree = ast.parse(source)
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "bedrock_governance.core.text"
        for alias in node.names
    }
    assert {"plural", "RULE", "run_header", "footer"} <= imported
    assert '"=" *' not in source
    assert "Sent by the Bedrock governance" not in source
    assert "%a %d %b %Y %H:%M} UTC" not in source
    assert '"errorCode"' not in source  # failed regions come from RegionFailure.to_dict()


def test_the_cost_report_uses_the_shared_footer_and_rule() -> None:
    for path in (PACKAGE / "cost" / "render").glob("*.py"):
        source = path.read_text()
        assert "Sent by the Bedrock governance" not in source, path.name
        assert '"=" *' not in source, path.name


def test_region_failure_round_trip() -> None:
    for failure in FAILURES:
        document = failure.to_dict()
        assert document == {"region": failure.region, "errorCode": failure.error_code, "message": failure.message}
        assert RegionFailure.from_dict(json.loads(json.dumps(document))) == failure


def _tag_documents() -> tuple[dict[str, Any], dict[str, Any]]:
    policy = TagPolicy(required_keys=("Project", "Owner"), allowed_values={})
    finding = evaluate_profile(profile("chatbot", tags={"Project": "Chat"}), policy)
    assert finding is not None
    decision = decide_alert([finding], FAILURES, AlertState(), NOW, timedelta(days=7))
    facts = tag_render.SweepFacts(NOW, ("us-east-1", "eu-west-1", "ap-south-1"), 1, policy, FAILURES, (finding,))
    return dict(tag_render.render(facts, decision, 100).document), tag_render.full_report(facts, decision)


def _idle_document() -> dict[str, Any]:
    return dict(idle_render.render(idle_facts(failures=FAILURES), 100).document)


def _budget_document() -> dict[str, Any]:
    run = budget_facts(failures=FAILURES)
    return dict(budget_render.render(run, budget_render.attention_items(run), frozenset(), 100).document)


DOCUMENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "tag alert": lambda: _tag_documents()[0],
    "tag full report": lambda: _tag_documents()[1],
    "idle": _idle_document,
    "budgets": _budget_document,
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_document_lists_failed_regions_in_the_same_shape(name: str) -> None:
    listed = DOCUMENTS[name]()["failedRegions"]
    assert listed == [failure.to_dict() for failure in FAILURES]
    # Exact values in JSON: the newline stays a newline, and the entry reads back as the failure.
    assert [RegionFailure.from_dict(entry) for entry in json.loads(json.dumps(listed))] == list(FAILURES)
