"""Provides ``IdeaList``: the team's ideas, one line each, with per-idea keys; only visible lines are drawn."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from functools import partial
from operator import attrgetter

from rich.text import Text
from textual.binding import Binding

from client.widgets.lines import LineList, Row, Rows
from client.widgets.plain import bar, name_of, plain
from workshop.ideas import live_order, numbers
from workshop.state import Idea, State


class IdeaList(LineList):
    """Every live idea, the current stage's first; the highlighted one keeps its place across refreshes."""

    BINDINGS = [
        Binding("plus,equals_sign", "app.vote(1)", "dot", key_display="+"),
        Binding("minus", "app.vote(-1)", "undot", key_display="-"),
        Binding("e", "app.edit_idea", "Edit"),
        Binding("w", "app.withdraw_idea", "Withdraw"),
    ]

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, empty="No ideas yet.")
        self._seen: tuple[object, ...] = ()

    def show(self, state: State, you: str) -> None:
        # The parts of the state a line depends on; the reducer replaces them only when they change.
        seen = (state.ideas, state.ballots.get(you), state.revealed, state.stage.key, state.participants)
        if len(seen) == len(self._seen) and all(a is b for a, b in zip(seen, self._seen, strict=True)):
            return
        self._seen = seen
        number = numbers(state)
        mine = state.ballots.get(you, {})
        totals = state.revealed
        most = max(totals.values(), default=0) if totals else 0

        def row(idea: Idea) -> Row:
            iid = idea.id
            shown = (mine.get(iid, 0), number[iid], totals.get(iid, 0) if totals is not None else None, most)
            who = "you" if idea.author == you else name_of(state, idea.author)
            if idea.anonymous and idea.author == you:
                who = "you, anonymously"
            return Row(iid, (idea, who, *shown), partial(label, idea, who, *shown))

        rows = Rows()
        for run in ordered(state):
            rows.add_run(run, row, id_of=attrgetter("id"))
        self.set_rows(rows)

    @property
    def option_count(self) -> int:
        return self.count


def ordered(state: State) -> list[list[Idea]]:
    """The current stage's ideas, then the rest, each in board order (never posting order): three runs.

    The board is in agenda order, so the current stage's ideas are one stretch of it, found by
    bisection: an event costs the same at 40 ideas or 5,000.
    """
    live = live_order(state)
    place = {s.key: n for n, s in enumerate(state.agenda)}

    def at(idea: Idea) -> tuple[int, str]:
        return place.get(idea.stage, len(place)), idea.stage

    here = (place.get(state.stage.key, len(place)), state.stage.key)
    start, end = bisect_left(live, here, key=at), bisect_right(live, here, key=at)
    return [live[start:end], live[:start], live[end:]]


def label(idea: Idea, who: str, mine: int, number: int, dots: int | None, most: int) -> Text:
    out = Text(end="")
    out.append(("●" * mine).ljust(3) + " ", style="bold magenta")
    out.append(f"{number:>3}. ", style="dim")
    if dots is not None:
        out.append(f"{bar(dots, most, 8)} {dots:>2}  ", style="bold cyan")
    out.append(f"{idea.category}: ", style="bold")
    out.append_text(plain(" ".join(idea.text.split())))
    out.append(f" — {who}", style="italic dim")
    return out


def detail(state: State, idea_id: str | None, you: str) -> Text:
    """The whole of the highlighted idea (a line of the list shows what fits)."""
    idea = state.ideas.get(idea_id or "")
    if idea is None:
        return Text("", end="")
    out = Text(f"{numbers(state)[idea.id]}. ", style="bold", end="")
    out.append_text(plain(idea.text))
    who = "you" if idea.author == you else name_of(state, idea.author)
    out.append(f" — {who}", style="italic dim")
    return out
