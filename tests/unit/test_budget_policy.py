from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bedrock_governance.budgets.policy import (
    BEDROCK_SERVICE_FLOOR,
    MANAGED_BY_TAG,
    PROJECT_BUDGET_TAG,
    BudgetPlan,
    BudgetStep,
    BudgetTargets,
    CreateNotification,
    CreateSubscriber,
    DeleteNotification,
    DeleteSubscriber,
    DesiredBudget,
    ExistingBudget,
    ExistingNotification,
    OrganizationMembership,
    TagBudget,
    UpdateBudget,
    UpdateNotification,
    UpdateSubscriber,
    bedrock_service_names,
    check_cost_tags,
    desired_budgets,
    is_managed,
    keys_to_activate,
    notification_steps,
    plan_budgets,
    projects_from_profiles,
)
from bedrock_governance.core.models import NotificationSpec, Subscriber, budget_name_for
from tests.unit.factories import profile

TOPIC = Subscriber("SNS", "arn:aws:sns:us-east-1:123456789012:alerts")
EMAIL = Subscriber("EMAIL", "ops@example.com")
ACTUAL_80 = NotificationSpec("ACTUAL", Decimal(80))
ACTUAL_100 = NotificationSpec("ACTUAL", Decimal(100))
FORECAST_100 = NotificationSpec("FORECASTED", Decimal(100))
THRESHOLDS = (ACTUAL_80, ACTUAL_100, FORECAST_100)
SERVICES = ("Amazon Bedrock", "Claude 3 Haiku (Amazon Bedrock Edition)")
STACK = "bedrock-governance"


def targets(
    limits: dict[str, Decimal] | None = None,
    *,
    default: Decimal = Decimal(100),
    subscribers: tuple[Subscriber, ...] = (TOPIC, EMAIL),
    thresholds: tuple[NotificationSpec, ...] = THRESHOLDS,
    cleanup: bool = False,
) -> BudgetTargets:
    return BudgetTargets(
        default_limit=default,
        project_limits=limits or {},
        thresholds=thresholds,
        subscribers=subscribers,
        managed_by=STACK,
        cleanup=cleanup,
    )


def desired(projects: dict[str, int], settings: BudgetTargets | None = None) -> tuple[DesiredBudget, ...]:
    budgets, conflicts = desired_budgets(projects, settings or targets(), SERVICES)
    assert conflicts == ()
    return budgets


def existing_from(budget: DesiredBudget, **changes: object) -> ExistingBudget:
    """The budget as AWS would describe it after this stack created it (amounts as doubles)."""
    base: dict[str, object] = {
        "name": budget.name,
        "limit": Decimal(f"{budget.limit}.0") if "." not in str(budget.limit) else budget.limit,
        "unit": "USD",
        "time_unit": "MONTHLY",
        "budget_type": "COST",
        "cost_filters": {key: tuple(reversed(values)) for key, values in budget.cost_filters.items()},
        "tags": dict(budget.tags),
        "notifications": tuple(
            ExistingNotification(
                NotificationSpec(spec.notification_type, Decimal(f"{spec.threshold}.0")), budget.subscribers
            )
            for spec in budget.notifications
        ),
    }
    base.update(changes)
    return ExistingBudget(**base)  # type: ignore[arg-type]


def plan(
    wanted: tuple[DesiredBudget, ...],
    managed: tuple[ExistingBudget, ...] = (),
    *,
    unmanaged: frozenset[str] = frozenset(),
    cleanup: bool = False,
    complete: bool = True,
) -> BudgetPlan:
    return plan_budgets(
        wanted,
        managed,
        unmanaged_names=unmanaged,
        unreadable_names=frozenset(),
        name_conflicts=(),
        service_names=SERVICES,
        cleanup=cleanup,
        inventory_complete=complete,
    )


# --------------------------------------------------------------------------- desired state


