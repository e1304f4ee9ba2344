"""Which project budgets should exist and what to change to get there: pure policy, no AWS, no clock.

Desired state: one monthly COST budget per project (the ``Project`` tag values found on application
profiles, plus the projects named in ProjectBudgetsUSD), scoped to that project's tag and to every
Bedrock service name, with the configured notifications. The plan compares it with the budgets this
stack manages and lists creates, updates (each step with its reason) and orphans.

Why ``CostFilters`` and not ``FilterExpression`` (AWS accepts one or the other, never both):

* The legacy tag filter form is settled: ``{"TagKeyValue": ["user:Project$ProjectA"]}``. How the
  Budgets ``FilterExpression`` spells a cost allocation tag key (with or without ``user:``) is not
  documented, and a wrong guess would silently track nothing.
* ``DescribeBudgets`` always returns ``CostFilters``; ``FilterExpression`` only with
  ``ShowFilterExpression=True``. Drift is therefore visible to every reader of the budgets (the cost
  report's included) without a second form to compare.
* Inside ``CostFilters`` keys are ANDed and the values of one key ORed, which is exactly
  "this project AND any Bedrock service". Nothing here needs And/Or/Not nesting.
The filter is built in :func:`cost_filters_for` only, so moving to ``FilterExpression`` is one change.

A budget is *managed* when its name has :data:`BUDGET_NAME_PREFIX` **and** it carries the tag
``governance:managed-by = <stack name>``. The prefix alone could be a person's hand-made budget or
another stack's; the tag alone could survive a rename. Anything else is never touched.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from bedrock_governance.core.models import (
    BUDGET_NAME_PREFIX,
    InferenceProfile,
    NotificationSpec,
    Subscriber,
    budget_name_for,
)
from bedrock_governance.core.notify import money

# The tag whose values are projects: on profiles, and (with "user:") in the budgets' cost filter.
PROJECT_TAG_KEY: Final = "Project"
# Tags this stack puts on the budgets it manages.
MANAGED_BY_TAG: Final = "governance:managed-by"
PROJECT_BUDGET_TAG: Final = "governance:project"
# Always in the service filter: without a Service value the budget would count every service's
# spend under the project tag. Marketplace names ("... (Amazon Bedrock Edition)") are added as
# Cost Explorer finds them; see docs/aws-behaviour.md.
BEDROCK_SERVICE_FLOOR: Final = "Amazon Bedrock"
# The substring Cost Explorer is searched with; managed filters keep values that contain it.
BEDROCK_SERVICE_MARK: Final = "bedrock"
SERVICE_FILTER: Final = "Service"
TAG_FILTER: Final = "TagKeyValue"
BUDGET_UNIT: Final = "USD"
BUDGET_TIME_UNIT: Final = "MONTHLY"
BUDGET_TYPE: Final = "COST"
# CreateBudget's documentation allows five notifications per budget, the Notification shape ten:
# the lower number is safe under both.
MAX_NOTIFICATIONS: Final = 5
SUBSCRIBER_KINDS: Final = ("SNS", "EMAIL")


def _frozen(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


def _frozen_filters(filters: Mapping[str, Iterable[str]] | None) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({key: tuple(values) for key, values in (filters or {}).items()})


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class ExistingNotification:
    spec: NotificationSpec
    subscribers: tuple[Subscriber, ...]


@dataclass(frozen=True)
class ExistingBudget:
    """A budget with the managed prefix as read from AWS, with its tags and notifications."""

    name: str
    limit: Decimal
    unit: str
    time_unit: str
    budget_type: str
    cost_filters: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _frozen_filters(None))
    tags: Mapping[str, str] = field(default_factory=lambda: _frozen(None))
    notifications: tuple[ExistingNotification, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost_filters", _frozen_filters(self.cost_filters))
        object.__setattr__(self, "tags", _frozen(self.tags))

    @property
    def project(self) -> str | None:
        return self.tags.get(PROJECT_BUDGET_TAG)


@dataclass(frozen=True)
class BudgetTargets:
    """The settings the desired state is made of."""

    default_limit: Decimal
    project_limits: Mapping[str, Decimal]
    thresholds: tuple[NotificationSpec, ...]
    subscribers: tuple[Subscriber, ...]
    managed_by: str
    cleanup: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "project_limits", MappingProxyType(dict(self.project_limits)))


@dataclass(frozen=True)
class DesiredBudget:
    project: str
    name: str
    limit: Decimal
    limit_source: str  # "ProjectBudgetsUSD" or "DefaultMonthlyBudgetUSD"
    cost_filters: Mapping[str, tuple[str, ...]]
    notifications: tuple[NotificationSpec, ...]
    subscribers: tuple[Subscriber, ...]
    tags: Mapping[str, str]
    profile_count: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost_filters", _frozen_filters(self.cost_filters))
        object.__setattr__(self, "tags", _frozen(self.tags))

    def to_dict(self) -> dict[str, object]:
        return {
            "project": self.project,
            "name": self.name,
            "limitUSD": str(self.limit),
            "limitSource": self.limit_source,
            "costFilters": {key: list(values) for key, values in self.cost_filters.items()},
            "notifications": [spec.key for spec in self.notifications],
            "subscribers": [{"type": s.kind, "address": s.address} for s in self.subscribers],
            "profiles": self.profile_count,
        }


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class UpdateBudget:
    """UpdateBudget: limit, period or filter drifted (one call sets them all)."""

    reason: str


@dataclass(frozen=True)
class CreateNotification:
    notification: NotificationSpec
    subscribers: tuple[Subscriber, ...]
    reason: str


@dataclass(frozen=True)
class UpdateNotification:
    old: NotificationSpec
    new: NotificationSpec
    reason: str


@dataclass(frozen=True)
class DeleteNotification:
    notification: NotificationSpec
    reason: str


@dataclass(frozen=True)
class CreateSubscriber:
    notification: NotificationSpec
    subscriber: Subscriber
    reason: str


@dataclass(frozen=True)
class UpdateSubscriber:
    notification: NotificationSpec
    old: Subscriber
    new: Subscriber
    reason: str


@dataclass(frozen=True)
class DeleteSubscriber:
    notification: NotificationSpec
    subscriber: Subscriber
    reason: str


@dataclass(frozen=True)
class TagBudget:
    tags: Mapping[str, str]
    reason: str


BudgetStep = (
    UpdateBudget
    | CreateNotification
    | UpdateNotification
    | DeleteNotification
    | CreateSubscriber
    | UpdateSubscriber
    | DeleteSubscriber
    | TagBudget
)


@dataclass(frozen=True)
class BudgetCreate:
    budget: DesiredBudget
    reason: str


@dataclass(frozen=True)
class BudgetUpdate:
    budget: DesiredBudget
    steps: tuple[BudgetStep, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(step.reason for step in self.steps)


@dataclass(frozen=True)
class Orphan:
    """A managed budget whose project is no longer wanted."""

    name: str
    project: str | None
    delete: bool
    reason: str
    # False when a governed region could not be read: the project may still exist there.
    judged: bool = True


@dataclass(frozen=True)
class Conflict:
    """A project whose budget this stack cannot manage, and why."""

    project: str
    name: str
    reason: str


@dataclass(frozen=True)
class BudgetPlan:
    creates: tuple[BudgetCreate, ...]
    updates: tuple[BudgetUpdate, ...]
    orphans: tuple[Orphan, ...]
    conflicts: tuple[Conflict, ...]
    in_step: tuple[str, ...]
    service_names: tuple[str, ...]

    @property
    def deletes(self) -> tuple[Orphan, ...]:
        return tuple(orphan for orphan in self.orphans if orphan.delete)

    @property
    def kept_orphans(self) -> tuple[Orphan, ...]:
        return tuple(orphan for orphan in self.orphans if not orphan.delete)

    @property
    def write_count(self) -> int:
        """AWS write calls the plan needs (0 means nothing to do)."""
        return len(self.creates) + sum(len(u.steps) for u in self.updates) + len(self.deletes)


# --------------------------------------------------------------------------- desired state


def is_managed(name: str, tags: Mapping[str, str], managed_by: str) -> bool:
    return name.startswith(BUDGET_NAME_PREFIX) and tags.get(MANAGED_BY_TAG) == managed_by


def projects_from_profiles(profiles: Iterable[InferenceProfile]) -> dict[str, int]:
    """Project tag value -> number of profiles carrying it. Values are exact (case-sensitive);
    a blank value is no project."""
    counts: dict[str, int] = {}
    for profile in profiles:
        value = profile.tags.get(PROJECT_TAG_KEY, "")
        if value.strip():
            counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def bedrock_service_names(discovered: Iterable[str], existing: Iterable[ExistingBudget]) -> tuple[str, ...]:
    """The Service values every managed budget filters on.

    The union of the floor, what Cost Explorer found this run, and the Bedrock names managed
    filters already hold: a Marketplace model unused for a year, or a failed lookup, must not
    shrink the filters (and cause an update) only for a later run to grow them back.
    """
    names = {BEDROCK_SERVICE_FLOOR, *discovered}
    for budget in existing:
        names.update(v for v in budget.cost_filters.get(SERVICE_FILTER, ()) if BEDROCK_SERVICE_MARK in v.casefold())
    return tuple(sorted(names))


def cost_filters_for(project: str, service_names: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Legacy CostFilters: keys ANDed, values ORed. The tag needs the ``user:`` prefix."""
    return {
        SERVICE_FILTER: tuple(sorted(service_names)),
        TAG_FILTER: (f"user:{PROJECT_TAG_KEY}${project}",),
    }


