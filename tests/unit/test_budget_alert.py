from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

from bedrock_governance.budgets.policy import Conflict, CostTagCheck, CostTagProblem, Orphan
from bedrock_governance.budgets.render import (
    AppliedChange,
    BudgetAlertState,
    BudgetError,
    BudgetRunFacts,
    attention_items,
    decide_summary,
    item_count,
    render,
)
from bedrock_governance.core.models import NotificationSpec, RegionFailure, Subscriber
from bedrock_governance.core.notify import fit

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
CREATED = AppliedChange("bedrock-project-Alpha", "Alpha", "created", ("project found on 2 application profile(s)",))
UPDATED = AppliedChange(
    "bedrock-project-Beta", "Beta", "updated", ("limit $100.00 -> $150.00 (from ProjectBudgetsUSD)",)
)
ORPHAN = Orphan(
    "bedrock-project-Old", "Old", False, "project 'Old' has no application profile; kept because BudgetCleanup is off"
)
INACTIVE = CostTagProblem("cost-tags:inactive:Owner", "Cost allocation tag Owner is inactive.")


def facts(**changes: object) -> BudgetRunFacts:
    base = BudgetRunFacts(
        now=NOW,
        dry_run=False,
        regions=("us-east-1", "eu-central-1"),
        failures=(),
        projects={"Alpha": 2, "Beta": 1},
        configured_projects=("Beta", "Gamma"),
        thresholds=(NotificationSpec("ACTUAL", Decimal(80)), NotificationSpec("FORECASTED", Decimal(100))),
        subscribers=(Subscriber("SNS", TOPIC), Subscriber("EMAIL", "ops@example.com")),
        service_names=("Amazon Bedrock", "Claude 3 Haiku (Amazon Bedrock Edition)"),
        in_step=1,
        applied=(),
        kept_orphans=(),
        conflicts=(),
        errors=(),
        cost_tags=CostTagCheck(("Project",), {"Project": "Active"}),
        account_id="123456789012",
        cleanup=False,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_nothing_changed_and_nothing_to_say_sends_nothing() -> None:
    run = facts()
    decision = decide_summary(run, attention_items(run), BudgetAlertState())
    assert not decision.publish
    assert decision.state_if_published == BudgetAlertState()


def test_changes_are_always_announced() -> None:
    run = facts(applied=(CREATED,))
    decision = decide_summary(run, attention_items(run), BudgetAlertState())
    assert decision.publish
    assert decision.explanation == "1 change(s)"


def test_attention_items_are_announced_once_and_again_after_they_come_back() -> None:
    run = facts(kept_orphans=(ORPHAN,), cost_tags=CostTagCheck(("Owner",), {"Owner": "Inactive"}, (), (INACTIVE,)))
    attention = attention_items(run)
    assert [item.key for item in attention] == ["orphan:bedrock-project-Old", "cost-tags:inactive:Owner"]
    first = decide_summary(run, attention, BudgetAlertState())
    assert first.publish
    assert first.new_attention == {"orphan:bedrock-project-Old", "cost-tags:inactive:Owner"}

    second = decide_summary(run, attention, first.state_if_published)
    assert not second.publish

    resolved = facts()
    third = decide_summary(resolved, attention_items(resolved), second.state_if_published)
    assert not third.publish
    assert third.state_if_published.announced == frozenset()

    back = decide_summary(run, attention, third.state_if_published)
    assert back.publish


def test_a_failed_publish_keeps_the_changes_and_the_news_for_the_next_run() -> None:
    run = facts(applied=(CREATED,), kept_orphans=(ORPHAN,))
    decision = decide_summary(run, attention_items(run), BudgetAlertState())
    assert decision.state_if_failed.pending == (CREATED,)
    assert decision.state_if_failed.announced == frozenset()
    again = decide_summary(facts(applied=decision.state_if_failed.pending), (), decision.state_if_failed)
    assert again.publish


def test_a_dry_run_never_publishes_nor_changes_state() -> None:
    run = facts(dry_run=True, applied=(CREATED,), kept_orphans=(ORPHAN,))
    previous = BudgetAlertState(announced=frozenset({"x"}))
    decision = decide_summary(run, attention_items(run), previous)
    assert not decision.publish
    assert decision.state_if_published == previous


def test_the_state_round_trips_through_json() -> None:
    state = BudgetAlertState(
        announced=frozenset({"a", "b"}),
        pending=(CREATED, UPDATED),
        activation_refused_at=NOW,
        activation_refused_keys=("Project",),
    )
    assert BudgetAlertState.from_json(state.to_json()) == state
    assert BudgetAlertState.from_json({"version": 999}) == BudgetAlertState()


def test_region_failures_hide_not_judged_orphans_and_explain_themselves() -> None:
    failure = RegionFailure("eu-central-1", "AccessDeniedException", "no")
    unjudged = Orphan("bedrock-project-Beta", "Beta", False, "... - but a region failed, so not judged", judged=False)
    run = facts(failures=(failure,), kept_orphans=(unjudged,))
    (item,) = attention_items(run)
    assert item.key == "region:eu-central-1:AccessDeniedException"
    assert "no managed budget was judged orphaned" in item.text


def test_the_message_lists_changes_and_attention_in_text_and_json() -> None:
    error = BudgetError("bedrock-project-Gamma", "Gamma", "CreateBudget", "CreationLimitExceededException", "limit")
    conflict = Conflict("Delta", "bedrock-project-Delta", "a budget named bedrock-project-Delta exists but is not ours")
    run = facts(applied=(CREATED, UPDATED), kept_orphans=(ORPHAN,), errors=(error,), conflicts=(conflict,))
    attention = attention_items(run)
    decision = decide_summary(run, attention, BudgetAlertState(announced=frozenset({"orphan:bedrock-project-Old"})))
    message = render(run, attention, decision.new_attention, item_count(run, attention))

    assert message.subject == "Bedrock budgets: 1 created, 1 updated, 3 need attention"
    assert "CREATED (1)\n  bedrock-project-Alpha  (project Alpha)" in message.text
    assert "limit $100.00 -> $150.00 (from ProjectBudgetsUSD)" in message.text
    assert "NEEDS ATTENTION (3, 2 new)" in message.text
    assert "aws budgets delete-budget --account-id 123456789012 --budget-name bedrock-project-Old" in message.text
    assert "[new] bedrock-project-Gamma: CreateBudget failed with CreationLimitExceededException" in message.text
    assert (
        "3 projects: 2 found on application profiles in 2 regions (us-east-1, eu-central-1), 1 only in" in message.text
    )
    document = message.document
    assert [c["name"] for c in document["created"]] == ["bedrock-project-Alpha"]
    assert document["counts"] == {
        "inStep": 1,
        "created": 1,
        "updated": 1,
        "deleted": 0,
        "attention": 3,
        "newAttention": 2,
    }
    assert {a["key"]: a["new"] for a in document["attention"]} == {
        "orphan:bedrock-project-Old": False,
        "conflict:bedrock-project-Delta:Delta": True,
        error.key: True,
    }


def test_a_dry_run_says_what_it_would_do() -> None:
    run = facts(dry_run=True, applied=(CREATED,))
    message = render(run, (), frozenset(), 10)
    assert message.subject == "Bedrock budgets (dry run): 1 would create"
    assert "WOULD CREATE (1)" in message.text


def test_activated_cost_allocation_tags_are_named_in_the_message() -> None:
    activated = CostTagCheck(("Project", "Owner"), {"Project": "Active", "Owner": "Active"}, ("Owner",))
    message = render(facts(cost_tags=activated), (), frozenset(), 10)
    assert "Activated cost allocation tags: Owner." in message.text
    quiet = render(facts(), (), frozenset(), 10)
    assert "cost allocation tags:" not in quiet.text


def test_a_huge_run_is_cut_to_fit_sns_and_says_so() -> None:
    many = tuple(AppliedChange(f"bedrock-project-P{i:05d}", f"P{i:05d}", "created", ("x" * 400,)) for i in range(2_000))
    run = facts(applied=many)
    message = fit(lambda limit: render(run, (), frozenset(), limit), item_count(run, ()))
    assert message.fits()
    assert message.document["truncated"] is True
    assert 0 < len(message.document["created"]) < 2_000
    assert f"... and {message.document['omitted']:,} more not shown" in message.text
