"""Provides the text rules every piece of user text must pass, and the cleaner for display.

Text typed by one person is shown on everybody else's terminal, so it must never carry
terminal control sequences or bidirectional overrides that could disguise it.
"""

from __future__ import annotations

import re

# Bidirectional controls can make text display differently from what it is.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Unicode categories Cc (C0, DEL, C1) and Cs (surrogates), and the bidi controls: one C-level
# search instead of a Python call per character (text is checked on every post).
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{_BIDI}]")
_CONTROL_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff{_BIDI}]")


def problem(text: str, *, limit: int, what: str, allow_newline: bool = False) -> str | None:
    """Say what is wrong with ``text`` for a human, or ``None`` when it may be accepted."""
    if not text.strip():
        return f"{what} is empty"
    if len(text) > limit:
        return f"{what} is {len(text)} characters; the limit is {limit}"
    if found := (_CONTROL_BUT_NEWLINE if allow_newline else _CONTROL).search(text):
        return f"{what} contains the control character U+{ord(found.group()):04X}"
    return None


def printable(text: str) -> str:
    """Drop C0/C1/bidi controls (keeping newlines) from text about to reach a terminal.

    The server already refuses such text; this is the second fence for anything that came
    from a log written by an older or a foreign server.
    """
    return _CONTROL_BUT_NEWLINE.sub("", text)