def budget_name_problem(name: str) -> str | None:
    """Why AWS would refuse this budget name, or None."""
    if "/action/" in name:
        return "budget names may not contain '/action/'"
    if not name.strip():
        return "the budget name would be blank"
    return None


def desired_budgets(
    projects_on_profiles: Mapping[str, int], targets: BudgetTargets, service_names: Sequence[str]
) -> tuple[tuple[DesiredBudget, ...], tuple[Conflict, ...]]:
    """One desired budget per project (profiles and ProjectBudgetsUSD), plus the projects that
    cannot have one (name refused by AWS, or two projects mapping to one name)."""
    projects = sorted(set(projects_on_profiles) | set(targets.project_limits))
    desired: dict[str, DesiredBudget] = {}
    conflicts: list[Conflict] = []
    for project in projects:
        name = budget_name_for(project)
        problem = budget_name_problem(name)
        if problem:
            conflicts.append(Conflict(project, name, problem))
            continue
        if name in desired:
            other = desired[name].project
            conflicts.append(
                Conflict(project, name, f"its budget name is the same as project {other!r}'s; rename one of the tags")
            )
            continue
        explicit = targets.project_limits.get(project)
        desired[name] = DesiredBudget(
            project=project,
            name=name,
            limit=explicit if explicit is not None else targets.default_limit,
            limit_source="ProjectBudgetsUSD" if explicit is not None else "DefaultMonthlyBudgetUSD",
            cost_filters=cost_filters_for(project, service_names),
            notifications=tuple(sorted(targets.thresholds)),
            subscribers=tuple(sorted(targets.subscribers)),
            tags={MANAGED_BY_TAG: targets.managed_by, PROJECT_BUDGET_TAG: project},
            profile_count=projects_on_profiles.get(project, 0),
        )
    return tuple(desired.values()), tuple(conflicts)


