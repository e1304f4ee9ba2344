"""Values from AWS as they may appear in a plain-text message: visibly escaped, one line each.

Tag keys and values may hold any whitespace (Bedrock's tag pattern allows ``\\s``), and names,
error messages and account names come from elsewhere: printed as they are, a newline in a tag
value adds lines of its own making to a mail (a fake "Fix:" block), and a bidi override reorders
what the reader sees. :func:`visible_text` spells such characters out (``\\n``, ``\\t``, ``\\u202e``)
and leaves everything else alone, non-ASCII letters and ordinary spaces included. Use it for text
bodies and subjects only: JSON documents carry the exact value.

:func:`shell_word` quotes a value for a shell command printed in such a body: the usual POSIX
quoting, or, when the value holds one of those characters, the ``$'...'`` form (bash, zsh, ksh,
POSIX.1-2024 sh), so the command stays on one line and still passes the exact value. No command
can pass a NUL character (arguments are C strings): for such a value it raises ``ValueError``.

The message pieces every render shares are written here once: :func:`plural`, the :data:`RULE`
under a heading (:func:`rule` for another width), :func:`run_header` (title and UTC run time) and
:func:`footer` (the "Sent by" block).

Standard library only, no AWS calls.
"""

from __future__ import annotations

import shlex
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from bedrock_governance.core.events import as_utc

# Unicode's Bidi_Control characters: embeddings, overrides, isolates and the directional marks.
BIDI_CONTROLS: Final = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Control characters (C0, DEL, C1: \n \r \t \x85 ...), line and paragraph separators, lone surrogates.
_ESCAPED_CATEGORIES: Final = frozenset({"Cc", "Zl", "Zp", "Cs"})
_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def needs_escape(char: str) -> bool:
    """Whether one character would break a line, hide itself or reorder the text around it."""
    return char in BIDI_CONTROLS or unicodedata.category(char) in _ESCAPED_CATEGORIES


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible_text(value: object) -> str:
    """``value`` as text for a person: the characters of :func:`needs_escape` as visible escapes.

    A backslash stays as it is (tag values cannot contain one); the exact value is in the JSON.
    """
    text = str(value)
    if not any(needs_escape(char) for char in text):
        return text
    return "".join(_escape(char) if needs_escape(char) else char for char in text)


def _ansi_c(char: str) -> str:
    if char in ("\\", "'"):
        return "\\" + char
    if char in _NAMED:
        return _NAMED[char]
    if needs_escape(char):
        # Three octal digits per UTF-8 byte: unambiguous whatever follows, in every shell with $'...'.
        return "".join(f"\\{byte:03o}" for byte in char.encode("utf-8", "surrogatepass"))
    return char


def shell_word(value: str) -> str:
    """``value`` as one shell word that fits on one line and stands for exactly ``value``.

    Raises ``ValueError`` when ``value`` holds a NUL character, which no command line can carry.
    """
    if "\x00" in value:
        raise ValueError(f"a shell command cannot pass the NUL character in {visible_text(value)}")
    if not any(needs_escape(char) for char in value):
        return shlex.quote(value)
    return "$'" + "".join(_ansi_c(char) for char in value) + "'"


def is_ansi_c(word: str) -> bool:
    """Whether :func:`shell_word` had to use the ``$'...'`` form (it needs bash, zsh or ksh)."""
    return word.startswith("$'")


# --------------------------------------------------------------------------- message pieces

RULE_WIDTH: Final = 72


def rule(width: int = RULE_WIDTH) -> str:
    """The line of ``=`` under a message's heading."""
    return "=" * width


RULE: Final = rule()


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    """``1 region``, ``0 regions``, ``1,000 regions``: the count with thousands separators and the
    word in the singular for exactly one (``plural_word``, default ``word + "s"``, otherwise)."""
    return f"{count:,} {word if count == 1 else plural_word or word + 's'}"


def run_header(title: str, now: datetime) -> list[str]:
    """A message's first two lines: its title and the run time in UTC (``Mon 02 Jun 2025 06:00 UTC``)."""
    return [title, f"{as_utc(now):%a %d %b %Y %H:%M} UTC"]


def sent_by(function_name: str) -> str:
    """``Sent by the Bedrock governance <function_name>``, without a full stop."""
    return f"Sent by the Bedrock governance {function_name}"


def footer(function_name: str, extra_lines: Sequence[str] = (), *, rest: str = ".") -> list[str]:
    """A text body's last lines: ``--``, then "Sent by the Bedrock governance <function_name>"
    followed on the same line by ``rest`` (a full stop, or the first words of what follows),
    then ``extra_lines``."""
    return ["--", sent_by(function_name) + rest, *extra_lines]


def omitted_line(count: int, where: str = " see the logs.") -> str:
    """The line saying how many items a message left out to stay within SNS's size limit."""
    return f"... and {count:,} more not shown to keep this message within SNS limits;{where}"
