"""Notifications: a plain-text body for people, a JSON document for programs, within SNS limits.

SNS takes at most 256 KB per message, and with ``MessageStructure="json"`` that budget holds
every per-protocol body at once, so each body is in the message once. Renderers take an item
limit; :func:`fit` finds the largest limit whose message fits.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any, Final

from bedrock_governance.core.text import visible_text

SNS_MAX_MESSAGE_BYTES: Final = 262_144
SNS_MAX_SUBJECT_CHARS: Final = 100
# Room for the JSON envelope's own growth and SNS's accounting of attributes.
_SAFETY_BYTES: Final = 2_048
# Protocols that get the JSON document, as SNS's ``default`` body; e-mail gets the text.
JSON_PROTOCOLS: Final = ("sqs", "lambda", "https", "http", "email-json", "firehose")


def clean_subject(subject: str) -> str:
    """SNS subjects: ASCII, no line breaks or control characters, at most 100 characters."""
    ascii_text = unicodedata.normalize("NFKD", subject).encode("ascii", "ignore").decode()
    # Whitespace runs become one space; the control characters left (\x00, \x1b, \x7f) are spelled out.
    single_line = visible_text(re.sub(r"\s+", " ", ascii_text).strip())
    if len(single_line) <= SNS_MAX_SUBJECT_CHARS:
        return single_line or "Bedrock governance"
    return single_line[: SNS_MAX_SUBJECT_CHARS - 3].rstrip() + "..."


@dataclass(frozen=True)
class Notification:
    subject: str
    text: str
    document: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "subject", clean_subject(self.subject))

    def json_body(self) -> str:
        return json.dumps(self.document, default=str, sort_keys=True)

    def sns_message(self) -> str:
        """The ``Message`` for ``MessageStructure="json"``: text for people, JSON for programs.

        Each body is sent once: every body counts against the one 256 KB budget. SNS gives a
        protocol without a key of its own the ``default`` body, so ``default`` carries the JSON
        document (for every protocol in :data:`JSON_PROTOCOLS`) and ``email`` the text.
        """
        return json.dumps({"default": self.json_body(), "email": self.text})

    def size_bytes(self) -> int:
        return len(self.sns_message().encode()) + len(self.subject.encode())

    def fits(self) -> bool:
        return self.size_bytes() <= SNS_MAX_MESSAGE_BYTES - _SAFETY_BYTES


def fit(render: Callable[[int], Notification], item_count: int) -> Notification:
    """The notification rendered with the most items (up to ``item_count``) that fits SNS."""
    full = render(item_count)
    if full.fits():
        return full
    low, high = 0, item_count  # render(low) must fit; render(high) does not
    best = render(0)
    if not best.fits():
        raise ValueError("the notification does not fit SNS even without items")
    while high - low > 1:
        middle = (low + high) // 2
        candidate = render(middle)
        if candidate.fits():
            low, best = middle, candidate
        else:
            high = middle
    return best


def money(amount: Decimal, currency: str = "USD") -> str:
    """``$1,234.56``; negative as ``-$1,234.56``."""
    rounded = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    symbol = "$" if currency == "USD" else f"{currency} "
    sign = "-" if rounded < 0 else ""
    return f"{sign}{symbol}{abs(rounded):,.2f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right_align: frozenset[int] = frozenset()) -> str:
    """A plain-text table with aligned columns, for mail clients with a fixed-width font."""
    widths = [len(header) for header in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(cells: Sequence[str]) -> str:
        parts = [cell.rjust(widths[i]) if i in right_align else cell.ljust(widths[i]) for i, cell in enumerate(cells)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])
