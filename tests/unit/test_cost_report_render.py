"""The cost report as mail, JSON, HTML and CSV: readable, exact, self-contained and within SNS limits."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from html.parser import HTMLParser

from bedrock_governance.core.models import budget_name_for
from bedrock_governance.core.notify import SNS_MAX_MESSAGE_BYTES, fit
from bedrock_governance.cost.policy import ReportStatus, SourceProblem
from bedrock_governance.cost.render import (
    ReportFiles,
    item_count,
    percent_text,
    render,
    render_access_alert,
    render_csv,
    render_html,
    render_text,
    sparkline,
    subject,
)
from bedrock_governance.cost.render.text import compact_money, signed_money
from tests.unit.cost_report_factories import (
    BEDROCK,
    HAIKU,
    LAST,
    PREVIOUS,
    WEEKS,
    Cost,
    budget,
    day_of,
    report_from,
)

D = Decimal


def small_estate() -> list[Cost]:
    return [
        Cost(day_of(LAST, 0), "chatbot", BEDROCK, D("1000.00")),
        Cost(day_of(LAST, 1), "chatbot", HAIKU, D("134.56")),
        Cost(day_of(LAST, 2), None, BEDROCK, D("100.00")),
        Cost(day_of(PREVIOUS, 0), "chatbot", BEDROCK, D("1002.28")),
        Cost(day_of(PREVIOUS, 0), None, BEDROCK, D("100.00")),
    ]


def many_projects(count: int) -> list[Cost]:
    costs = []
    for index in range(count):
        name = f"project-{index:05d}"
        costs.append(Cost(day_of(LAST, index % 7), name, BEDROCK, D(index + 1) + D("0.25")))
        costs.append(Cost(day_of(PREVIOUS, index % 7), name, HAIKU, D(index + 2)))
        costs.append(Cost(day_of(WEEKS[0], 0), name, HAIKU, D("3.10")))
    return costs


def test_subject_reads_like_the_issue_example() -> None:
    report = report_from(small_estate())
    # 1,234.56 this week against 1,102.28: +12.0%.
    assert subject(report) == "Bedrock spend 16-22 Nov 2026: $1,234.56 (+12% w/w)"
    estimated = report_from([*small_estate(), Cost(day_of(LAST, 6), "chatbot", BEDROCK, D("0"), estimated=True)])
    assert subject(estimated) == "Bedrock spend 16-22 Nov 2026: $1,234.56 (+12% w/w, estimated)"


def test_subject_stays_within_sns_limits_whatever_happens() -> None:
    unavailable = report_from(
        [],
        available=False,
        problems=[SourceProblem("ce", "GetCostAndUsage", "DataUnavailableException", "no data", False)],
    )
    huge = report_from([Cost(day_of(LAST), "x", BEDROCK, D("123456789012.34"))])
    for report in (unavailable, huge, report_from([])):
        note = render(report, 10)
        assert note.subject == subject(report)
        assert len(note.subject) <= 100
        assert note.subject.isascii()
    assert "no data yet" in subject(unavailable)
    assert subject(huge) == "Bedrock spend 16-22 Nov 2026: $123,456,789,012.34 (none the week before)"


def test_the_mail_has_aligned_columns_and_formatted_currency() -> None:
    report = report_from(small_estate(), services=[BEDROCK, HAIKU])
    text = render_text(report, 10)
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Project ") and "Change" in line)
    table = lines[header : header + 6]  # header, rule, chatbot, untagged, rule, total
    assert table[2].startswith("chatbot")
    assert table[3].startswith("(no Project tag)")
    assert table[5].startswith("Total")
    # Right-aligned money: every row's "this week" amount ends in the same column as its heading.
    end = table[0].index("16-22 Nov") + len("16-22 Nov")
    for row, amount in ((2, "$1,134.56"), (3, "$100.00"), (5, "$1,234.56")):
        assert table[row][end - len(amount) : end] == amount
    assert "+$132.28" in table[5]
    assert "+12.0%" in table[5]
    assert "Claude 3 Haiku (Amazon Bedrock Edition)" in text
    assert "$1,234.56" in text


def test_only_the_top_projects_are_listed_and_the_rest_counted() -> None:
    report = report_from(many_projects(40))
    text = render_text(report, 5, ReportFiles(csv_uri="s3://bucket/r.csv"))
    table = text[text.index("SPEND BY PROJECT") : text.index("... and")]
    listed = re.findall(r"^(project-\d{5}) ", table, re.MULTILINE)
    assert listed == [f"project-{i:05d}" for i in range(39, 34, -1)]  # biggest spend first
    rest = sum((D(i + 1) + D("0.25") for i in range(35)), D(0))
    assert f"... and 35 more Project values (${rest:,.2f} in 16-22 Nov 2026)" in text
    assert "s3://bucket/r.csv" in text
    document = render(report, 5).document
    assert len(document["projects"]) == 5
    assert document["omittedProjects"] == 35
    assert document["omittedProjectsThisWeek"] == str(rest)
    assert document["truncated"] is True


def test_any_number_of_projects_fits_one_sns_message() -> None:
    report = report_from(many_projects(3000))
    note = fit(lambda limit: render(report, limit), item_count(report))
    assert note.fits()
    assert note.size_bytes() <= SNS_MAX_MESSAGE_BYTES
    shown = len(note.document["projects"])
    assert 0 < shown < 3000
    assert shown + note.document["omittedProjects"] == 3000
    assert f"... and {3000 - shown:,} more Project values" in note.text


def test_thousands_of_appearing_and_quiet_projects_still_fit_one_message() -> None:
    costs = [Cost(day_of(LAST, i % 7), f"fresh-{i:05d}", BEDROCK, D("1.5")) for i in range(2500)]
    costs += [Cost(day_of(WEEKS[0], i % 7), f"dormant-{i:05d}", HAIKU, D("2")) for i in range(2500)]
    report = report_from(costs)
    assert len(report.flags) >= 2500
    note = fit(lambda limit: render(report, limit), item_count(report))
    assert note.fits()
    shown = len(note.document["projects"])
    appeared = [f for f in note.document["flags"] if f["kind"] == "appeared"]
    assert len(appeared) == shown
    assert note.document["omittedFlags"] == 2500 - shown
    assert len(note.document["quietProjects"]) + note.document["omittedQuietProjects"] == 2500
    assert f"... and {2500 - shown:,} more Project values that appeared or vanished." in note.text


def test_a_change_below_one_percent_keeps_a_decimal_in_the_subject() -> None:
    costs = [Cost(day_of(LAST), "a", BEDROCK, D("1003")), Cost(day_of(PREVIOUS), "a", BEDROCK, D("1000"))]
    assert subject(report_from(costs)) == "Bedrock spend 16-22 Nov 2026: $1,003.00 (+0.3% w/w)"


def test_programs_get_json_with_amounts_to_the_cent() -> None:
    budgets = [budget(budget_name_for("chatbot"), "1000", "1210.555", "1500")]
    report = report_from(small_estate(), budgets=budgets)
    bodies = json.loads(render(report, 10).sns_message())
    document = json.loads(bodies.get("sqs") or bodies["default"])  # what SQS subscribers get
    assert bodies["email"].startswith("Bedrock spend by Project - week 16-22 Nov 2026")
    assert document["type"] == "cost-report"
    assert document["week"] == {"start": "2026-11-16", "lastDay": "2026-11-22", "label": "16-22 Nov 2026"}
    assert document["total"]["thisWeek"] == "1234.56"
    assert document["total"]["changePercent"] == "12.0"
    assert document["untagged"]["thisWeek"] == "100.00"
    (chatbot,) = document["projects"]
    assert chatbot["name"] == "chatbot"
    assert chatbot["byService"] == {BEDROCK: "1000.00", HAIKU: "134.56"}
    assert chatbot["budget"]["actualSpend"] == "1210.56"  # rounded half up, once, for show
    assert chatbot["budget"]["state"] == "over"
    assert len(chatbot["weekly"]) == 8


def test_budgets_show_spend_against_limit_over_budget_first() -> None:
    costs = [Cost(day_of(LAST), p, BEDROCK, D("1")) for p in ("alpha", "beta")]
    budgets = [
        budget(budget_name_for("alpha"), "100", "20", "40"),
        budget(budget_name_for("beta"), "50", "75", "90"),
    ]
    text = render_text(report_from(costs, budgets=budgets), 10)
    section = text[text.index("BUDGETS (month to date") :]
    rows = section.splitlines()
    assert rows[3].startswith("beta")
    assert "OVER BUDGET" in rows[3]
    assert "150%" in rows[3]
    assert rows[4].startswith("alpha")
    assert rows[4].rstrip().endswith("ok")
    assert "20%" in rows[4]


def test_flags_tell_what_to_do() -> None:
    report = report_from(small_estate(), required=("Project", "CostCenter"), tag_statuses={"Project": "Active"})
    text = render_text(report, 10)
    assert "FLAGS" in text
    assert "aws ce update-cost-allocation-tags-status --region us-east-1 --cost-allocation-tags-status" in text
    assert "carries no Project tag" in text


def test_a_report_without_figures_says_why() -> None:
    problem = SourceProblem("ce", "GetCostAndUsage", "DataUnavailableException", "Data is not available.", False)
    report = report_from([], available=False, problems=[problem])
    assert report.status is ReportStatus.DATA_UNAVAILABLE
    text = render_text(report, 10)
    assert "No figures this week: Cost Explorer has no data for the period yet." in text
    assert "DataUnavailableException" in text
    assert "SPEND BY PROJECT" not in text


def test_the_access_alert_names_the_missing_permission() -> None:
    problems = [
        SourceProblem("ce", "GetCostAndUsage", "AccessDeniedException", "User is not authorized", True),
        SourceProblem("budgets", "DescribeBudgets", "AccessDeniedException", "not authorized", True),
    ]
    report = report_from([], available=False, problems=problems)
    alert = render_access_alert(report, problems)
    assert alert.subject == "Bedrock cost report: access denied to AWS Budgets and Cost Explorer"
    assert "ce:GetCostAndUsage" in alert.text
    assert "budgets:ViewBudget" in alert.text
    assert "No figures in this week's report." in alert.text
    assert alert.document["requiredActions"] == ["budgets:ViewBudget", "ce:GetCostAndUsage"]


def test_percent_and_sparkline_formatting() -> None:
    assert percent_text(D("12.345")) == "+12.3%"
    assert percent_text(D("-0.04")) == "0.0%"
    assert percent_text(D("-7.25"), places="1") == "-7%"
    assert percent_text(None, current=D(1)) == "new"
    assert percent_text(None) == "-"
    assert sparkline([D(0), D(1), D(8)]) == "·▂█"
    assert sparkline([D(0), D(0)]) == "··"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs


def test_the_html_report_is_self_contained_with_inline_svg_charts() -> None:
    odd = "Model & <Co> (Amazon Bedrock Edition)"
    costs = [*many_projects(12), Cost(day_of(LAST), None, odd, D("2"))]
    page = render_html(report_from(costs))
    parser = _Collector()
    parser.feed(page)
    assert parser.tags.count("svg") >= 3  # weekly chart, project bars, service bars (+ sparklines)
    assert "script" not in parser.tags
    assert "img" not in parser.tags
    assert "link" not in parser.tags
    assert not [value for name, value in parser.attributes if name in {"src", "href"}]
    assert "http://" not in page
    assert "https://" not in page
    assert "Model &amp; &lt;Co&gt; (Amazon Bedrock Edition)" in page
    assert odd not in page
    assert "project-00011" in page


def test_the_csv_has_every_amount_exactly_and_defuses_formulas() -> None:
    costs = [*small_estate(), Cost(day_of(LAST), "=HYPERLINK(1)", BEDROCK, D("0.000123"))]
    report = report_from(costs)
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    week_total = sum((D(r["amount"]) for r in rows if r["week_start"] == LAST.start.isoformat()), D(0))
    assert week_total == report.total.this_week == D("1234.560123")
    untagged = [r for r in rows if r["untagged"] == "true"]
    assert {r["tag_value"] for r in untagged} == {""}
    assert "'=HYPERLINK(1)" in {r["tag_value"] for r in rows}
    assert {r["tag_key"] for r in rows} == {"Project"}


def test_trend_cells_and_changes_write_money_as_every_message_does() -> None:
    assert compact_money(Decimal("-5")) == "-$5.00"
    assert compact_money(Decimal("-150.4")) == "-$150"
    assert compact_money(Decimal("1234.5")) == "$1,235"
    assert signed_money(Decimal("-4")) == "-$4.00"
