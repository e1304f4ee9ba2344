"""Hostile text from AWS: a tag value's newline or bidi override must not add or reorder lines in a mail.

Bedrock's tag pattern allows ``\\s`` (newlines, tabs ...), so a tag value can try to print a fake
"Fix:" block or fake report rows. Text bodies escape such characters visibly; JSON documents keep
the exact value; printed shell commands stay one line and still pass the exact value.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import shlex
import shutil
import string
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_governance.budgets import render as budget_render
from bedrock_governance.budgets.policy import Conflict, CostTagCheck, Orphan
from bedrock_governance.budgets.render import AppliedChange, BudgetError, BudgetRunFacts, attention_items
from bedrock_governance.core.models import NotificationSpec, RegionFailure, Subscriber, budget_name_for
from bedrock_governance.core.notify import Notification, clean_subject
from bedrock_governance.core.text import needs_escape, shell_word, visible_text
from bedrock_governance.cost import render as cost_render
from bedrock_governance.cost.policy import CostReport
from bedrock_governance.idle import render as idle_render
from bedrock_governance.idle.policy import IdleAction, IdleDecision, IdleOutcome, IdleSettings, OutcomeStatus
from bedrock_governance.tags import render as tag_render
from bedrock_governance.tags.policy import TagPolicy, evaluate_profile
from bedrock_governance.tags.state import AlertState, decide_alert
from tests.unit import cost_report_factories as cr
from tests.unit.factories import ACCOUNT, profile

NOW = cr.NOW
BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is needed to parse the printed commands")

# Bedrock's tag alphabet ([a-zA-Z0-9\s._:/=+@-]) plus what other sources may send: every C0 control,
# DEL, C1 NEL, the Unicode line/paragraph separators, bidi controls, and harmless non-ASCII text.
TAG_ALPHABET = string.ascii_letters + string.digits + " \t\n\x0b\x0c\r._:/=+@-"
HOSTILE = (
    "".join(map(chr, range(0x20)))
    + "\x7f\x85\u2028\u2029\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
HARMLESS = "éßΩ語\u00a0"
values = st.text(alphabet=st.sampled_from(sorted(set(TAG_ALPHABET + HOSTILE + HARMLESS))), max_size=40)
# For the shell: quotes and metacharacters too, but no NUL (no command line can carry one).
SHELL_ALPHABET = sorted(set(TAG_ALPHABET + HOSTILE + HARMLESS + "'\"\\$`!;&|()<>*?~#") - {"\x00"})

FAKE_FIX = (
    "alice\n    Fix:\n      aws bedrock untag-resource --region us-east-1 --resource-arn "
    f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/chatbot000000 --tag-keys Project"
)


def lines_of(text: str) -> list[str]:
    """The lines of a text body, checking nothing but ``\\n`` breaks, hides or reorders anything."""
    assert not [char for char in text if char != "\n" and needs_escape(char)]
    assert text.splitlines() == text.split("\n")
    return text.split("\n")


def bash_words(command: str) -> list[str]:
    """The arguments bash passes to ``command`` (run as printf, not as the command itself)."""
    assert BASH is not None
    program, _, arguments = command.partition(" ")
    script = f"printf '%s\\0' {shlex.quote(program)} {arguments}"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    done = subprocess.run([BASH, "--norc", "--noprofile", "-c", script], capture_output=True, check=True, env=env)
    return done.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1]


# --------------------------------------------------------------------------- the helper


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\nb", "a\\nb"),
        ("a\r\n\tb", "a\\r\\n\\tb"),
        ("\x00\x1b\x1f\x7f", "\\x00\\x1b\\x1f\\x7f"),
        ("\x85\u2028\u2029", "\\x85\\u2028\\u2029"),
        ("abc\u202edef", "abc\\u202edef"),
        ("\u2066x\u2069\u200f", "\\u2066x\\u2069\\u200f"),
        ("Zoë Straße 東京 a\u00a0b c", "Zoë Straße 東京 a\u00a0b c"),
        ("plain-value_1.0:/=+@", "plain-value_1.0:/=+@"),
        ("", ""),
    ],
)
def test_visible_text_escapes_what_breaks_or_reorders_lines_and_nothing_else(raw: str, shown: str) -> None:
    assert visible_text(raw) == shown


@given(values)
def test_visible_text_is_one_line_of_plain_characters_and_idempotent(value: str) -> None:
    text = visible_text(value)
    assert not any(needs_escape(char) for char in text)
    assert visible_text(text) == text
    assert len(text.splitlines()) <= 1


def test_shell_word_uses_posix_quoting_unless_a_value_needs_escapes() -> None:
    assert shell_word("plain") == "plain"
    assert shell_word("a b") == "'a b'"
    assert shell_word("a\nb") == "$'a\\nb'"
    assert shell_word("it's\\\u202e") == "$'it\\'s\\\\\\342\\200\\256'"
    with pytest.raises(ValueError, match="NUL"):
        shell_word("a\x00b")


@needs_bash
@settings(max_examples=60)
@given(st.lists(st.text(alphabet=st.sampled_from(SHELL_ALPHABET)), max_size=4))
def test_bash_reads_every_shell_word_back_as_the_exact_value(words: list[str]) -> None:
    quoted = [shell_word(word) for word in words]
    assert not any("\n" in word for word in quoted)
    assert bash_words(" ".join(["aws", *quoted])) == ["aws", *words]


# --------------------------------------------------------------------------- the four messages

POLICY = TagPolicy(required_keys=("Project", "Owner"), allowed_values={"Project": ("Chat",)})


def tag_alert_message(value: str) -> tuple[Notification, dict[str, str]]:
    # "owner" is a near miss of Owner: its value goes into the fix command as it is.
    tags = {"owner": value, "Project": value, f"Team{value}": "x"}
    finding = evaluate_profile(profile("chatbot", tags=tags), POLICY)
    assert finding is not None
    failures = (RegionFailure("eu-west-1", "AccessDeniedException", f"denied {value}"),)
    decision = decide_alert([finding], failures, AlertState(), NOW, timedelta(days=7))
    facts = tag_render.SweepFacts(NOW, ("us-east-1", "eu-west-1"), 1, POLICY, failures, (finding,))
    return tag_render.render(facts, decision, 100), tags


def idle_message(value: str) -> Notification:
    def outcome(name: str, action: IdleAction, status: OutcomeStatus, detail: str = "") -> IdleOutcome:
        tagged = profile(name, tags={"Owner": value, "Project": value}, created_at=NOW - timedelta(days=300))
        decision = IdleDecision(
            tagged,
            action,
            reason=f"no invocations in 30 days {value}",
            invocations=0,
            usage_since=NOW - timedelta(days=180),
            idle_since=NOW.date(),
            eligible_on=NOW.date() + timedelta(days=14),
        )
        return IdleOutcome(decision, status, detail=detail)

    facts = idle_render.IdleRunFacts(
        now=NOW,
        regions=("us-east-1",),
        settings=IdleSettings(idle_days=30, grace_days=14, dry_run=False),
        max_deletions=10,
        checked=2,
        outcomes=(
            outcome("chatbot", IdleAction.MARK, OutcomeStatus.DONE),
            outcome("gone", IdleAction.DELETE, OutcomeStatus.FAILED, detail=f"AccessDeniedException: {value}"),
        ),
        failures=(RegionFailure("eu-west-1", "ThrottlingException", value),),
    )
    return idle_render.render(facts, 100)


def cost_report(project: str) -> CostReport:
    costs = [
        cr.Cost(cr.day_of(cr.LAST, 0), "chatbot", cr.BEDROCK, Decimal("100.00")),
        cr.Cost(cr.day_of(cr.PREVIOUS, 0), "chatbot", cr.BEDROCK, Decimal("90.00")),
        cr.Cost(cr.day_of(cr.LAST, 1), project, cr.HAIKU, Decimal("12.34")),
        cr.Cost(cr.day_of(cr.PREVIOUS, 1), project, cr.HAIKU, Decimal("10.00")),
    ]
    return cr.report_from(costs, budgets=[cr.budget(budget_name_for(project), "100", "50", "120")])


def budget_message(project: str) -> tuple[Notification, str]:
    name = budget_name_for(project)
    facts = BudgetRunFacts(
        now=NOW,
        dry_run=False,
        regions=("us-east-1",),
        failures=(RegionFailure("eu-west-1", "AccessDeniedException", f"denied {project}"),),
        projects={project: 1},
        configured_projects=(),
        thresholds=(NotificationSpec("ACTUAL", Decimal(80)),),
        subscribers=(Subscriber("EMAIL", "ops@example.com"),),
        service_names=(cr.BEDROCK,),
        in_step=0,
        applied=(AppliedChange(name, project, "created", (f"project {project} found on 1 application profile(s)",)),),
        kept_orphans=(Orphan(name, project, False, f"project {project} has no application profile"),),
        conflicts=(Conflict(project, name, f"a budget named {name} exists and is not managed"),),
        errors=(BudgetError(name, project, "CreateBudget", "AccessDeniedException", f"denied {project}"),),
        cost_tags=CostTagCheck(("Project",), {"Project": "Active"}),
        account_id=ACCOUNT,
        cleanup=False,
    )
    attention = attention_items(facts)
    return budget_render.render(facts, attention, frozenset(item.key for item in attention), 100), name


def assert_one_ascii_line(subject: str) -> None:
    assert subject.isascii()
    assert subject.isprintable()


@given(values)
def test_a_hostile_value_adds_no_line_to_the_tag_alert_and_json_keeps_it(value: str) -> None:
    """Current tags, violations, fix commands and a failed region's message all carry the value."""
    message, tags = tag_alert_message(value)
    assert len(lines_of(message.text)) == len(lines_of(tag_alert_message("x")[0].text))
    document = json.loads(message.json_body())
    assert document["findings"][0]["tags"] == tags
    assert document["failedRegions"][0]["message"] == f"denied {value}"
    assert_one_ascii_line(message.subject)


