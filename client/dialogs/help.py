"""Provides ``HelpScreen``: the keys of the current app, on F1 or ?."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 70; max-width: 100%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,f1,question_mark,q", "dismiss(None)", "Close")]

    def __init__(self, title: str, keys: list[tuple[str, str]], notes: str = "") -> None:
        super().__init__()
        self._title, self._keys, self._notes = title, keys, notes

    def compose(self) -> ComposeResult:
        text = Text(f"{self._title}\n\n", style="bold")
        for key, what in self._keys:
            text.append(f"{key:>14}  ", style="bold")
            text.append(f"{what}\n")
        if self._notes:
            text.append(f"\n{self._notes}\n", style="italic")
        text.append("\nEscape closes this help.", style="dim")
        with VerticalScroll():
            yield Static(text)