# --------------------------------------------------------------------------- comparison


def _quote_all(values: Iterable[str]) -> str:
    return ", ".join(repr(value) for value in sorted(values))


def filter_drift(existing: Mapping[str, tuple[str, ...]], desired: Mapping[str, tuple[str, ...]]) -> list[str]:
    """What differs between two CostFilters, as sets (AWS may return values in any order)."""
    problems: list[str] = []
    for key in sorted(set(existing) | set(desired)):
        have, want = set(existing.get(key, ())), set(desired.get(key, ()))
        if have == want:
            continue
        if not want:
            problems.append(f"filter {key} is not ours ({_quote_all(have)}): removed")
        elif not have:
            problems.append(f"filter {key} missing: set to {_quote_all(want)}")
        else:
            parts = []
            if want - have:
                parts.append(f"adds {_quote_all(want - have)}")
            if have - want:
                parts.append(f"drops {_quote_all(have - want)}")
            problems.append(f"filter {key} {' and '.join(parts)}")
    return problems


def budget_drift(existing: ExistingBudget, desired: DesiredBudget) -> list[str]:
    """Reasons the budget itself (not its notifications) needs an UpdateBudget."""
    reasons: list[str] = []
    if existing.limit != desired.limit or existing.unit != BUDGET_UNIT:
        was = money(existing.limit) if existing.unit == BUDGET_UNIT else f"{existing.limit} {existing.unit}"
        reasons.append(f"limit {was} -> {money(desired.limit)} (from {desired.limit_source})")
    if existing.time_unit != BUDGET_TIME_UNIT:
        reasons.append(f"period {existing.time_unit} -> {BUDGET_TIME_UNIT}")
    if existing.budget_type != BUDGET_TYPE:
        reasons.append(f"type {existing.budget_type} -> {BUDGET_TYPE}")
    reasons += filter_drift(existing.cost_filters, desired.cost_filters)
    return reasons


