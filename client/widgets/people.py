"""Provides ``PeopleList``: everyone in the room, with the facilitator's keys for seats and roles."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from client.widgets.plain import plain
from workshop.state import Participant, State


class PeopleList(OptionList):
    """One line per person: online or not, role, done; the highlighted one keeps its place."""

    BINDINGS = [
        Binding("c", "app.promote", "Co-facilitator"),
        Binding("h", "app.hand_over", "Hand over"),
        Binding("u", "app.demote", "Make participant"),
        Binding("k", "app.remove_person", "Remove"),
    ]

    def show(self, state: State, online: set[str], you: str) -> None:
        keep = self.selected_id
        people = [p for p in state.participants.values() if not p.removed]
        self.set_options([Option(line(state, p, p.id in online, you), id=p.id) for p in people])
        ids = [p.id for p in people]
        if keep in ids:
            self.highlighted = ids.index(keep)

    @property
    def selected_id(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None else None


def line(state: State, p: Participant, here: bool, you: str) -> Text:
    out = Text(end="")
    out.append("● " if here else "○ ", style="green" if here else "dim")
    out.append_text(plain(p.name, "bold" if p.role == "facilitator" else ""))
    bits = ["facilitator"] if p.role == "facilitator" else []
    if p.id == you:
        bits.append("you")
    if not here:
        bits.append("offline")
    if state.done.get(p.id) == state.stage.key:
        bits.append("done")
    if p.id in state.smart:
        bits.append("SMART sheet in")
    if bits:
        out.append(f"  ({', '.join(bits)})", style="dim")
    return out