@given(values)
def test_a_hostile_value_adds_no_line_to_the_idle_message_and_json_keeps_it(value: str) -> None:
    """Owner, Project, the reason, a failed deletion's detail and a failed region's message."""
    message = idle_message(value)
    assert len(lines_of(message.text)) == len(lines_of(idle_message("x").text))
    profiles = json.loads(message.json_body())["profiles"]
    assert {(item["owner"], item["project"]) for item in profiles} == {(value, value)}
    assert_one_ascii_line(message.subject)


@given(values)
def test_a_hostile_project_adds_no_line_to_the_cost_report_and_json_keeps_it(value: str) -> None:
    """Spend, mover, trend and budget tables (an empty value would be untagged spend: prefixed)."""
    project = "p" + value
    message = cost_render.render(cost_report(project), 100)
    assert len(lines_of(message.text)) == len(lines_of(cost_render.render(cost_report("px"), 100).text))
    document = json.loads(message.json_body())
    assert project in [line["name"] for line in document["projects"]]
    assert document["budgets"][0]["budgetName"] == budget_name_for(project)
    assert_one_ascii_line(message.subject)


@given(values)
def test_a_hostile_project_adds_no_line_to_the_budget_summary_and_json_keeps_it(value: str) -> None:
    """Created budgets with their reasons, orphans, conflicts, errors and a failed region."""
    project = "p" + value
    message, name = budget_message(project)
    assert len(lines_of(message.text)) == len(lines_of(budget_message("px")[0].text))
    document = json.loads(message.json_body())
    assert (document["created"][0]["name"], document["created"][0]["project"]) == (name, project)
    assert_one_ascii_line(message.subject)