def subscriber_steps(
    notification: NotificationSpec, desired: Sequence[Subscriber], current: Sequence[Subscriber]
) -> list[BudgetStep]:
    """Replace, then add, then remove: a notification always keeps one subscriber (AWS deletes a
    notification with its last subscriber) and never exceeds 1 SNS / 10 e-mail subscribers."""
    missing = sorted(set(desired) - set(current))
    extra = sorted(set(current) - set(desired))
    where = notification.describe()
    replaces: list[BudgetStep] = []
    adds: list[BudgetStep] = []
    removes: list[BudgetStep] = []
    for kind in SUBSCRIBER_KINDS:
        kind_missing = [s for s in missing if s.kind == kind]
        kind_extra = [s for s in extra if s.kind == kind]
        for old, new in zip(kind_extra, kind_missing, strict=False):
            replaces.append(
                UpdateSubscriber(notification, old, new, f"{where}: subscriber {old.describe()} -> {new.describe()}")
            )
        adds += [
            CreateSubscriber(notification, new, f"{where}: subscriber {new.describe()} missing")
            for new in kind_missing[len(kind_extra) :]
        ]
        removes += [
            DeleteSubscriber(notification, old, f"{where}: subscriber {old.describe()} is not configured")
            for old in kind_extra[len(kind_missing) :]
        ]
    # Subscriber kinds outside SNS/EMAIL cannot exist in AWS; nothing to do for them.
    return [*replaces, *adds, *removes]