def test_projects_come_from_exact_non_blank_project_tags() -> None:
    profiles = [
        profile("a", tags={"Project": "Alpha"}),
        profile("b", tags={"Project": "Alpha"}, region="eu-central-1"),
        profile("c", tags={"Project": "alpha"}),
        profile("d", tags={"Project": "  "}),
        profile("e", tags={"project": "Beta"}),
        profile("f"),
    ]
    assert projects_from_profiles(profiles) == {"Alpha": 2, "alpha": 1}


def test_limit_comes_from_project_budgets_else_the_default() -> None:
    budgets = desired({"Alpha": 2, "Beta": 1}, targets({"Alpha": Decimal(250), "Gamma": Decimal("12.50")}))
    by_project = {b.project: b for b in budgets}
    assert set(by_project) == {"Alpha", "Beta", "Gamma"}
    assert (by_project["Alpha"].limit, by_project["Alpha"].limit_source) == (Decimal(250), "ProjectBudgetsUSD")
    assert (by_project["Beta"].limit, by_project["Beta"].limit_source) == (Decimal(100), "DefaultMonthlyBudgetUSD")
    assert by_project["Gamma"].profile_count == 0
    assert by_project["Gamma"].name == budget_name_for("Gamma")


def test_the_filter_is_the_project_tag_and_every_bedrock_service_in_legacy_form() -> None:
    (budget,) = desired({"Alpha": 1})
    assert dict(budget.cost_filters) == {
        "Service": ("Amazon Bedrock", "Claude 3 Haiku (Amazon Bedrock Edition)"),
        "TagKeyValue": ("user:Project$Alpha",),
    }
    assert dict(budget.tags) == {MANAGED_BY_TAG: STACK, PROJECT_BUDGET_TAG: "Alpha"}


def test_projects_whose_budget_names_clash_or_are_refused_are_conflicts() -> None:
    budgets, conflicts = desired_budgets({"a:b": 1, "a-b": 1, "x/action/y": 1}, targets(), SERVICES)
    assert [b.project for b in budgets] == ["a-b"]
    assert {(c.project, c.name) for c in conflicts} == {
        ("a:b", "bedrock-project-a-b"),
        ("x/action/y", budget_name_for("x/action/y")),
    }
    assert any("same as project 'a-b'" in c.reason for c in conflicts)


def test_service_names_never_shrink_and_always_hold_the_floor() -> None:
    old = existing_from(
        desired({"Alpha": 1})[0], cost_filters={"Service": ("Llama (Amazon Bedrock Edition)", "Amazon EC2")}
    )
    assert bedrock_service_names((), ()) == (BEDROCK_SERVICE_FLOOR,)
    assert bedrock_service_names(["Claude (Amazon Bedrock Edition)"], [old]) == (
        "Amazon Bedrock",
        "Claude (Amazon Bedrock Edition)",
        "Llama (Amazon Bedrock Edition)",
    )


def test_managed_means_prefix_and_this_stacks_tag() -> None:
    assert is_managed("bedrock-project-A", {MANAGED_BY_TAG: STACK}, STACK)
    assert not is_managed("bedrock-project-A", {}, STACK)
    assert not is_managed("bedrock-project-A", {MANAGED_BY_TAG: "other-stack"}, STACK)
    assert not is_managed("team-A", {MANAGED_BY_TAG: STACK}, STACK)


# --------------------------------------------------------------------------- plan


def test_missing_budgets_are_created_with_a_reason() -> None:
    result = plan(desired({"Alpha": 2}, targets({"Gamma": Decimal(5)})))
    assert [(c.budget.project, c.reason) for c in result.creates] == [
        ("Alpha", "project found on 2 application profile(s); no budget yet"),
        ("Gamma", "project named in ProjectBudgetsUSD; no budget yet"),
    ]
    assert result.write_count == 2


