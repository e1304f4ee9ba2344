"""The budget reconciler: projects from the profiles, one managed budget each, kept in step.

A run reads everything first (profiles, Bedrock service names, the account's budgets with their
tags, notifications and subscribers), plans with :mod:`budget_policy`, and only then writes - and
only what differs, so a run with nothing changed makes no write call at all. A failing region,
lookup or budget is reported and the rest goes on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from aws_lambda_powertools import Logger

from bedrock_governance.aws import ports
from bedrock_governance.aws.budgets import BudgetDefinition, Budgets
from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.costexplorer import CostExplorer
from bedrock_governance.aws.inventory import region_inventory
from bedrock_governance.aws.organizations import OrganizationDirectory
from bedrock_governance.aws.s3 import JsonStore, UnreadableObject
from bedrock_governance.aws.sns import SnsPublisher
from bedrock_governance.budgets.config import BudgetConfig
from bedrock_governance.budgets.cost_tags import CostTagOutcome, check_cost_tags_step, membership_of
from bedrock_governance.budgets.policy import (
    BudgetPlan,
    BudgetStep,
    Conflict,
    CreateNotification,
    CreateSubscriber,
    DeleteNotification,
    DeleteSubscriber,
    DesiredBudget,
    ExistingBudget,
    ExistingNotification,
    TagBudget,
    UpdateBudget,
    UpdateNotification,
    UpdateSubscriber,
    bedrock_service_names,
    desired_budgets,
    is_managed,
    plan_budgets,
    projects_from_profiles,
    update_steps,
)
from bedrock_governance.budgets.render import (
    STATE_VERSION,
    AppliedChange,
    Attention,
    BudgetAlertState,
    BudgetError,
    BudgetRunFacts,
    SummaryDecision,
    attention_items,
    decide_summary,
    item_count,
    render,
)
from bedrock_governance.core.arn import region_of
from bedrock_governance.core.errors import AlreadyExists, AwsError, NotFound, UnreadableState
from bedrock_governance.core.models import (
    BUDGET_NAME_PREFIX,
    BudgetSnapshot,
    InferenceProfile,
    NotificationSpec,
    RegionFailure,
)
from bedrock_governance.core.notify import Notification, fit
from bedrock_governance.core.results import publish, raise_if_alert_failed
from bedrock_governance.core.sweep import sweep_regions

logger = Logger(child=True)

STATE_KEY: Final = "state/budgets.json"
# How far back Cost Explorer is searched for Bedrock service names (within its 13 months): a
# Marketplace model used once this year still belongs in the filters.
SERVICE_LOOKBACK: Final = timedelta(days=365)


def _failure(budget: str, project: str | None, error: AwsError) -> BudgetError:
    return BudgetError(budget, project, error.operation, error.code, error.aws_message)


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def parse_state(document: dict[str, Any]) -> BudgetAlertState:
    """The saved summary state, checked first: :meth:`BudgetAlertState.from_json` trusts its input,
    and a wrong type there (a string for a list, a naive time, a pending change without a name)
    would crash every run or be read as something else. Raises :class:`UnreadableState`."""
    if document.get("version") != STATE_VERSION:
        return BudgetAlertState()  # another version counts as none, as from_json has it
    for name in ("announced", "activationRefusedKeys"):
        if not _is_text_list(document.get(name, [])):
            raise UnreadableState(f"{name} is not a list of strings")
    pending = document.get("pending", [])
    if not isinstance(pending, list):
        raise UnreadableState("pending is not a list")
    for index, item in enumerate(pending):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and item.get("action") in ("created", "updated", "deleted")
            and isinstance(item.get("project"), str | None)
            and _is_text_list(item.get("reasons", []))
        ):
            raise UnreadableState(f"pending[{index}] is not a budget change: {item!r}")
    refused_at = document.get("activationRefusedAt")
    if refused_at is not None:
        try:
            moment = datetime.fromisoformat(refused_at) if isinstance(refused_at, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise UnreadableState(f"activationRefusedAt is not a time with a time zone: {refused_at!r}")
    return BudgetAlertState.from_json(document)


def definition_for(budget: DesiredBudget) -> BudgetDefinition:
    return BudgetDefinition(name=budget.name, limit=budget.limit, cost_filters=budget.cost_filters)


def existing_from(
    snapshot: BudgetSnapshot, tags: dict[str, str], notifications: Sequence[ExistingNotification]
) -> ExistingBudget:
    return ExistingBudget(
        name=snapshot.name,
        limit=snapshot.limit,
        unit=snapshot.unit,
        time_unit=snapshot.time_unit,
        budget_type=snapshot.budget_type,
        cost_filters=snapshot.cost_filters,
        tags=tags,
        notifications=tuple(notifications),
    )


def planned_changes(plan: BudgetPlan) -> tuple[AppliedChange, ...]:
    """The plan as changes, for a dry run's report."""
    return (
        *(AppliedChange(c.budget.name, c.budget.project, "created", (c.reason,)) for c in plan.creates),
        *(AppliedChange(u.budget.name, u.budget.project, "updated", u.reasons) for u in plan.updates),
        *(AppliedChange(o.name, o.project, "deleted", (o.reason,)) for o in plan.deletes),
    )


