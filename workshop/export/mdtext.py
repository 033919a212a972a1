"""Provides Markdown escaping that keeps people's words verbatim: only what would change them is escaped.

Escaping every punctuation mark made a transcript unreadable as plain text (``6\\.2``,
``new\\-hire``) and a search for ``2026-04-01`` missed it. Here a character is escaped only where
CommonMark or GitHub would otherwise read it as syntax: code spans, emphasis, links and images,
raw HTML and entities, strikethrough, math, and block markers at the start of a line. Text is
also cleaned of control characters, and runs of spaces are collapsed so nothing becomes code.
"""

from __future__ import annotations

import re

from workshop.text import printable

_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ENTITY = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{0,31};)")
_HTML = re.compile(r"<(?=[A-Za-z/!?])")
# Block markers that matter only where a line starts (each alternative's first group is escaped).
_LINE_START = re.compile(
    r"^(?:(#)#{0,5}(?=\s|$)|(>)|([-+])(?=\s|$)|([-=])[-=]*\s*$|\d{1,9}([.)])(?=\s|$)|(\[)[^\]]*\]:)"
)


def _line_start(line: str) -> str:
    match = _LINE_START.match(line)
    if match is None:
        return line
    group = next(n for n in range(1, 7) if match.group(n) is not None)
    at = match.start(group)
    return line[:at] + "\\" + line[at:]


def _escape_line(line: str, *, table: bool = False) -> str:
    out: list[str] = []
    link = "](" in line or "][" in line
    pairs = {ch: line.count(ch) >= 2 for ch in "~$"}
    for n, ch in enumerate(line):
        before = line[n - 1] if n else " "
        after = line[n + 1] if n + 1 < len(line) else ""
        if (
            ch in "`*"
            or (ch == "\\" and (after in _PUNCT or not after))
            or (ch == "_" and not (before.isalnum() and after.isalnum()))
            or (ch == "[" and link)
            or pairs.get(ch, False)
            or (ch == "|" and table)
        ):
            out.append("\\" + ch)
        else:
            out.append(ch)
    text = "".join(out)
    return _line_start(_HTML.sub(r"\\<", _ENTITY.sub(r"\\&", text)))


def _lines(text: str) -> list[str]:
    lines = [" ".join(line.split()) for line in printable(text).split("\n")]
    return [line for line in lines if line] or [""]


def inline(text: str) -> str:
    """``text`` on one line (line breaks become spaces), safe anywhere in a paragraph or list item."""
    return _escape_line(" ".join(_lines(text)))


def block(text: str, indent: str) -> str:
    """``text`` keeping its line breaks as hard breaks, each continuation indented to stay in its item.

    With more than one line a ``|`` is escaped too, since two lines could otherwise form a table.
    """
    lines = _lines(text)
    return ("\\\n" + indent).join(_escape_line(line, table=len(lines) > 1) for line in lines)


def cell(text: str) -> str:
    """``text`` for a table cell: one line, and ``|`` escaped so it cannot end the cell."""
    return _escape_line(" ".join(_lines(text)), table=True)
