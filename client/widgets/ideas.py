"""Provides ``IdeaList``: the team's ideas, one line each, with per-idea keys; only visible lines are drawn."""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual.binding import Binding

from client.widgets.lines import LineList, Row, RowCache
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
        self._rows = RowCache()
        self._order: tuple[tuple[object, ...], str, list[Idea]] = ((), "", [])

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
        rows = []
        self._rows.begin(state.participants)  # a line names its author
        for idea in self._ordered(state):
            iid = idea.id
            shown = (mine.get(iid, 0), number[iid], totals.get(iid, 0) if totals is not None else None, most)
            row = self._rows.get(iid, idea, shown)
            if row is None:
                who = "you" if idea.author == you else name_of(state, idea.author)
                if idea.anonymous and idea.author == you:
                    who = "you, anonymously"
                row = self._rows.put(iid, idea, shown, Row(iid, (idea, who, *shown), partial(label, idea, who, *shown)))
            rows.append(row)
        self.set_rows(rows)

    def _ordered(self, state: State) -> list[Idea]:
        """:func:`ordered`, sorted again only when what it depends on changed (by identity, as the reducer keeps it)."""
        parts, here = (state.ideas, state.revealed, state.agenda), state.stage.key
        before, before_here, _ = self._order
        same = len(before) == len(parts) and all(a is b for a, b in zip(before, parts, strict=False))
        if before_here != here or not same:
            self._order = (parts, here, ordered(state))
        return self._order[2]

    @property
    def option_count(self) -> int:
        return self.count


def ordered(state: State) -> list[Idea]:
    """The current stage's ideas first, then the rest, each in board order (never posting order)."""
    here = state.stage.key
    return sorted(live_order(state), key=lambda i: i.stage != here)


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