@dataclass(frozen=True)
class BudgetRead:
    """The account's budgets as far as this stack cares."""

    managed: tuple[ExistingBudget, ...]
    unmanaged: frozenset[str]
    unreadable: frozenset[str]
    errors: tuple[BudgetError, ...]


@dataclass(frozen=True)
class Applied:
    changes: tuple[AppliedChange, ...]
    errors: tuple[BudgetError, ...]
    conflicts: tuple[Conflict, ...]


@dataclass(frozen=True)
class BudgetRunResult:
    facts: BudgetRunFacts
    plan: BudgetPlan | None
    attention: tuple[Attention, ...]
    decision: SummaryDecision
    notification: Notification | None
    message_id: str | None
    alert_error: str | None = None

    @property
    def failures(self) -> tuple[RegionFailure, ...]:
        return self.facts.failures

    def metric_counts(self) -> dict[str, int]:
        """Counts of one budget run; a dry run counts what it would have done under the same names."""
        facts = self.facts
        return {
            "BudgetProjects": len(set(facts.projects) | set(facts.configured_projects)),
            "BudgetsInStep": facts.in_step,
            "BudgetsCreated": facts.count("created"),
            "BudgetsUpdated": facts.count("updated"),
            "BudgetsDeleted": facts.count("deleted"),
            "OrphanedBudgetsKept": len(facts.kept_orphans),
            "BudgetConflicts": len(facts.conflicts),
            "BudgetErrors": len(facts.errors),
            "CostAllocationTagsActivated": len(facts.cost_tags.activated) if facts.cost_tags else 0,
            "CostAllocationTagProblems": len(facts.cost_tags.problems) if facts.cost_tags else 0,
            "RegionsFailed": len(facts.failures),
            "BudgetSummariesPublished": 1 if self.message_id else 0,
        }

    def metric_amounts(self) -> dict[str, float]:
        return {}

    def region_counts(self) -> dict[str, dict[str, int]]:
        return {}

    def raise_if_alert_failed(self) -> None:
        raise_if_alert_failed("Budget summary", self.alert_error)

    def summary(self) -> dict[str, Any]:
        facts = self.facts

        def names(action: str) -> list[str]:
            return [change.name for change in facts.applied if change.action == action]

        return {
            "dryRun": facts.dry_run,
            "projects": dict(facts.projects),
            "configuredProjects": list(facts.configured_projects),
            "budgetsInStep": facts.in_step,
            "created": names("created"),
            "updated": {c.name: list(c.reasons) for c in facts.applied if c.action == "updated"},
            "deleted": names("deleted"),
            "orphansKept": [orphan.name for orphan in facts.kept_orphans],
            "conflicts": [f"{c.project}: {c.reason}" for c in facts.conflicts],
            "errors": [error.describe() for error in facts.errors],
            "serviceNames": list(facts.service_names),
            "costAllocationTags": dict(facts.cost_tags.statuses) if facts.cost_tags else None,
            "activatedTags": list(facts.cost_tags.activated) if facts.cost_tags else [],
            "failedRegions": [failure.describe() for failure in facts.failures],
            "attention": [item.key for item in self.attention],
            "alert": self.decision.explanation,
            "messageId": self.message_id,
            "alertError": self.alert_error,
        }