# --------------------------------------------------------------------------- concrete cases


def test_an_owner_value_cannot_print_a_fake_fix_block_in_the_tag_alert() -> None:
    message, _ = tag_alert_message(FAKE_FIX)
    lines = lines_of(message.text)
    fake_command = FAKE_FIX.rsplit("\n", maxsplit=1)[-1]
    assert fake_command not in lines
    assert [line for line in lines if line.strip().startswith("Fix")] == [
        "    Fix (bash or zsh: $'...' spells out control characters in a tag):"
    ]
    assert "owner=alice\\n    Fix:\\n      aws bedrock untag-resource" in message.text
    # The real fix commands are one line each, and the shell gets the exact value back.
    tag_command, untag_command = (line.strip() for line in lines if line.startswith("      aws bedrock"))
    assert "value=alice\\n    Fix:\\n" in tag_command
    if BASH is not None:
        words = bash_words(tag_command)
        assert words[words.index("--tags") + 1 :] == ["key=Project,value=<Chat>", f"key=Owner,value={FAKE_FIX}"]
        assert bash_words(untag_command)[-2:] == ["--tag-keys", "owner"]
    # Programs get the real value and the plain POSIX commands.
    (finding,) = json.loads(message.json_body())["findings"]
    assert finding["tags"]["owner"] == FAKE_FIX
    assert shlex.split(finding["fix"][0])[-2:] == ["key=Project,value=<Chat>", f"key=Owner,value={FAKE_FIX}"]


def test_a_nul_in_a_tag_value_prints_the_fix_commented_out() -> None:
    message, _ = tag_alert_message("alice\x00bob")
    lines = lines_of(message.text)
    assert "    Fix (not runnable as printed: a tag holds a NUL character, which no shell can pass):" in lines
    fixes = [line for line in lines if "aws bedrock" in line]
    assert fixes
    assert all(line.startswith("      # aws bedrock ") for line in fixes)
    assert "value=alice\\x00bob" in fixes[0]


