"""The tag-compliance alert as people read it (plain text) and programs read it (JSON)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from bedrock_governance.core.arn import region_of
from bedrock_governance.core.models import RegionFailure
from bedrock_governance.core.notify import Notification
from bedrock_governance.core.text import RULE, footer, is_ansi_c, plural, run_header, shell_word, visible_text
from bedrock_governance.org import render as org_render
from bedrock_governance.org.policy import OrganizationView
from bedrock_governance.tags.policy import ProfileFinding, TagPolicy, fix_commands
from bedrock_governance.tags.state import AlertDecision, AlertReason


@dataclass(frozen=True)
class SweepFacts:
    """What the sweep saw, independent of what is alerted."""

    now: datetime
    regions: tuple[str, ...]
    checked: int
    policy: TagPolicy
    failures: tuple[RegionFailure, ...]
    findings: tuple[ProfileFinding, ...]
    names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Name of every profile checked, by ARN: resolved violations are named when still there."""
    unreadable_state: str | None = None
    """Why the saved state was not used (it could not be read), or None."""
    organization: OrganizationView | None = None
    """Set in organization scope: accounts by name; failures are then named ``account/region``."""


def _text_fix_commands(finding: ProfileFinding) -> tuple[str, list[str]]:
    """The "Fix:" heading and the fix commands for the text body, each command on one line."""
    ansi_c: list[str] = []

    def quote(value: str) -> str:
        word = shell_word(value)
        if is_ansi_c(word):
            ansi_c.append(word)
        return word

    try:
        commands = fix_commands(finding.profile, finding.violations, quote)
    except ValueError:
        # A NUL character cannot be passed on a command line: show the commands, commented out.
        commands = fix_commands(finding.profile, finding.violations, lambda value: visible_text(shlex.quote(value)))
        heading = "    Fix (not runnable as printed: a tag holds a NUL character, which no shell can pass):"
        return heading, [f"# {command}" for command in commands]
    if ansi_c:
        return "    Fix (bash or zsh: $'...' spells out control characters in a tag):", list(commands)
    return "    Fix:", list(commands)


def _finding_block(index: int, finding: ProfileFinding, organization: OrganizationView | None = None) -> list[str]:
    # Every AWS-supplied value goes through visible_text(): a newline in a tag value must not add lines.
    profile = finding.profile
    tags = (
        ", ".join(f"{visible_text(key)}={visible_text(value)}" for key, value in sorted(profile.tags.items()))
        or "(none)"
    )
    where = visible_text(profile.region)
    if organization is not None:
        where += f", account {visible_text(org_render.account_of(profile.arn))}"
    lines = [
        f"[{index}] {visible_text(profile.name)}  ({where})",
        f"    {visible_text(profile.arn)}",
    ]
    lines += [f"    - {visible_text(violation.describe())}" for violation in finding.violations]
    lines.append(f"    Current tags: {tags}")
    heading, commands = _text_fix_commands(finding)
    lines.append(heading)
    lines += [f"      {command}" for command in commands]
    lines.append("")
    return lines


def _sections(decision: AlertDecision) -> list[tuple[str, tuple[ProfileFinding, ...]]]:
    sections = [("NEW VIOLATIONS", decision.new), ("CHANGED VIOLATIONS", decision.changed)]
    if decision.reason is AlertReason.DIGEST:
        sections.append(("STILL OPEN", decision.unchanged))
    return [(title, items) for title, items in sections if items]


def subject(facts: SweepFacts, decision: AlertDecision) -> str:
    bad = len(facts.findings)
    regions = plural(len(facts.regions), "region")
    if facts.organization is not None:
        regions = org_render.subject_scope(facts.organization, facts.regions)
    if decision.reason is AlertReason.DIGEST:
        return f"Bedrock tag compliance digest: {bad:,} of {facts.checked:,} profiles non-compliant ({regions})"
    fresh = len(decision.new) + len(decision.changed)
    if fresh:
        news = f"{fresh:,} new or changed"
    elif decision.resolved:
        news = f"{len(decision.resolved):,} resolved"
    else:
        news = f"{plural(len(decision.new_failures), 'region')} not checked"
    return f"Bedrock tag violations: {news}, {bad:,} open ({regions})"