def test_a_budget_as_aws_describes_it_is_in_step() -> None:
    wanted = desired({"Alpha": 1, "Beta": 1}, targets({"Beta": Decimal("12.5")}))
    result = plan(wanted, tuple(existing_from(b) for b in wanted))
    assert result.updates == ()
    assert result.creates == ()
    assert result.in_step == ("bedrock-project-Alpha", "bedrock-project-Beta")
    assert result.write_count == 0


def test_a_changed_limit_is_one_update_saying_from_what_to_what() -> None:
    (budget,) = desired({"Alpha": 1}, targets({"Alpha": Decimal(400)}))
    result = plan((budget,), (existing_from(budget, limit=Decimal(250)),))
    (update,) = result.updates
    assert update.steps == (UpdateBudget("limit $250.00 -> $400.00 (from ProjectBudgetsUSD)"),)


def test_a_drifted_filter_is_updated_with_what_was_added_and_dropped() -> None:
    (budget,) = desired({"Alpha": 1})
    drifted = existing_from(
        budget,
        cost_filters={"Service": ("Amazon Bedrock",), "TagKeyValue": ("user:Project$Alpha",), "Region": ("us-east-1",)},
        time_unit="QUARTERLY",
    )
    (update,) = plan((budget,), (drifted,)).updates
    (step,) = update.steps
    assert isinstance(step, UpdateBudget)
    assert "period QUARTERLY -> MONTHLY" in step.reason
    assert "filter Region is not ours ('us-east-1'): removed" in step.reason
    assert "filter Service adds 'Claude 3 Haiku (Amazon Bedrock Edition)'" in step.reason


def test_a_changed_threshold_updates_the_notification_in_place() -> None:
    (budget,) = desired(
        {"Alpha": 1}, targets(thresholds=(NotificationSpec("ACTUAL", Decimal(90)), ACTUAL_100, FORECAST_100))
    )
    old = existing_from(desired({"Alpha": 1})[0])
    (update,) = plan((budget,), (old,)).updates
    assert update.steps == (
        UpdateNotification(
            NotificationSpec("ACTUAL", Decimal("80.0")),
            NotificationSpec("ACTUAL", Decimal(90)),
            "notification actual spend above 80% -> actual spend above 90%",
        ),
    )


def test_a_changed_alert_email_replaces_the_subscriber_of_every_notification() -> None:
    new_email = Subscriber("EMAIL", "finops@example.com")
    (budget,) = desired({"Alpha": 1}, targets(subscribers=(TOPIC, new_email)))
    old = existing_from(desired({"Alpha": 1})[0])
    (update,) = plan((budget,), (old,)).updates
    assert len(update.steps) == 3
    assert all(isinstance(s, UpdateSubscriber) and (s.old, s.new) == (EMAIL, new_email) for s in update.steps)


def test_a_lost_project_tag_is_put_back() -> None:
    (budget,) = desired({"Alpha": 1})
    (update,) = plan((budget,), (existing_from(budget, tags={MANAGED_BY_TAG: STACK}),)).updates
    assert update.steps == (
        TagBudget({PROJECT_BUDGET_TAG: "Alpha"}, "tags governance:project=Alpha missing or different"),
    )


def test_vanished_projects_are_kept_while_cleanup_is_off_and_deleted_when_on() -> None:
    alpha, beta = desired({"Alpha": 1, "Beta": 1})
    managed = (existing_from(alpha), existing_from(beta))
    kept = plan((alpha,), managed)
    (orphan,) = kept.orphans
    assert (orphan.name, orphan.project, orphan.delete) == ("bedrock-project-Beta", "Beta", False)
    assert "kept because BudgetCleanup is off" in orphan.reason
    assert kept.write_count == 0
    deleted = plan((alpha,), managed, cleanup=True)
    assert [o.name for o in deleted.deletes] == ["bedrock-project-Beta"]
    assert deleted.write_count == 1


