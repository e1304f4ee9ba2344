from __future__ import annotations

import json
from decimal import Decimal

from bedrock_governance.core.notify import SNS_MAX_MESSAGE_BYTES, Notification, clean_subject, fit, money, table


def test_subject_is_ascii_single_line_and_at_most_100_chars() -> None:
    subject = clean_subject("Bedrock spend — 16–22 Nov\n" + "x" * 200)
    assert len(subject) == 100
    assert subject.isascii()
    assert "\n" not in subject
    assert subject.endswith("...")
    assert clean_subject("  ") == "Bedrock governance"


def delivered(bodies: dict[str, str], protocol: str) -> str:
    """What SNS delivers to a ``protocol`` subscriber: the protocol's own body, else ``default``."""
    return bodies.get(protocol) or bodies["default"]


def test_people_get_text_and_programs_get_json() -> None:
    note = Notification(subject="s", text="hello", document={"a": 1})
    bodies = json.loads(note.sns_message())
    assert delivered(bodies, "email") == "hello"
    assert json.loads(delivered(bodies, "sqs")) == {"a": 1}
    assert json.loads(delivered(bodies, "lambda")) == {"a": 1}
    for protocol in ("email-json", "http", "https", "firehose"):
        assert json.loads(delivered(bodies, protocol)) == {"a": 1}


def test_each_body_is_in_the_message_once() -> None:
    # Every body counts against SNS's one 256 KB budget: copies crowd out the findings.
    text = "people " * 1_000
    document = {"items": ["program"] * 1_000}
    note = Notification(subject="s", text=text, document=document)
    bodies = json.loads(note.sns_message())
    assert sorted(bodies) == ["default", "email"]
    assert list(bodies.values()).count(text) == 1
    assert [json.loads(body) for body in bodies.values() if body != text] == [document]
    one_of_each = len(json.dumps({"default": note.json_body(), "email": text}).encode())
    assert note.size_bytes() == one_of_each + len(note.subject.encode())


def test_fit_keeps_the_most_items_that_fit_sns() -> None:
    def render(limit: int) -> Notification:
        items = [f"item {i} " + "x" * 1000 for i in range(limit)]
        return Notification(subject="s", text="\n".join(items), document={"items": items})

    fitted = fit(render, 5_000)
    assert fitted.fits()
    assert fitted.size_bytes() <= SNS_MAX_MESSAGE_BYTES
    shown = len(fitted.document["items"])
    assert 0 < shown < 5_000
    assert not render(shown + 1).fits()


def test_money_and_table_format_for_mail() -> None:
    assert money(Decimal("1234.565")) == "$1,234.57"
    assert money(Decimal("-0.5")) == "-$0.50"
    text = table(("Project", "Spend"), [("a", "$1.00"), ("longer", "$100.00")], right_align=frozenset({1}))
    lines = text.splitlines()
    assert lines[2].index("$1.00") + len("$1.00") == lines[3].index("$100.00") + len("$100.00")


def test_money_has_one_format_with_the_sign_before_the_symbol() -> None:
    assert money(Decimal("-5")) == "-$5.00"
    assert money(Decimal("1234.565")) == "$1,234.57"
    assert money(Decimal("-0.004")) == "$0.00"
    assert money(Decimal("-12"), "EUR") == "-EUR 12.00"
