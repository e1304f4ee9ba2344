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

Pure standard library, no AWS calls.
"""

from __future__ import annotations

import shlex
import unicodedata
from typing import Final

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