def test_nothing_is_deleted_when_a_region_could_not_be_read() -> None:
    alpha, beta = desired({"Alpha": 1, "Beta": 1})
    result = plan((alpha,), (existing_from(alpha), existing_from(beta)), cleanup=True, complete=False)
    assert result.deletes == ()
    assert not result.orphans[0].judged
    assert "not judged" in result.orphans[0].reason


def test_a_name_taken_by_an_unmanaged_budget_is_a_conflict_not_a_create() -> None:
    (alpha,) = desired({"Alpha": 1})
    result = plan((alpha,), unmanaged=frozenset({alpha.name}))
    assert result.creates == ()
    (conflict,) = result.conflicts
    assert conflict.project == "Alpha"
    assert "not tagged governance:managed-by=bedrock-governance" in conflict.reason


def test_an_unreadable_budget_is_neither_created_nor_updated() -> None:
    (alpha,) = desired({"Alpha": 1})
    result = plan_budgets(
        (alpha,),
        (),
        unmanaged_names=frozenset(),
        unreadable_names=frozenset({alpha.name}),
        name_conflicts=(),
        service_names=SERVICES,
        cleanup=True,
        inventory_complete=True,
    )
    assert result.write_count == 0
    assert result.conflicts == ()


# --------------------------------------------------------------------------- notification steps, simulated

SPECS = st.sampled_from(
    [NotificationSpec(kind, Decimal(value)) for kind in ("ACTUAL", "FORECASTED") for value in (50, 80, 100, 120)]
)
SUBSCRIBERS = st.sampled_from(
    [TOPIC, Subscriber("SNS", "arn:aws:sns:us-east-1:123456789012:other"), EMAIL, Subscriber("EMAIL", "b@example.com")]
)


def valid_subscribers(items: list[Subscriber]) -> tuple[Subscriber, ...]:
    """At most one SNS subscriber, at least one subscriber: what AWS allows."""
    sns = [s for s in items if s.kind == "SNS"][:1]
    emails = [s for s in items if s.kind == "EMAIL"]
    return tuple(dict.fromkeys([*sns, *emails])) or (TOPIC,)


def apply(state: dict[NotificationSpec, list[Subscriber]], steps: list[BudgetStep]) -> None:
    """Apply steps as AWS would, failing where AWS would refuse."""
    for step in steps:
        match step:
            case CreateNotification(notification=spec, subscribers=subs):
                assert spec not in state
                state[spec] = list(subs)
            case UpdateNotification(old=old, new=new):
                assert new not in state
                state[new] = state.pop(old)
            case DeleteNotification(notification=spec):
                del state[spec]
            case CreateSubscriber(notification=spec, subscriber=sub):
                assert sub not in state[spec]
                state[spec].append(sub)
            case UpdateSubscriber(notification=spec, old=old_sub, new=new_sub):
                state[spec][state[spec].index(old_sub)] = new_sub
            case DeleteSubscriber(notification=spec, subscriber=sub):
                state[spec].remove(sub)
                assert state[spec], "deleting the last subscriber would delete the notification"
        for left in state.values():
            assert sum(1 for s in left if s.kind == "SNS") <= 1


@given(
    wanted=st.lists(SPECS, min_size=1, max_size=5, unique=True),
    current=st.dictionaries(SPECS, st.lists(SUBSCRIBERS, min_size=1, max_size=4), max_size=5),
    subscribers=st.lists(SUBSCRIBERS, min_size=1, max_size=3),
)
def test_notification_steps_reach_the_desired_state_within_aws_limits(
    wanted: list[NotificationSpec], current: dict[NotificationSpec, list[Subscriber]], subscribers: list[Subscriber]
) -> None:
    desired_subs = valid_subscribers(subscribers)
    existing = [ExistingNotification(spec, valid_subscribers(subs)) for spec, subs in current.items()]
    state = {n.spec: list(n.subscribers) for n in existing}
    steps = notification_steps(wanted, desired_subs, existing)
    apply(state, steps)
    assert set(state) == set(wanted)
    assert all(set(subs) == set(desired_subs) for subs in state.values())
    # Already right means nothing to do.
    assert notification_steps(wanted, desired_subs, [ExistingNotification(s, tuple(v)) for s, v in state.items()]) == []


