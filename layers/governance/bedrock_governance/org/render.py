"""The parts of a message that only organization scope has: accounts by name, a line per account,
targets not checked with the fix, accounts skipped. Shared by the tag and idle messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bedrock_governance.core.arn import parse_arn
from bedrock_governance.core.models import RegionFailure
from bedrock_governance.core.text import plural, visible_text
from bedrock_governance.org.policy import OrganizationView


def account_of(arn: str) -> str:
    """The account of a profile ARN; empty for text that is no ARN (sorting must not fail on it)."""
    try:
        return parse_arn(arn).account
    except ValueError:
        return ""


def scope_phrase(view: OrganizationView, regions: Sequence[str]) -> str:
    """``12 accounts x 2 regions (us-east-1, eu-west-1) of o-abc``."""
    return (
        f"{plural(len(view.accounts), 'account')} x {plural(len(regions), 'region')} ({', '.join(regions)}) "
        f"of organization {visible_text(view.organization_id)}"
    )


def subject_scope(view: OrganizationView, regions: Sequence[str]) -> str:
    return f"{plural(len(view.accounts), 'account')}, {plural(len(regions), 'region')}"


def not_checked_lines(view: OrganizationView, failures: Sequence[RegionFailure]) -> list[str]:
    if not failures:
        return []
    lines = ["NOT CHECKED (their profiles are not in this message)"]
    lines += [
        f"  {visible_text(view.describe_label(failure.region))}: {visible_text(failure.error_code)}: "
        f"{visible_text(failure.message)}"
        for failure in failures
    ]
    return [*lines, ""]


def skipped_lines(view: OrganizationView) -> list[str]:
    if not view.skipped:
        return []
    lines = [f"ACCOUNTS NOT GOVERNED ({len(view.skipped)})"]
    lines += [
        f"  {visible_text(view.describe_account(skipped.account.account_id))}: {visible_text(skipped.reason)}"
        for skipped in view.skipped
    ]
    return [*lines, ""]


def by_account_lines(
    view: OrganizationView,
    checked_arns: Iterable[str],
    flagged_arns: Iterable[str],
    failures: Sequence[RegionFailure],
    flagged_word: str,
) -> list[str]:
    """A line per governed account: profiles checked, how many flagged, regions not checked."""
    checked: dict[str, int] = {}
    flagged: dict[str, int] = {}
    for arn in checked_arns:
        checked[account_of(arn)] = checked.get(account_of(arn), 0) + 1
    for arn in flagged_arns:
        flagged[account_of(arn)] = flagged.get(account_of(arn), 0) + 1
    failed: dict[str, list[str]] = {}
    for failure in failures:
        account_id, _, region = failure.region.partition("/")
        failed.setdefault(account_id, []).append(region)
    lines = ["BY ACCOUNT"]
    for account in view.accounts:
        account_id = account.account_id
        line = (
            f"  {visible_text(view.describe_account(account_id))}: {checked.get(account_id, 0):,} checked, "
            f"{flagged.get(account_id, 0):,} {flagged_word}"
        )
        if account_id in failed:
            line += f", not checked in {', '.join(sorted(failed[account_id]))}"
        lines.append(line)
    return [*lines, ""]


def account_heading(view: OrganizationView, account_id: str) -> str:
    return f"  Account {visible_text(view.describe_account(account_id))}"