def test_an_owner_value_cannot_print_a_fake_fix_block_in_the_idle_warning() -> None:
    message = idle_message(FAKE_FIX)
    lines = lines_of(message.text)
    assert "    Fix:" not in lines
    assert FAKE_FIX.rsplit("\n", maxsplit=1)[-1] not in lines
    assert "    Owner: alice\\n    Fix:\\n      aws bedrock untag-resource" in message.text
    assert any(line.startswith("    To keep it: use it, or exempt it: aws bedrock tag-resource") for line in lines)
    assert {item["owner"] for item in json.loads(message.json_body())["profiles"]} == {FAKE_FIX}


def test_a_project_value_cannot_add_rows_to_the_cost_report() -> None:
    fake = "chat\nTotal  $999,999.00\n\u202eFLAGS"
    report = cost_report(fake)
    lines = lines_of(cost_render.render_text(report, 100))
    assert not [line for line in lines if line.startswith(("Total  $999", "FLAGS", "\u202e"))]
    assert any(line.startswith("chat\\nTotal  $999,999.00\\n") for line in lines)
    assert fake in [line["name"] for line in cost_render.render_document(report, 100)["projects"]]
    # The HTML keeps the value, escaped for HTML; the CSV keeps it exactly (quoted by the csv module).
    assert html.escape(fake) in cost_render.render_html(report)
    rows = list(csv.DictReader(io.StringIO(cost_render.render_csv(report))))
    assert fake in {row["tag_value"] for row in rows}


@pytest.mark.parametrize("value", ["\tcmd", "\r=1+1", "=1+1", "+1", "-1", "@SUM(A1)"])
def test_the_csv_defuses_formulas_behind_a_leading_tab_or_carriage_return(value: str) -> None:
    report = cr.report_from([cr.Cost(cr.day_of(cr.LAST), value, cr.BEDROCK, Decimal("1.00"))])
    rows = list(csv.DictReader(io.StringIO(cost_render.render_csv(report))))
    assert {row["tag_value"] for row in rows} == {"'" + value}


def test_the_budget_delete_command_quotes_the_budget_name() -> None:
    name = "bedrock-project-a b;echo pwned $(echo pwned)"
    orphan = Orphan(name, "a b", False, "no application profile")
    (item,) = attention_items(_with_orphan(orphan))
    command = item.text[item.text.index("aws budgets") :]
    assert command == f"aws budgets delete-budget --account-id {ACCOUNT} --budget-name {shlex.quote(name)}"
    if BASH is not None:
        assert bash_words(command)[-2:] == ["--budget-name", name]


def _with_orphan(orphan: Orphan) -> BudgetRunFacts:
    return BudgetRunFacts(
        now=NOW,
        dry_run=False,
        regions=("us-east-1",),
        failures=(),
        projects={},
        configured_projects=(),
        thresholds=(),
        subscribers=(),
        service_names=(),
        in_step=0,
        applied=(),
        kept_orphans=(orphan,),
        conflicts=(),
        errors=(),
        cost_tags=None,
        account_id=ACCOUNT,
        cleanup=False,
    )


def test_subjects_spell_out_control_characters() -> None:
    assert clean_subject("Bedrock\x00 idle\x1b[31m \x7f") == "Bedrock\\x00 idle\\x1b[31m \\x7f"


def test_commands_that_no_shell_could_run_are_replaced_by_a_hint_not_a_crash() -> None:
    orphan = Orphan("bedrock-project-a\x00b", "a\x00b", False, "no application profile")
    (item,) = attention_items(_with_orphan(orphan))
    assert item.text.endswith("or delete it in the AWS Budgets console")
    odd = profile("odd", profile_id="odd\x00\n", tags={"Owner": "alice"}, created_at=NOW - timedelta(days=300))
    decision = IdleDecision(odd, IdleAction.MARK, reason="idle", invocations=0, idle_since=NOW.date())
    facts = idle_render.IdleRunFacts(
        now=NOW,
        regions=("us-east-1",),
        settings=IdleSettings(idle_days=30, grace_days=14, dry_run=False),
        max_deletions=10,
        checked=1,
        outcomes=(IdleOutcome(decision),),
        failures=(),
    )
    lines = lines_of(idle_render.render(facts, 10).text)
    assert (
        "    To keep it: use it, or exempt it: tag it governance:keep=true in the console (its ARN cannot be"
        in "\n".join(lines)
    )
