"""The idle-profile message: one per run, plain text for e-mail and JSON for programs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bedrock_governance.core.models import KEEP_TAG, RegionFailure
from bedrock_governance.core.notify import Notification
from bedrock_governance.core.text import RULE, footer, omitted_line, plural, run_header, shell_word, visible_text
from bedrock_governance.idle.policy import BreakerTrip, IdleAction, IdleOutcome, IdleSettings, OutcomeStatus
from bedrock_governance.org import render as org_render
from bedrock_governance.org.policy import OrganizationView

CAP_BANNER: Final = "!" * 72


@dataclass(frozen=True)
class IdleRunFacts:
    """What one run saw and did."""

    now: datetime
    regions: tuple[str, ...]
    settings: IdleSettings
    max_deletions: int
    checked: int
    outcomes: tuple[IdleOutcome, ...]
    failures: tuple[RegionFailure, ...]
    read_only: bool = False  # decisions reported, no tag written (command line)
    breaker_trips: tuple[BreakerTrip, ...] = ()  # regions where the circuit breaker held everything
    organization: OrganizationView | None = None  # organization scope: failures name account/region

    def of(self, action: IdleAction, *statuses: OutcomeStatus) -> tuple[IdleOutcome, ...]:
        return tuple(o for o in self.outcomes if o.action is action and (not statuses or o.status in statuses))

    @property
    def cap_reached(self) -> bool:
        return any(o.action is IdleAction.DEFERRED for o in self.outcomes)

    @property
    def newly_idle(self) -> tuple[IdleOutcome, ...]:
        # Profiles marked today also count when the mark was already there: a retried run
        # (same scheduled time) then repeats a warning the first attempt may not have sent.
        today = self.now.date()
        return tuple(
            o
            for o in self.outcomes
            if (o.action is IdleAction.MARK and o.succeeded)
            or (o.action is IdleAction.WAIT and o.decision.idle_since == today)
        )

    @property
    def unmarked(self) -> tuple[IdleOutcome, ...]:
        return tuple(o for o in self.of(IdleAction.UNMARK) if o.succeeded)

    @property
    def still_idle(self) -> tuple[IdleOutcome, ...]:
        today = self.now.date()
        return tuple(o for o in self.outcomes if o.action is IdleAction.WAIT and o.decision.idle_since != today)

    @property
    def problems(self) -> tuple[IdleOutcome, ...]:
        """Everything that did not go as decided, deletions included."""
        return tuple(o for o in self.outcomes if not o.succeeded or o.action is IdleAction.UNKNOWN)

    def counts(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "busy": len(self.of(IdleAction.LEAVE)),
            "young": len(self.of(IdleAction.YOUNG)),
            "exempt": len(self.of(IdleAction.EXEMPT)),
            "usageUnknown": len(self.of(IdleAction.UNKNOWN)),
            "newlyIdle": len(self.newly_idle),
            "marked": len(self.of(IdleAction.MARK, OutcomeStatus.DONE)),
            "unmarked": len(self.of(IdleAction.UNMARK, OutcomeStatus.DONE)),
            "stillIdle": len(self.still_idle),
            "deleted": len(self.of(IdleAction.DELETE, OutcomeStatus.DONE)),
            "deletionsNotDone": len([o for o in self.of(IdleAction.DELETE) if not o.succeeded]),
            "wouldDelete": len(self.of(IdleAction.WOULD_DELETE)),
            "deferredByCap": len(self.of(IdleAction.DEFERRED)),
            "heldByBreaker": len(self.of(IdleAction.HELD)),
            "actionsFailed": len([o for o in self.outcomes if o.status is OutcomeStatus.FAILED]),
            "failedRegions": len(self.failures),
        }

    @property
    def worth_a_message(self) -> bool:
        """Whether anyone needs to hear about this run: nothing changed and nothing failed means no mail."""
        return bool(
            self.newly_idle
            or self.of(IdleAction.UNMARK)
            or self.of(IdleAction.DELETE)
            or self.of(IdleAction.WOULD_DELETE)
            or self.cap_reached
            or self.breaker_trips
            or self.problems
            or self.failures
        )


def _keep_command(outcome: IdleOutcome) -> str:
    profile = outcome.decision.profile
    tag = shell_word(f"key={KEEP_TAG},value=true")
    try:
        region, arn = shell_word(profile.region), shell_word(profile.arn)
    except ValueError:  # a NUL character: no command line can carry it
        return f"tag it {KEEP_TAG}=true in the console (its ARN cannot be passed to a shell command)"
    return f"aws bedrock tag-resource --region {region} --resource-arn {arn} --tags {tag}"


def _block(index: int, outcome: IdleOutcome, *, keep_hint: bool, in_organization: bool = False) -> list[str]:
    decision = outcome.decision
    profile = decision.profile
    # Every AWS-supplied value goes through visible_text(): a newline in a tag value must not add lines.
    owner = visible_text(decision.owner or "") or "(no Owner tag)"
    project = visible_text(decision.project or "") or "(no Project tag)"
    where = visible_text(profile.region)
    if in_organization:
        where += f", account {visible_text(org_render.account_of(profile.arn))}"
    lines = [
        f"[{index}] {visible_text(profile.name)}  ({where})",
        f"    {visible_text(profile.arn)}",
        f"    Owner: {owner}   Project: {project}",
        f"    Last use: {visible_text(decision.last_use_text())}",
    ]
    if decision.idle_since and decision.eligible_on:
        lines.append(f"    Idle since: {decision.idle_since}; eligible for deletion on {decision.eligible_on}")
    lines.append(f"    Why: {visible_text(decision.reason)}")
    if outcome.detail:
        lines.append(f"    Result: {outcome.status.value}: {visible_text(outcome.detail)}")
    if outcome.record_uri:
        lines.append(f"    Deletion record (to re-create it): {visible_text(outcome.record_uri)}")
    if keep_hint:
        lines.append(f"    To keep it: use it, or exempt it: {_keep_command(outcome)}")
    lines.append("")
    return lines


Section = tuple[str, str, tuple[IdleOutcome, ...], bool]


def sections(facts: IdleRunFacts) -> list[Section]:
    """(key, title, outcomes, keep hint) in the order people need them."""
    deletes = facts.of(IdleAction.DELETE)
    ro = facts.read_only
    deleted = tuple(o for o in deletes if o.succeeded)
    not_deleted = tuple(o for o in deletes if not o.succeeded)
    other_problems = tuple(o for o in facts.problems if o.action is not IdleAction.DELETE)
    candidates: list[Section] = [
        ("deleted", "DELETED", deleted, False),
        ("notDeleted", "NOT DELETED (reported per profile; the run went on)", not_deleted, False),
        ("wouldDelete", "WOULD BE DELETED (CleanupDryRun is on)", facts.of(IdleAction.WOULD_DELETE), True),
        ("deferred", "DEFERRED: deletion cap reached", facts.of(IdleAction.DEFERRED), True),
        ("newlyIdle", f"NEWLY IDLE: {'to be marked' if ro else 'marked'}, owners please act", facts.newly_idle, True),
        ("unmarked", "MARK TO BE REMOVED" if ro else "MARK REMOVED", facts.unmarked, False),
        ("problems", "COULD NOT BE HANDLED", other_problems, False),
        ("held", "HELD BY THE CIRCUIT BREAKER: not marked, not deleted", facts.of(IdleAction.HELD), False),
        ("stillIdle", "STILL IDLE, within the grace period", facts.still_idle, True),
    ]
    return [section for section in candidates if section[2]]


def item_count(facts: IdleRunFacts) -> int:
    return sum(len(items) for _, _, items, _ in sections(facts))


def subject(facts: IdleRunFacts) -> str:
    counts = facts.counts()
    parts = [
        f"{counts['deleted']} deleted" if counts["deleted"] else "",
        f"{counts['wouldDelete']} would be deleted" if counts["wouldDelete"] else "",
        f"{counts['deferredByCap']} deferred" if counts["deferredByCap"] else "",
        f"{counts['newlyIdle']} newly idle" if counts["newlyIdle"] else "",
        f"{len(facts.unmarked)} back in use or exempt" if facts.unmarked else "",
        f"{len(facts.problems)} not handled" if facts.problems else "",
        (
            ""
            if not facts.failures
            else f"{plural(len(facts.failures), 'account region')} not checked"
            if facts.organization
            else f"{len(facts.failures)} region(s) failed"
        ),
    ]
    text = ", ".join(part for part in parts if part) or "nothing to report"
    prefix = "[DELETION CAP REACHED] " if facts.cap_reached else ""
    if facts.breaker_trips:
        prefix = f"[CIRCUIT BREAKER: {len(facts.breaker_trips)} region(s) held] {prefix}"
    mode = " (dry run)" if facts.settings.dry_run else ""
    return f"{prefix}Bedrock idle profiles{mode}: {text}"


def render(facts: IdleRunFacts, limit: int) -> Notification:
    """The run's message with at most ``limit`` profiles spelled out (the rest counted)."""
    settings = facts.settings
    counts = facts.counts()
    lines: list[str] = []
    if facts.breaker_trips:
        lines += [
            CAP_BANNER,
            "CIRCUIT BREAKER: too many profiles looked newly idle at once, which is what a misread looks like",
            "(CloudWatch data missing, a clock far off). Nothing was marked or deleted in these regions:",
            *[f"  {trip.describe()}" for trip in facts.breaker_trips],
            CAP_BANNER,
            "",
        ]
    if facts.cap_reached:
        lines += [
            CAP_BANNER,
            f"DELETION CAP REACHED: MaxDeletionsPerRun is {facts.max_deletions}. "
            f"{plural(counts['deferredByCap'], 'more eligible profile')} "
            + (
                "would NOT be deleted by a real run."
                if settings.dry_run
                else f"{'was' if counts['deferredByCap'] == 1 else 'were'} NOT deleted in this run."
            ),
            "They are considered again in the next run. Raise MaxDeletionsPerRun only if this many",
            "deletions are expected.",
            CAP_BANNER,
            "",
        ]
    organization = facts.organization
    where = (
        org_render.scope_phrase(organization, facts.regions)
        if organization is not None
        else f"{plural(len(facts.regions), 'region')} ({', '.join(facts.regions)})"
    )
    lines += [
        *run_header("Bedrock idle application inference profiles", facts.now),
        RULE,
        f"Checked {plural(facts.checked, 'application inference profile')} in {where}.",
        f"A profile is idle after {settings.idle_days} days without invocations (CloudWatch AWS/Bedrock",
        f"Invocations); it is deleted {settings.grace_days} days after it was marked idle if still unused.",
        f"Deletion: {'OFF (CleanupDryRun=true): eligible profiles are only reported' if settings.dry_run else 'ON'}."
        f" At most {facts.max_deletions} deletions a run.",
        f"Exempt a profile with the tag {KEEP_TAG}=true.",
        *(
            ["READ-ONLY RUN: decisions are reported, no tag was written and nothing deleted."]
            if facts.read_only
            else []
        ),
        f"This run: {counts['deleted']} deleted, {counts['wouldDelete']} would be deleted, "
        f"{counts['deferredByCap']} deferred, {counts['newlyIdle']} newly idle, {counts['unmarked']} marks removed, "
        f"{counts['stillIdle']} still idle, {counts['busy']} in use, {counts['young']} young, "
        f"{counts['exempt']} exempt.",
        "",
    ]
    if organization is not None:
        lines += org_render.not_checked_lines(organization, facts.failures)
        lines += org_render.skipped_lines(organization)
        idle = (*facts.newly_idle, *facts.still_idle, *facts.of(IdleAction.WOULD_DELETE), *facts.of(IdleAction.DELETE))
        lines += org_render.by_account_lines(
            organization,
            (o.decision.profile.arn for o in facts.outcomes),
            (o.decision.profile.arn for o in idle),
            facts.failures,
            "idle",
        )
    elif facts.failures:
        lines.append("REGIONS NOT CHECKED (nothing was marked or deleted there)")
        lines += [f"  {visible_text(failure.describe())}" for failure in facts.failures]
        lines.append("")

    shown = 0
    documents: list[dict[str, Any]] = []
    omitted = 0
    for key, title, items, keep_hint in sections(facts):
        visible = items[: max(0, limit - shown)]
        omitted += len(items) - len(visible)
        if not visible:
            continue
        lines += [f"{title} ({len(items):,})", ""]
        account = None
        for outcome in visible:
            shown += 1
            arn = outcome.decision.profile.arn
            if organization is not None and org_render.account_of(arn) != account:
                account = org_render.account_of(arn)
                lines += [org_render.account_heading(organization, account), ""]
            lines += _block(shown, outcome, keep_hint=keep_hint, in_organization=organization is not None)
            extra = (
                {"account": org_render.account_of(arn), "accountName": organization.name_of(org_render.account_of(arn))}
                if organization is not None
                else {}
            )
            documents.append({"section": key, **outcome.to_dict(), **extra})
    if omitted:
        lines += [omitted_line(omitted), ""]
    lines += footer(
        "IdleProfileFunction",
        [
            "everything needed to re-create it is written to the stack's bucket. A re-created profile gets a",
            "NEW ARN. Programs subscribed over SQS, Lambda or HTTPS receive this message as JSON.",
        ],
        rest=". Before a profile is deleted, a record with",
    )
    document: dict[str, Any] = {
        "type": "idle-profiles",
        "generatedAt": facts.now.isoformat(),
        "dryRun": settings.dry_run,
        "readOnly": facts.read_only,
        "settings": {
            "idleDays": settings.idle_days,
            "graceDays": settings.grace_days,
            "maxDeletionsPerRun": facts.max_deletions,
        },
        "regions": list(facts.regions),
        "deletionCapReached": facts.cap_reached,
        "circuitBreaker": [trip.to_dict() for trip in facts.breaker_trips],
        "counts": counts,
        "failedRegions": [failure.to_dict() for failure in facts.failures],
        "profiles": documents,
        "truncated": omitted > 0,
        "omitted": omitted,
    }
    if organization is not None:
        document["organization"] = organization.to_dict()
    return Notification(subject=subject(facts), text="\n".join(lines), document=document)


def sort_outcomes(outcomes: Sequence[IdleOutcome]) -> tuple[IdleOutcome, ...]:
    # By account first: one account's profiles stay together (account scope has only one).
    return tuple(
        sorted(
            outcomes,
            key=lambda o: (
                org_render.account_of(o.decision.profile.arn),
                o.decision.profile.region,
                o.decision.profile.name,
            ),
        )
    )
