"""Provides ``plain``: the one way other people's text reaches the screen, never as markup."""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text

from workshop.agenda import GROUND_RULES
from workshop.state import State
from workshop.text import printable


def plain(text: str, style: str = "") -> Text:
    """Text shown exactly as typed: no markup, no actions, no terminal controls."""
    return Text(printable(text), style=style, end="")


def stage_prompt(state: State) -> Text:
    """The stage's question; the opening stage also carries the ground rules."""
    text = plain(state.stage.prompt)
    if state.stage.kind == "intro":
        text.append("\nGround rules: " + " ".join(GROUND_RULES), style="italic")
    return text


class Part(NamedTuple):
    """A piece of a status line: ``rank`` 0 matters most; ``short`` is a narrower way to say it."""

    rank: int
    text: Text
    short: Text | None = None
    optional: bool = False  # may be left out altogether when the line is too narrow


def one_line(parts: list[Part], width: int) -> Text:
    """``parts`` in their order, fitted to ``width``: the least important part gives way first.

    A status line that wrapped would push the whole screen down a line, and back up, as a count
    or a clock comes and goes. So, from the lowest rank up, an optional part is left out and
    another takes its short form, until the line fits; what still does not fit is cut (a ``TextLine``).
    """
    kept = list(parts)
    for part in sorted(parts, key=lambda p: -p.rank):
        if width <= 0 or sum(p.text.cell_len for p in kept) <= width:
            break
        at = kept.index(part)
        if part.optional:
            del kept[at]
        elif part.short is not None:
            kept[at] = part._replace(text=part.short)
    line = Text(end="")
    for part in kept:
        line.append_text(part.text)
    return line


def clip(text: str, width: int) -> str:
    """One line of at most ``width`` characters, for list labels."""
    line = " ".join(printable(text).split())
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"


def name_of(state: State, pid: str | None) -> str:
    if pid is None:
        return "anonymous"
    p = state.participants.get(pid)
    return p.name if p is not None else "someone"


def countdown(state: State, now: float) -> str:
    """``mm:ss`` left on the stage timer, ``time is up``, or an empty string.

    ``now`` is the server's clock as the connection knows it, so every screen counts down
    together whatever its own clock says.
    """
    if state.timer_ends_at is None:
        return ""
    left = int(state.timer_ends_at - now)
    if left <= 0:
        return "time is up"
    return f"{left // 60:02d}:{left % 60:02d} left"


STATUS_STYLE = {
    "online": "bold green",
    "connecting": "yellow",
    "reconnecting": "bold yellow",
    "resyncing": "bold yellow",  # the stream skipped an event: fetching a whole copy, with backoff
    "closed": "red",
    "refused": "bold red",
}


def status_text(status: str, unsaved: int = 0, short: bool = False) -> Text:
    """The connection's state, and plainly whether anything sent is still waiting to be saved.

    ``short`` says the second part in fewer words, for a status line that is narrow.
    """
    mark = "●" if status == "online" else "○"
    text = Text(f"{mark} {status}", style=STATUS_STYLE.get(status, ""), end="")
    if unsaved:
        what = "1 change" if unsaved == 1 else f"{unsaved} changes"
        said = "unsaved, kept here" if short else "not saved yet, retrying (kept here)"
        text.append(f"  ⚠ {what} {said}", style="bold yellow")
    return text


def status_part(rank: int, status: str, unsaved: int) -> Part:
    """The connection's part of a first line, with a shorter way to say the unsaved warning if there is one."""
    short = status_text(status, unsaved, short=True) if unsaved else None
    return Part(rank, status_text(status, unsaved), short=short)


def bar(n: int, most: int, width: int = 12) -> str:
    """A results bar proportional to ``n`` of ``most``."""
    if most <= 0 or n <= 0:
        return ""
    return "█" * max(1, round(width * n / most))
