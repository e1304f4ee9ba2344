"""The budget run's summary: when to send it (pure, state passed in) and how it reads.

One message per run, only when the run changed something or found something that needs a person
and that was not said before. What was said is remembered as stable keys in a small JSON state,
so a kept orphan, a naming conflict or an inactive cost allocation tag is announced once, and
again only after it went away and came back. Changes that could not be announced (the publish
failed) wait in the state for the next run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

from bedrock_governance.budgets.policy import Conflict, CostTagCheck, Orphan
from bedrock_governance.core.models import NotificationSpec, RegionFailure, Subscriber
from bedrock_governance.core.notify import Notification
from bedrock_governance.core.text import RULE, footer, omitted_line, plural, run_header, shell_word, visible_text

STATE_VERSION: Final = 1


@dataclass(frozen=True)
class AppliedChange:
    """A budget this run created, updated or deleted (or would have, in a dry run)."""

    name: str
    project: str | None
    action: str  # created | updated | deleted
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "project": self.project, "action": self.action, "reasons": list(self.reasons)}

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> AppliedChange:
        return cls(
            name=str(document["name"]),
            project=document.get("project"),
            action=str(document["action"]),
            reasons=tuple(str(reason) for reason in document.get("reasons", [])),
        )


@dataclass(frozen=True)
class BudgetError:
    """A budget (or account-level) call that failed; the rest of the run went on."""

    budget: str
    project: str | None
    operation: str
    code: str
    message: str

    @property
    def key(self) -> str:
        return f"error:{self.budget}:{self.operation}:{self.code}"

    def describe(self) -> str:
        where = self.budget or "account"
        return f"{where}: {self.operation} failed with {self.code}: {self.message}"


@dataclass(frozen=True)
class Attention:
    """Something a person should look at; ``key`` is stable across runs."""

    key: str
    kind: str  # orphan | conflict | error | cost-tags | region | lookup
    text: str


@dataclass(frozen=True)
class BudgetRunFacts:
    """What the run saw and did, independent of whether it is announced."""

    now: datetime
    dry_run: bool
    regions: tuple[str, ...]
    failures: tuple[RegionFailure, ...]
    projects: Mapping[str, int]
    configured_projects: tuple[str, ...]
    thresholds: tuple[NotificationSpec, ...]
    subscribers: tuple[Subscriber, ...]
    service_names: tuple[str, ...]
    in_step: int
    applied: tuple[AppliedChange, ...]
    kept_orphans: tuple[Orphan, ...]
    conflicts: tuple[Conflict, ...]
    errors: tuple[BudgetError, ...]
    cost_tags: CostTagCheck | None
    account_id: str
    cleanup: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "projects", MappingProxyType(dict(self.projects)))

    def count(self, action: str) -> int:
        return sum(1 for change in self.applied if change.action == action)


def attention_items(facts: BudgetRunFacts) -> tuple[Attention, ...]:
    items: list[Attention] = []
    for failure in facts.failures:
        items.append(
            Attention(
                f"region:{failure.region}:{failure.error_code}",
                "region",
                f"Region {failure.describe()} - its projects are unknown this run, so no managed budget was judged "
                "orphaned or deleted.",
            )
        )
    for orphan in facts.kept_orphans:
        if not orphan.judged:
            continue  # the region failure above says why; nothing to do about the budget itself
        try:
            # Budget names may hold spaces, quotes, $( ): the command quotes them (one line, exact name).
            command = (
                f"run aws budgets delete-budget --account-id {shell_word(facts.account_id)} "
                f"--budget-name {shell_word(orphan.name)}"
            )
        except ValueError:  # a NUL character: no command line can carry it
            command = "delete it in the AWS Budgets console"
        items.append(
            Attention(
                f"orphan:{orphan.name}",
                "orphan",
                f"Budget {orphan.name}: {orphan.reason}. To delete it: deploy with BudgetCleanup=true, or {command}",
            )
        )
    for conflict in facts.conflicts:
        items.append(
            Attention(
                f"conflict:{conflict.name}:{conflict.project}",
                "conflict",
                f"Project {conflict.project!r} has no managed budget: {conflict.reason}.",
            )
        )
    for error in facts.errors:
        items.append(Attention(error.key, "error", error.describe()))
    if facts.cost_tags is not None:
        items += [Attention(problem.key, "cost-tags", problem.text) for problem in facts.cost_tags.problems]
    return tuple(items)


# --------------------------------------------------------------------------- state and decision


@dataclass(frozen=True)
class BudgetAlertState:
    announced: frozenset[str] = frozenset()
    pending: tuple[AppliedChange, ...] = ()
    activation_refused_at: datetime | None = None
    activation_refused_keys: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "announced": sorted(self.announced),
            "pending": [change.to_dict() for change in self.pending],
            "activationRefusedAt": self.activation_refused_at.isoformat() if self.activation_refused_at else None,
            "activationRefusedKeys": list(self.activation_refused_keys),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any] | None) -> BudgetAlertState:
        if not document or document.get("version") != STATE_VERSION:
            return cls()
        refused_at = document.get("activationRefusedAt")
        return cls(
            announced=frozenset(str(key) for key in document.get("announced", [])),
            pending=tuple(AppliedChange.from_dict(item) for item in document.get("pending", [])),
            activation_refused_at=datetime.fromisoformat(refused_at) if refused_at else None,
            activation_refused_keys=tuple(str(key) for key in document.get("activationRefusedKeys", [])),
        )


@dataclass(frozen=True)
class SummaryDecision:
    publish: bool
    explanation: str
    new_attention: frozenset[str]
    state_if_published: BudgetAlertState
    """The state to save once the message is out (or at once, when nothing is published)."""
    state_if_failed: BudgetAlertState
    """The state to save when publishing failed: changes wait for the next run."""


def decide_summary(
    facts: BudgetRunFacts, attention: Sequence[Attention], previous: BudgetAlertState
) -> SummaryDecision:
    """Publish when something changed (this run or waiting from a failed publish) or when an
    attention item is new. Resolved items drop out of the state, so they are told again if they
    come back."""
    current = frozenset(item.key for item in attention)
    new = current - previous.announced
    changes = len(facts.applied) + (len(facts.cost_tags.activated) if facts.cost_tags else 0)
    if facts.dry_run:
        return SummaryDecision(False, "dry run: nothing published", frozenset(new), previous, previous)
    publish = bool(changes or new)
    if changes and new:
        explanation = f"{changes} change(s) and {len(new)} new item(s) needing attention"
    elif changes:
        explanation = f"{changes} change(s)"
    elif new:
        explanation = f"{len(new)} new item(s) needing attention"
    else:
        explanation = "nothing changed and nothing new needs attention"
    published = BudgetAlertState(
        announced=current,
        pending=(),
        activation_refused_at=previous.activation_refused_at,
        activation_refused_keys=previous.activation_refused_keys,
    )
    failed = BudgetAlertState(
        announced=previous.announced & current,
        pending=facts.applied,
        activation_refused_at=previous.activation_refused_at,
        activation_refused_keys=previous.activation_refused_keys,
    )
    return SummaryDecision(publish, explanation, frozenset(new), published, failed)


# --------------------------------------------------------------------------- rendering


def subject(facts: BudgetRunFacts, attention: Sequence[Attention]) -> str:
    verbs = ("would create", "would update", "would delete") if facts.dry_run else ("created", "updated", "deleted")
    parts = [
        f"{facts.count(action)} {verb}"
        for action, verb in zip(("created", "updated", "deleted"), verbs, strict=True)
        if facts.count(action)
    ]
    if attention:
        parts.append(f"{len(attention)} need attention")
    prefix = "Bedrock budgets (dry run)" if facts.dry_run else "Bedrock budgets"
    return f"{prefix}: {', '.join(parts) or 'no changes'}"


def _change_block(change: AppliedChange) -> list[str]:
    # Names and reasons carry project tag values, which may hold newlines: escaped, one line each.
    project = f"  (project {visible_text(change.project)})" if change.project else ""
    return [f"  {visible_text(change.name)}{project}", *(f"    - {visible_text(reason)}" for reason in change.reasons)]


def render(
    facts: BudgetRunFacts,
    attention: Sequence[Attention],
    new_attention: frozenset[str],
    limit: int,
) -> Notification:
    """The summary with at most ``limit`` changes and attention items spelled out."""
    on_profiles = sum(1 for count in facts.projects.values() if count)
    only_configured = [p for p in facts.configured_projects if not facts.projects.get(p)]
    total_projects = on_profiles + len(only_configured)
    heading = "Bedrock project budgets" + (" - dry run, nothing was changed" if facts.dry_run else "")
    subscribers = ", ".join(visible_text(s.describe()) for s in facts.subscribers)
    lines = [
        *run_header(heading, facts.now),
        RULE,
        f"{plural(total_projects, 'project')}: {on_profiles} found on application profiles in "
        f"{plural(len(facts.regions), 'region')} ({', '.join(facts.regions)}), "
        f"{len(only_configured)} only in ProjectBudgetsUSD.",
        f"Budgets already in step: {facts.in_step}. Created: {facts.count('created')}. "
        f"Updated: {facts.count('updated')}. Deleted: {facts.count('deleted')}.",
        f"Each budget counts spend tagged Project=<project> on the services "
        f"{', '.join(map(visible_text, facts.service_names))}.",
        f"Alerts: {', '.join(spec.describe() for spec in facts.thresholds)} of the monthly limit, to {subscribers}.",
        "",
    ]
    if facts.cost_tags and facts.cost_tags.activated:
        verb = "Would activate" if facts.dry_run else "Activated"
        lines += [
            f"{verb} cost allocation tags: {', '.join(map(visible_text, facts.cost_tags.activated))}. Spend is grouped "
            "by them from",
            "today on; earlier spend only after a backfill (aws ce start-cost-allocation-tag-backfill).",
            "",
        ]
    shown = 0
    total = len(facts.applied) + len(attention)
    documents: dict[str, list[dict[str, Any]]] = {"created": [], "updated": [], "deleted": []}
    titles = {"created": "CREATED", "updated": "UPDATED", "deleted": "DELETED"}
    if facts.dry_run:
        titles = {"created": "WOULD CREATE", "updated": "WOULD UPDATE", "deleted": "WOULD DELETE"}
    for action in ("created", "updated", "deleted"):
        changes = [change for change in facts.applied if change.action == action]
        visible = changes[: max(0, limit - shown)]
        if visible:
            lines.append(f"{titles[action]} ({len(changes):,})")
            for change in visible:
                lines += _change_block(change)
                documents[action].append(change.to_dict())
            lines.append("")
            shown += len(visible)
    attention_docs: list[dict[str, Any]] = []
    visible_attention = list(attention)[: max(0, limit - shown)]
    if visible_attention:
        fresh = sum(1 for item in attention if item.key in new_attention)
        lines.append(f"NEEDS ATTENTION ({len(attention):,}, {fresh:,} new)")
        for item in visible_attention:
            marker = "[new] " if item.key in new_attention else ""
            lines.append(f"  - {marker}{visible_text(item.text)}")
            attention_docs.append(
                {"key": item.key, "kind": item.kind, "text": item.text, "new": item.key in new_attention}
            )
        lines.append("")
        shown += len(visible_attention)
    omitted = total - shown
    if omitted:
        lines += [omitted_line(omitted), ""]
    lines += footer(
        "BudgetFunction",
        [
            "needs a person. Items already reported are not repeated until they go away and come back. Programs",
            "subscribed over SQS, Lambda or HTTPS receive this summary as JSON.",
        ],
        rest=" when it changed a budget or found something new that",
    )
    document: dict[str, Any] = {
        "type": "budgets",
        "generatedAt": facts.now.isoformat(),
        "dryRun": facts.dry_run,
        "regions": list(facts.regions),
        "projects": dict(facts.projects),
        "configuredProjects": list(facts.configured_projects),
        "serviceNames": list(facts.service_names),
        "thresholds": [spec.key for spec in facts.thresholds],
        "counts": {
            "inStep": facts.in_step,
            "created": facts.count("created"),
            "updated": facts.count("updated"),
            "deleted": facts.count("deleted"),
            "attention": len(attention),
            "newAttention": len(new_attention),
        },
        **documents,
        "attention": attention_docs,
        "costAllocationTags": facts.cost_tags.to_dict() if facts.cost_tags else None,
        "failedRegions": [failure.to_dict() for failure in facts.failures],
        "truncated": omitted > 0,
        "omitted": omitted,
    }
    return Notification(subject=subject(facts, attention), text="\n".join(lines), document=document)


def item_count(facts: BudgetRunFacts, attention: Sequence[Attention]) -> int:
    return len(facts.applied) + len(attention)
