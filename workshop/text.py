"""Provides the text rules every piece of user text must pass, and the cleaner for display.

Text typed by one person is shown on everybody else's terminal, so it must never carry
terminal control sequences or bidirectional overrides that could disguise it.
"""

from __future__ import annotations

import unicodedata

# Bidirectional controls can make text display differently from what it is.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_control(ch: str, allow_newline: bool) -> bool:
    if ch == "\n" and allow_newline:
        return False
    if ch in _BIDI:
        return True
    return unicodedata.category(ch) in ("Cc", "Cs")


def problem(text: str, *, limit: int, what: str, allow_newline: bool = False) -> str | None:
    """Say what is wrong with ``text`` for a human, or ``None`` when it may be accepted."""
    if not text.strip():
        return f"{what} is empty"
    if len(text) > limit:
        return f"{what} is {len(text)} characters; the limit is {limit}"
    for ch in text:
        if _is_control(ch, allow_newline):
            return f"{what} contains the control character U+{ord(ch):04X}"
    return None


def printable(text: str) -> str:
    """Drop C0/C1/bidi controls (keeping newlines) from text about to reach a terminal.

    The server already refuses such text; this is the second fence for anything that came
    from a log written by an older or a foreign server.
    """
    return "".join(ch for ch in text if not _is_control(ch, allow_newline=True))