class BudgetJob:
    """Reads, plans, applies, checks cost allocation tags and sends at most one summary."""

    def __init__(
        self,
        config: BudgetConfig,
        *,
        inventory: Callable[[str], list[InferenceProfile]],
        budgets: ports.Budgets,
        cost_explorer: ports.CostTags,
        publisher: ports.Publisher | None,
        store: ports.StateStore | None,
        dry_run: bool = False,
        organizations: ports.OrganizationReader | None = None,
    ) -> None:
        self._config = config
        self._organizations = organizations
        self._inventory = inventory
        self._budgets = budgets
        self._cost_explorer = cost_explorer
        self._publisher = publisher
        self._store = store
        self._dry_run = dry_run

    @classmethod
    def from_config(cls, config: BudgetConfig, clients: ClientFactory, *, dry_run: bool = False) -> BudgetJob:
        home = clients.default_region or config.regions[0]
        return cls(
            config,
            inventory=region_inventory(clients),
            budgets=Budgets(clients.budgets(), config.account_id, config.partition),
            cost_explorer=CostExplorer(clients.cost_explorer()),
            publisher=None if dry_run else SnsPublisher(clients.sns(region_of(config.alert_topic_arn))),
            # A dry run still reads the state (what was said before) but never writes it.
            store=JsonStore(clients.s3(home), config.state_bucket) if config.state_bucket else None,
            dry_run=dry_run,
            organizations=OrganizationDirectory(clients.organizations()),
        )

    # ------------------------------------------------------------------ run

    def run(self, now: datetime) -> BudgetRunResult:
        config = self._config
        previous, unreadable = self._load_state(now)
        sweep = sweep_regions(config.regions, self._inventory)
        projects = projects_from_profiles(p for profiles in sweep.by_region.values() for p in profiles)
        errors: list[BudgetError] = []
        if unreadable is not None:
            # Said once: the next state no longer carries the problem, so it drops out of "announced".
            errors.append(BudgetError(unreadable.uri, None, "ReadState", "UnreadableState", unreadable.describe()))

        discovered: tuple[str, ...] = ()
        try:
            discovered = self._cost_explorer.bedrock_service_names((now - SERVICE_LOOKBACK).date(), now.date())
        except AwsError as error:
            # The filters keep the names they have; new budgets start with the floor and grow later.
            logger.warning("Bedrock service names lookup failed", extra={"error": str(error)})
            errors.append(_failure("", None, error))

        plan: BudgetPlan | None = None
        applied: tuple[AppliedChange, ...] = ()
        conflicts: tuple[Conflict, ...] = ()
        service_names: tuple[str, ...] = bedrock_service_names(discovered, ())
        try:
            read = self._read_budgets()
        except AwsError as error:
            # Without the list of budgets nothing can be compared; nothing is written either.
            logger.error("Budgets could not be read", extra={"error": str(error)})
            errors.append(_failure("", None, error))
        else:
            errors += read.errors
            service_names = bedrock_service_names(discovered, read.managed)
            desired, name_conflicts = desired_budgets(projects, config.targets(), service_names)
            plan = plan_budgets(
                desired,
                read.managed,
                unmanaged_names=read.unmanaged,
                unreadable_names=read.unreadable,
                name_conflicts=name_conflicts,
                service_names=service_names,
                cleanup=config.cleanup,
                inventory_complete=not sweep.failures,
            )
            conflicts = plan.conflicts
            logger.info(
                "Budget plan",
                extra={
                    "plan_creates": [c.budget.name for c in plan.creates],
                    "plan_updates": {u.budget.name: list(u.reasons) for u in plan.updates},
                    "plan_orphans": [dataclasses.asdict(o) for o in plan.orphans],
                    "plan_conflicts": [dataclasses.asdict(c) for c in plan.conflicts],
                    "budgets_in_step": len(plan.in_step),
                },
            )
            if self._dry_run:
                applied = planned_changes(plan)
            else:
                outcome = self._apply(plan)
                applied, conflicts = outcome.changes, (*conflicts, *outcome.conflicts)
                errors += outcome.errors

        cost_tags = check_cost_tags_step(
            self._cost_explorer,
            config.cost_allocation_tag_keys,
            previous,
            now,
            activate=config.activate_cost_allocation_tags,
            dry_run=self._dry_run,
            member_of=membership_of(self._organizations, config.account_id),
        )
        facts = BudgetRunFacts(
            now=now,
            dry_run=self._dry_run,
            regions=config.regions,
            failures=sweep.failures,
            projects=projects,
            configured_projects=tuple(sorted(config.project_limits)),
            thresholds=config.thresholds,
            subscribers=config.subscribers,
            service_names=service_names,
            in_step=len(plan.in_step) if plan else 0,
            # Changes a failed publish could not announce are told now.
            applied=applied if self._dry_run else (*previous.pending, *applied),
            kept_orphans=plan.kept_orphans if plan else (),
            conflicts=conflicts,
            errors=tuple(errors),
            cost_tags=cost_tags.check,
            account_id=config.account_id,
            cleanup=config.cleanup,
        )
        return self._announce(facts, plan, previous, cost_tags)

    def _announce(
        self, facts: BudgetRunFacts, plan: BudgetPlan | None, previous: BudgetAlertState, cost_tags: CostTagOutcome
    ) -> BudgetRunResult:
        attention = attention_items(facts)
        decision = decide_summary(facts, attention, previous)

        def remembering_refusal(state: BudgetAlertState) -> BudgetAlertState:
            return dataclasses.replace(
                state, activation_refused_at=cost_tags.refused_at, activation_refused_keys=cost_tags.refused_keys
            )

        logger.info(
            "Budget run finished",
            extra={
                # "created" is a LogRecord attribute: extra keys must not reuse it.
                "budgets_created": facts.count("created"),
                "budgets_updated": facts.count("updated"),
                "budgets_deleted": facts.count("deleted"),
                "attention": [item.key for item in attention],
                "alert_decision": decision.explanation,
            },
        )
        notification: Notification | None = None
        message_id: str | None = None
        alert_error: str | None = None
        if decision.publish or (facts.dry_run and (facts.applied or attention)):
            notification = fit(
                lambda limit: render(facts, attention, decision.new_attention, limit), item_count(facts, attention)
            )
            logger.info("Budget summary", extra={"summary": dict(notification.document)})
        if decision.publish and self._publisher:
            if notification is None:  # rendered above whenever the decision is to publish
                raise RuntimeError("the budget summary to publish was not rendered")
            message_id, alert_error = publish(
                self._publisher, self._config.alert_topic_arn, notification, "Budget summary"
            )
        # The budgets are changed already: a summary that could not be sent leaves its changes for
        # the next run to announce.
        state = decision.state_if_failed if alert_error else decision.state_if_published
        self._save(previous, remembering_refusal(state))
        return BudgetRunResult(facts, plan, attention, decision, notification, message_id, alert_error)

    def _load_state(self, now: datetime) -> tuple[BudgetAlertState, UnreadableObject | None]:
        """What was said before. A state that cannot be read counts as none (everything needing
        attention is said again) once a copy is kept; a dry run keeps no copy, it writes nothing."""
        if self._store is None:
            return BudgetAlertState(), None
        read = self._store.read_state(STATE_KEY, parse_state)
        if read.unreadable is None:
            return read.value or BudgetAlertState(), None
        unreadable = read.unreadable if self._dry_run else self._store.quarantine(read.unreadable, now)
        logger.warning("Summary state unreadable, treated as missing", extra={"state": unreadable.describe()})
        return BudgetAlertState(), unreadable

    def _save(self, previous: BudgetAlertState, state: BudgetAlertState) -> None:
        if self._store and not self._dry_run and state != previous:
            self._store.put(STATE_KEY, state.to_json())

    # ------------------------------------------------------------------ read

    def _read_existing(
        self, snapshot: BudgetSnapshot, tags: dict[str, str], specs: Sequence[NotificationSpec]
    ) -> ExistingBudget:
        notifications = [
            ExistingNotification(spec, tuple(self._budgets.subscribers(snapshot.name, spec))) for spec in specs
        ]
        return existing_from(snapshot, tags, notifications)

    def _read_budgets(self) -> BudgetRead:
        """Budgets with the managed prefix, sorted into managed / someone else's / unreadable.
        Only DescribeBudgets failing raises; a budget that cannot be read is reported and skipped."""
        snapshots = [s for s in self._budgets.describe_budgets() if s.name.startswith(BUDGET_NAME_PREFIX)]
        managed: list[ExistingBudget] = []
        unmanaged: set[str] = set()
        unreadable: set[str] = set()
        errors: list[BudgetError] = []
        notifications: dict[str, list[NotificationSpec]] = {}
        if snapshots:
            try:
                notifications = self._budgets.notifications_by_budget()
            except AwsError as error:
                # Without notifications no budget can be compared; leave them all alone this run.
                errors.append(_failure("", None, error))
                return BudgetRead((), frozenset(), frozenset(s.name for s in snapshots), tuple(errors))
        for snapshot in snapshots:
            try:
                tags = self._budgets.tags(snapshot.name)
                if not is_managed(snapshot.name, tags, self._config.managed_by):
                    unmanaged.add(snapshot.name)
                    continue
                managed.append(self._read_existing(snapshot, tags, notifications.get(snapshot.name, [])))
            except AwsError as error:
                logger.warning("Budget could not be read", extra={"budget": snapshot.name, "error": str(error)})
                unreadable.add(snapshot.name)
                errors.append(_failure(snapshot.name, None, error))
        return BudgetRead(tuple(managed), frozenset(unmanaged), frozenset(unreadable), tuple(errors))

    # ------------------------------------------------------------------ write

    def _apply(self, plan: BudgetPlan) -> Applied:
        changes: list[AppliedChange] = []
        errors: list[BudgetError] = []
        conflicts: list[Conflict] = []
        for create in plan.creates:
            budget = create.budget
            try:
                self._budgets.create_budget(
                    definition_for(budget), [(spec, budget.subscribers) for spec in budget.notifications], budget.tags
                )
                changes.append(AppliedChange(budget.name, budget.project, "created", (create.reason,)))
            except AlreadyExists:
                # Created since this run read the budgets (another run, or a person): treat it as
                # existing - bring it in step if it is ours, leave it alone if not.
                adopted, failure, conflict = self._adopt(budget)
                changes += [adopted] if adopted else []
                errors += [failure] if failure else []
                conflicts += [conflict] if conflict else []
            except AwsError as error:
                logger.warning("Budget not created", extra={"budget": budget.name, "error": str(error)})
                errors.append(_failure(budget.name, budget.project, error))
        for update in plan.updates:
            updated, failure = self._apply_steps(update.budget, update.steps)
            changes += [updated] if updated else []
            errors += [failure] if failure else []
        for orphan in plan.deletes:
            try:
                self._budgets.delete_budget(orphan.name)
                changes.append(AppliedChange(orphan.name, orphan.project, "deleted", (orphan.reason,)))
            except NotFound:
                logger.info("Orphaned budget already gone", extra={"budget": orphan.name})
            except AwsError as error:
                errors.append(_failure(orphan.name, orphan.project, error))
        return Applied(tuple(changes), tuple(errors), tuple(conflicts))

    def _adopt(self, budget: DesiredBudget) -> tuple[AppliedChange | None, BudgetError | None, Conflict | None]:
        try:
            tags = self._budgets.tags(budget.name)
            if not is_managed(budget.name, tags, self._config.managed_by):
                return (
                    None,
                    None,
                    Conflict(
                        budget.project,
                        budget.name,
                        "a budget of that name appeared during the run and is not managed by this stack, "
                        "so it is left alone",
                    ),
                )
            existing = self._read_existing(
                self._budgets.describe_budget(budget.name), tags, self._budgets.notifications(budget.name)
            )
        except AwsError as error:
            return None, _failure(budget.name, budget.project, error), None
        steps = update_steps(existing, budget)
        if not steps:
            return None, None, None
        change, failure = self._apply_steps(budget, steps)
        if change:
            note = "created by someone else while this run was reading; it is this stack's, so brought in step"
            change = dataclasses.replace(change, reasons=(note, *change.reasons))
        return change, failure, None

    def _apply_steps(
        self, budget: DesiredBudget, steps: Sequence[BudgetStep]
    ) -> tuple[AppliedChange | None, BudgetError | None]:
        """Steps in order; the first failure stops this budget (later steps may depend on it)."""
        done: list[str] = []
        failure: BudgetError | None = None
        for step in steps:
            try:
                self._apply_step(budget, step)
            except AwsError as error:
                logger.warning(
                    "Budget step failed", extra={"budget": budget.name, "step": step.reason, "error": str(error)}
                )
                failure = _failure(budget.name, budget.project, error)
                break
            done.append(step.reason)
        change = AppliedChange(budget.name, budget.project, "updated", tuple(done)) if done else None
        return change, failure

    def _apply_step(self, budget: DesiredBudget, step: BudgetStep) -> None:
        name = budget.name
        match step:
            case UpdateBudget():
                self._budgets.update_budget(definition_for(budget))
            case CreateNotification(notification=spec, subscribers=subscribers):
                self._budgets.create_notification(name, spec, subscribers)
            case UpdateNotification(old=old, new=new):
                self._budgets.update_notification(name, old, new)
            case DeleteNotification(notification=spec):
                self._budgets.delete_notification(name, spec)
            case CreateSubscriber(notification=spec, subscriber=subscriber):
                self._budgets.create_subscriber(name, spec, subscriber)
            case UpdateSubscriber(notification=spec, old=old_subscriber, new=new_subscriber):
                self._budgets.update_subscriber(name, spec, old_subscriber, new_subscriber)
            case DeleteSubscriber(notification=spec, subscriber=subscriber):
                self._budgets.delete_subscriber(name, spec, subscriber)
            case TagBudget(tags=tags):
                self._budgets.tag_budget(name, tags)