def notification_steps(
    desired: Sequence[NotificationSpec], subscribers: Sequence[Subscriber], existing: Sequence[ExistingNotification]
) -> list[BudgetStep]:
    """Steps that turn ``existing`` notifications into ``desired`` ones, each with a reason.

    A notification whose threshold changed is updated in place (keeping its subscribers) rather
    than deleted and created, so a threshold change is one call, not two.
    """
    wanted = set(desired)
    by_spec = {notification.spec: notification for notification in existing}
    missing = sorted(spec for spec in wanted if spec not in by_spec)
    extra = sorted((n for n in existing if n.spec not in wanted), key=lambda n: n.spec)
    steps: list[BudgetStep] = []
    kept: list[tuple[NotificationSpec, tuple[Subscriber, ...]]] = [
        (spec, by_spec[spec].subscribers) for spec in sorted(wanted) if spec in by_spec
    ]
    for old, new in zip(extra, missing, strict=False):
        steps.append(UpdateNotification(old.spec, new, f"notification {old.spec.describe()} -> {new.describe()}"))
        kept.append((new, old.subscribers))
    steps += [
        DeleteNotification(old.spec, f"notification {old.spec.describe()} is not in BudgetAlertThresholds")
        for old in extra[len(missing) :]
    ]
    steps += [
        CreateNotification(new, tuple(subscribers), f"notification {new.describe()} missing")
        for new in missing[len(extra) :]
    ]
    for spec, current in kept:
        steps += subscriber_steps(spec, subscribers, current)
    return steps


def update_steps(existing: ExistingBudget, desired: DesiredBudget) -> tuple[BudgetStep, ...]:
    steps: list[BudgetStep] = []
    drift = budget_drift(existing, desired)
    if drift:
        steps.append(UpdateBudget("; ".join(drift)))
    steps += notification_steps(desired.notifications, desired.subscribers, existing.notifications)
    missing_tags = {key: value for key, value in desired.tags.items() if existing.tags.get(key) != value}
    if missing_tags:
        listed = ", ".join(f"{key}={value}" for key, value in sorted(missing_tags.items()))
        steps.append(TagBudget(missing_tags, f"tags {listed} missing or different"))
    return tuple(steps)


def plan_budgets(
    desired: Sequence[DesiredBudget],
    managed: Sequence[ExistingBudget],
    *,
    unmanaged_names: Collection[str],
    unreadable_names: Collection[str],
    name_conflicts: Sequence[Conflict],
    service_names: Sequence[str],
    cleanup: bool,
    inventory_complete: bool,
) -> BudgetPlan:
    """Compare desired budgets with the managed ones.

    ``unmanaged_names``: budgets that exist but are not this stack's (never touched; a project
    whose name is taken is a conflict). ``unreadable_names``: budgets whose tags or notifications
    could not be read this run (left alone; the read error is reported by the caller).
    ``inventory_complete`` is False when a governed region could not be read: a project seen only
    there would look vanished, so no orphan is judged, let alone deleted.
    """
    by_name = {budget.name: budget for budget in managed}
    creates: list[BudgetCreate] = []
    updates: list[BudgetUpdate] = []
    conflicts = list(name_conflicts)
    in_step: list[str] = []
    for budget in desired:
        existing = by_name.get(budget.name)
        if existing is not None:
            steps = update_steps(existing, budget)
            if steps:
                updates.append(BudgetUpdate(budget, steps))
            else:
                in_step.append(budget.name)
        elif budget.name in unmanaged_names:
            conflicts.append(
                Conflict(
                    budget.project,
                    budget.name,
                    f"a budget named {budget.name} exists but is not tagged {MANAGED_BY_TAG}="
                    f"{budget.tags[MANAGED_BY_TAG]}, so it is left alone; delete it or add that tag to hand it over",
                )
            )
        elif budget.name in unreadable_names:
            continue
        else:
            source = (
                f"project found on {budget.profile_count} application profile(s)"
                if budget.profile_count
                else "project named in ProjectBudgetsUSD"
            )
            creates.append(BudgetCreate(budget, f"{source}; no budget yet"))

    wanted = {budget.name for budget in desired}
    orphans: list[Orphan] = []
    for existing in sorted(managed, key=lambda b: b.name):
        if existing.name in wanted:
            continue
        project = existing.project
        gone = (
            f"project {project!r} has no application profile in the governed regions and no entry in ProjectBudgetsUSD"
            if project is not None
            else "no current project maps to this budget"
        )
        if not inventory_complete:
            orphans.append(Orphan(existing.name, project, False, f"{gone} - but a region failed, so not judged", False))
        elif cleanup:
            orphans.append(Orphan(existing.name, project, True, f"{gone}; BudgetCleanup is on"))
        else:
            orphans.append(Orphan(existing.name, project, False, f"{gone}; kept because BudgetCleanup is off"))
    return BudgetPlan(
        creates=tuple(creates),
        updates=tuple(updates),
        orphans=tuple(orphans),
        conflicts=tuple(conflicts),
        in_step=tuple(sorted(in_step)),
        service_names=tuple(service_names),
    )