def render(facts: SweepFacts, decision: AlertDecision, limit: int, full_report_uri: str | None = None) -> Notification:
    """The alert with at most ``limit`` findings spelled out (the rest counted)."""
    policy = facts.policy
    organization = facts.organization
    heading = "Weekly digest" if decision.reason is AlertReason.DIGEST else "Changes since the last alert"
    where = (
        org_render.scope_phrase(organization, facts.regions)
        if organization is not None
        else f"{plural(len(facts.regions), 'region')} ({', '.join(facts.regions)})"
    )
    lines = [
        *run_header(f"Bedrock tag compliance - {heading}", facts.now),
        RULE,
        f"Checked {plural(facts.checked, 'application inference profile')} in {where}.",
        f"{plural(len(facts.findings), 'profile')} violate the tag policy: {len(decision.new)} new, "
        f"{len(decision.changed)} changed, {len(decision.unchanged)} unchanged. "
        f"{len(decision.resolved)} resolved since the last alert.",
        f"Required tags: {', '.join(visible_text(key) for key in policy.required_keys)}.",
    ]
    for key, values in policy.allowed_values.items():
        lines.append(f"Allowed values for {visible_text(key)}: {', '.join(visible_text(value) for value in values)}.")
    lines.append("")
    if facts.unreadable_state:
        lines += ["SAVED STATE UNREADABLE (so this is a full digest)", f"  {visible_text(facts.unreadable_state)}", ""]
    lines += _scope_lines(facts)

    shown = 0
    total_listed = 0
    documents: list[dict[str, Any]] = []
    for title, items in _sections(decision):
        status = title.split()[0].lower()
        total_listed += len(items)
        visible = items[: max(0, limit - shown)]
        if visible:
            lines += [f"{title} ({len(items):,})", ""]
        account = None
        for finding in visible:
            shown += 1
            if organization is not None and org_render.account_of(finding.profile.arn) != account:
                account = org_render.account_of(finding.profile.arn)
                lines += [org_render.account_heading(organization, account), ""]
            lines += _finding_block(shown, finding, organization)
            documents.append({"status": status, **finding.to_dict(), **_account_fields(finding, organization)})
    omitted = total_listed - shown
    if omitted:
        where = f" The full list is in {full_report_uri}." if full_report_uri else " The full list is in the logs."
        lines += [f"... and {omitted:,} more not shown to keep this message within SNS limits.{where}", ""]
    if decision.reason is AlertReason.CHANGES and decision.unchanged:
        lines += [f"{len(decision.unchanged):,} unchanged violations are left for the weekly digest.", ""]
    resolved_listed = decision.resolved[: max(0, limit - shown)]
    if decision.resolved:
        lines.append(f"RESOLVED ({len(decision.resolved):,})")
        lines += [
            f"  {visible_text(facts.names[arn])}  {visible_text(arn)}"
            if arn in facts.names
            else f"  {visible_text(arn)} (deleted)"
            for arn in resolved_listed
        ]
        if len(resolved_listed) < len(decision.resolved):
            lines.append(f"  ... and {len(decision.resolved) - len(resolved_listed):,} more")
        lines.append("")
    if decision.ungoverned:
        # Not resolved: nobody fixed or deleted them, their region is just not swept any more.
        gone = sorted({region_of(arn) for arn in decision.ungoverned})
        lines += [
            f"Dropped {plural(len(decision.ungoverned), 'earlier finding')} in regions no longer governed "
            f"({', '.join(gone)}).",
            "",
        ]
    lines += footer(
        "TagComplianceFunction",
        [
            "case-sensitive, and cost allocation groups spend by the exact key. Programs subscribed over",
            "SQS, Lambda or HTTPS receive this alert as JSON.",
        ],
        rest=". Tags must be exact: keys and values are",
    )
    document: dict[str, Any] = {
        "type": "tag-compliance",
        "generatedAt": facts.now.isoformat(),
        "reason": decision.reason.value,
        "explanation": decision.explanation,
        "regions": list(facts.regions),
        "checkedProfiles": facts.checked,
        "policy": {
            "requiredKeys": list(policy.required_keys),
            "allowedValues": {key: list(values) for key, values in policy.allowed_values.items()},
        },
        "counts": {
            "nonCompliant": len(facts.findings),
            "new": len(decision.new),
            "changed": len(decision.changed),
            "unchanged": len(decision.unchanged),
            "resolved": len(decision.resolved),
        },
        "failedRegions": [failure.to_dict() for failure in facts.failures],
        "findings": documents,
        "resolved": list(resolved_listed),
        "truncated": omitted > 0 or len(resolved_listed) < len(decision.resolved),
        "omitted": omitted,
        "fullReport": full_report_uri,
        "unreadableState": facts.unreadable_state,
        "droppedUngoverned": len(decision.ungoverned),
    }
    if organization is not None:
        document["organization"] = organization.to_dict()
    return Notification(subject=subject(facts, decision), text="\n".join(lines), document=document)


def _scope_lines(facts: SweepFacts) -> list[str]:
    """Targets not checked; in organization scope also accounts skipped and a line per account."""
    organization = facts.organization
    lines: list[str] = []
    if organization is not None:
        lines += org_render.not_checked_lines(organization, facts.failures)
        lines += org_render.skipped_lines(organization)
        lines += org_render.by_account_lines(
            organization, facts.names, (f.profile.arn for f in facts.findings), facts.failures, "non-compliant"
        )
    elif facts.failures:
        lines.append("REGIONS NOT CHECKED (their profiles are not in this alert)")
        lines += [f"  {visible_text(failure.describe())}" for failure in facts.failures]
        lines.append("")
    return lines


def _account_fields(finding: ProfileFinding, organization: OrganizationView | None) -> dict[str, str]:
    if organization is None:
        return {}
    account = org_render.account_of(finding.profile.arn)
    return {"account": account, "accountName": organization.name_of(account)}


def full_report(facts: SweepFacts, decision: AlertDecision) -> dict[str, Any]:
    """Every finding, for the S3 copy that backs a truncated alert."""
    status = {f.profile.arn: "new" for f in decision.new} | {f.profile.arn: "changed" for f in decision.changed}
    return {
        "type": "tag-compliance-report",
        "generatedAt": facts.now.isoformat(),
        "regions": list(facts.regions),
        "checkedProfiles": facts.checked,
        "failedRegions": [failure.to_dict() for failure in facts.failures],
        "findings": [{"status": status.get(f.profile.arn, "unchanged"), **f.to_dict()} for f in facts.findings],
        "resolved": list(decision.resolved),
        **({"organization": facts.organization.to_dict()} if facts.organization else {}),
    }


def finding_count(decision: AlertDecision) -> int:
    return sum(len(items) for _, items in _sections(decision)) + len(decision.resolved)


def sort_findings(findings: Sequence[ProfileFinding]) -> tuple[ProfileFinding, ...]:
    # By account first: one account's findings stay together (account scope has only one).
    return tuple(
        sorted(
            findings,
            key=lambda f: (org_render.account_of(f.profile.arn), f.profile.region, f.profile.name, f.profile.arn),
        )
    )
