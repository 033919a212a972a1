"""Provides ``IdeaList``: the team's ideas as a selectable list, with per-idea keys."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from client.widgets.plain import bar, name_of, plain
from workshop.ideas import board_order, numbers
from workshop.state import Idea, State


class IdeaList(OptionList):
    """Every live idea; the highlighted one keeps its place across refreshes."""

    BINDINGS = [
        Binding("plus,equals_sign", "app.vote(1)", "dot", key_display="+"),
        Binding("minus", "app.vote(-1)", "undot", key_display="-"),
        Binding("e", "app.edit_idea", "Edit"),
        Binding("w", "app.withdraw_idea", "Withdraw"),
    ]

    def show(self, state: State, you: str) -> None:
        keep = self.highlighted_option.id if self.highlighted_option is not None else None
        number = numbers(state)
        options = [Option(label(state, i, you, number[i.id]), id=i.id) for i in ordered(state)]
        self.set_options(options)
        ids = [o.id for o in options]
        if keep in ids:
            self.highlighted = ids.index(keep)

    @property
    def selected_id(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None else None


def ordered(state: State) -> list[Idea]:
    """The current stage's ideas first, then the rest, each in board order (never posting order)."""
    here = state.stage.key
    return sorted(board_order(state, state.live_ideas()), key=lambda i: i.stage != here)


def label(state: State, idea: Idea, you: str, number: int) -> Text:
    out = Text(end="")
    mine = state.ballots.get(you, {}).get(idea.id, 0)
    out.append(("●" * mine).ljust(3) + " ", style="bold magenta")
    out.append(f"{number:>3}. ", style="dim")
    out.append(f"{idea.category}: ", style="bold")
    out.append_text(plain(idea.text))
    who = "you" if idea.author == you else name_of(state, idea.author)
    if idea.anonymous and idea.author == you:
        who = "you, anonymously"
    out.append(f" — {who}", style="italic dim")
    if state.revealed is not None:
        totals = state.revealed
        n = totals.get(idea.id, 0)
        out.append(f"\n    {bar(n, max(totals.values(), default=0), 20)} {n}", style="bold cyan")
    return out