# --------------------------------------------------------------------------- cost allocation tags

ACTIVE: Final = "Active"
INACTIVE: Final = "Inactive"
UNKNOWN: Final = "Unknown"  # never seen on billed usage: not activatable yet
UNREADABLE: Final = "Unreadable"


@dataclass(frozen=True)
class CostTagProblem:
    """Something a person must do about cost allocation tags. ``key`` identifies it across runs,
    so it is said once, not every day."""

    key: str
    text: str


@dataclass(frozen=True)
class OrganizationMembership:
    """This account as a member of an organization, as DescribeOrganization answers in it."""

    account_id: str
    organization_id: str
    management_account_id: str


@dataclass(frozen=True)
class CostTagCheck:
    keys: tuple[str, ...]
    statuses: Mapping[str, str]
    activated: tuple[str, ...] = ()
    problems: tuple[CostTagProblem, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "statuses", _frozen(self.statuses))

    def to_dict(self) -> dict[str, object]:
        return {
            "keys": list(self.keys),
            "statuses": dict(self.statuses),
            "activated": list(self.activated),
            "problems": [{"key": p.key, "text": p.text} for p in self.problems],
        }


def keys_to_activate(keys: Sequence[str], statuses: Mapping[str, str]) -> tuple[str, ...]:
    """Only keys billing knows and lists as inactive can be activated; asking for unknown keys
    fails the call (all unknown) or returns per-key errors."""
    return tuple(key for key in keys if statuses.get(key) == INACTIVE)


def _tags_are(keys: Sequence[str], noun: str = "Cost allocation tag") -> str:
    """``Cost allocation tag X is`` / ``Cost allocation tags X, Y are``."""
    return f"{noun} {keys[0]} is" if len(keys) == 1 else f"{noun}s {', '.join(keys)} are"


def _activation_command(keys: Sequence[str]) -> str:
    pairs = " ".join(f"TagKey={key},Status=Active" for key in keys)
    return f"aws ce update-cost-allocation-tags-status --cost-allocation-tags-status {pairs}"


def _how_to_activate(keys: Sequence[str]) -> str:
    return (
        f"In the management (or standalone) account run: {_activation_command(keys)} "
        "- or use Billing and Cost Management > Cost allocation tags. Activation is not retroactive: "
        "`aws ce start-cost-allocation-tag-backfill --backfill-from <first day of a month>T00:00:00Z` "
        "brings earlier months in."
    )