# --------------------------------------------------------------------------- cost allocation tags

KEYS = ("Project", "Environment", "Owner")


def test_all_active_tags_need_nothing() -> None:
    check = check_cost_tags(KEYS, dict.fromkeys(KEYS, "Active"), activation_enabled=False)
    assert check.problems == ()
    assert keys_to_activate(KEYS, dict.fromkeys(KEYS, "Active")) == ()


def test_only_inactive_keys_billing_knows_are_activated() -> None:
    statuses = {"Project": "Inactive", "Environment": "Active"}
    assert keys_to_activate(KEYS, statuses) == ("Project",)


def test_inactive_tags_without_activation_say_how_to_activate() -> None:
    check = check_cost_tags(
        KEYS, {"Project": "Inactive", "Environment": "Inactive", "Owner": "Active"}, activation_enabled=False
    )
    (problem,) = check.problems
    assert problem.key == "cost-tags:inactive:Project,Environment"
    assert "TagKey=Project,Status=Active TagKey=Environment,Status=Active" in problem.text
    assert "ActivateCostAllocationTags=true" in problem.text


def test_activated_tags_count_as_active_and_are_no_problem() -> None:
    check = check_cost_tags(
        KEYS,
        {"Project": "Inactive", "Environment": "Active", "Owner": "Active"},
        activation_enabled=True,
        activated=("Project",),
    )
    assert check.problems == ()
    assert check.statuses["Project"] == "Active"
    assert check.activated == ("Project",)


def test_a_member_account_is_told_to_ask_the_management_account() -> None:
    check = check_cost_tags(
        KEYS,
        None,
        list_error=("AccessDeniedException", "Linked account doesn't have access to cost allocation tags."),
        activation_enabled=True,
    )
    (problem,) = check.problems
    assert problem.key == "cost-tags:no-access"
    assert "management (or standalone) account" in problem.text
    assert set(check.statuses.values()) == {"Unreadable"}


def test_a_known_member_account_names_its_management_account_whatever_the_statuses() -> None:
    member = OrganizationMembership("222222222222", "o-abcdefghij", "111111111111")
    check = check_cost_tags(KEYS, dict.fromkeys(KEYS, "Inactive"), activation_enabled=True, member_of=member)
    (problem,) = check.problems
    assert problem.key == "cost-tags:member-account:111111111111"
    assert "only its management account (111111111111) can activate" in problem.text
    assert "GovernanceScope=ORGANIZATION" in problem.text
    assert "deploy this stack in 111111111111 with ActivateCostAllocationTags=true" in problem.text
    assert check.activated == ()
    assert set(check.statuses.values()) == {"Unreadable"}


def test_a_refused_activation_and_per_key_failures_are_problems() -> None:
    statuses = {"Project": "Inactive", "Environment": "Inactive", "Owner": "Active"}
    refused = check_cost_tags(
        KEYS, statuses, activation_enabled=True, activation_refused=("AccessDeniedException", "no")
    )
    assert [p.key for p in refused.problems] == ["cost-tags:refused:Project,Environment"]
    partly = check_cost_tags(
        KEYS,
        statuses,
        activation_enabled=True,
        activated=("Project",),
        activation_errors=(("Environment", "TagKeysNotFoundException", "gone"),),
    )
    assert [p.key for p in partly.problems] == ["cost-tags:failed:Environment:TagKeysNotFoundException"]


def test_keys_billing_has_not_seen_are_explained() -> None:
    check = check_cost_tags(KEYS, {"Project": "Active"}, activation_enabled=True)
    (problem,) = check.problems
    assert problem.key == "cost-tags:unknown:Environment,Owner"
    assert "activates them then" in problem.text