def check_cost_tags(
    keys: Sequence[str],
    statuses: Mapping[str, str] | None,
    *,
    list_error: tuple[str, str] | None = None,
    activation_enabled: bool,
    activated: Sequence[str] = (),
    activation_errors: Sequence[tuple[str, str, str]] = (),
    activation_refused: tuple[str, str] | None = None,
    member_of: OrganizationMembership | None = None,
) -> CostTagCheck:
    """What the cost allocation tag check found and what to tell people.

    ``member_of`` set: this account is a member account of an organization (Organizations said
    so), which can neither list nor activate cost allocation tags; nothing was asked, and the one
    problem names the management account where activation must happen.

    ``statuses`` is None when they could not be read (``list_error`` = code, message).
    ``activation_errors`` are per-key (key, code, message); ``activation_refused`` is the account
    refusing activation as a whole (code, message) - what a member account of an organization gets.
    """
    if member_of is not None:
        text = (
            f"This account ({member_of.account_id}) is a member account of organization "
            f"{member_of.organization_id}: only its management account ({member_of.management_account_id}) can "
            f"activate cost allocation tags {', '.join(keys)}, and budgets filter on user:{PROJECT_TAG_KEY} only "
            f"once it is active. Activate them there, or deploy this stack in {member_of.management_account_id} "
            "with ActivateCostAllocationTags=true (and GovernanceScope=ORGANIZATION to govern every member "
            f"account from there) to have it done. {_how_to_activate(keys)}"
        )
        return CostTagCheck(
            tuple(keys),
            dict.fromkeys(keys, UNREADABLE),
            (),
            (CostTagProblem(f"cost-tags:member-account:{member_of.management_account_id}", text),),
        )
    if statuses is None:
        code, message = list_error or ("Unknown", "")
        if code in {"AccessDeniedException", "AccessDenied"}:
            text = (
                f"Cost allocation tags {', '.join(keys)} could not be checked ({code}: {message}). Member accounts "
                "of an AWS Organization cannot see or activate cost allocation tags; budgets filter on "
                f"user:{PROJECT_TAG_KEY} only once it is active. {_how_to_activate(keys)}"
            )
            return CostTagCheck(
                tuple(keys), dict.fromkeys(keys, UNREADABLE), (), (CostTagProblem("cost-tags:no-access", text),)
            )
        text = f"Cost allocation tags could not be checked ({code}: {message}); the next run tries again."
        return CostTagCheck(
            tuple(keys), dict.fromkeys(keys, UNREADABLE), (), (CostTagProblem(f"cost-tags:error:{code}", text),)
        )

    effective = {key: statuses.get(key, UNKNOWN) for key in keys}
    for key in activated:
        effective[key] = ACTIVE
    problems: list[CostTagProblem] = []
    failed = {key for key, _, _ in activation_errors}
    inactive = [key for key in keys if effective[key] == INACTIVE]
    unknown = [key for key in keys if effective[key] == UNKNOWN]
    if inactive and activation_refused is not None:
        code, message = activation_refused
        problems.append(
            CostTagProblem(
                f"cost-tags:refused:{','.join(inactive)}",
                f"{_tags_are(inactive)} inactive and this account may not activate them "
                f"({code}: {message}). Only the management or a standalone account can. {_how_to_activate(inactive)}",
            )
        )
    elif inactive and activation_enabled:
        for key, code, message in activation_errors:
            problems.append(
                CostTagProblem(
                    f"cost-tags:failed:{key}:{code}",
                    f"Activating cost allocation tag {key} failed ({code}: {message}).",
                )
            )
        rest = [key for key in inactive if key not in failed]
        if rest:
            problems.append(
                CostTagProblem(
                    f"cost-tags:inactive:{','.join(rest)}",
                    f"{_tags_are(rest)} still inactive. {_how_to_activate(rest)}",
                )
            )
    elif inactive:
        problems.append(
            CostTagProblem(
                f"cost-tags:inactive:{','.join(inactive)}",
                f"{_tags_are(inactive)} inactive, so budgets and cost reports cannot see "
                f"spend by them (a budget filtering on an inactive tag tracks nothing). {_how_to_activate(inactive)} "
                "If this is that account, redeploy with ActivateCostAllocationTags=true and this function does it.",
            )
        )
    if unknown:
        then = "activates them then" if activation_enabled else "reports them as inactive then"
        problems.append(
            CostTagProblem(
                f"cost-tags:unknown:{','.join(unknown)}",
                f"{_tags_are(unknown, 'Tag key')} not known to billing yet: a key can be activated only after "
                f"a resource carrying it has incurred cost (usually within a day). This function {then}.",
            )
        )
    return CostTagCheck(tuple(keys), effective, tuple(activated), tuple(problems))
