"""Provides the floor: what the smallest visible changes cost Textual itself, for the apps to be compared with.

Three apps, run on a terminal by ``bench.tui`` exactly as the workshop apps are: ``static`` updates
one line of a ``Static`` per event; ``optionlist`` adds one option to an ``OptionList`` already
holding ``--items`` options; ``tabbed`` updates the same one line, on a screen laid out as the
workshop apps are (lines of text above tabs, a long list in the open tab, a footer) and made only
of Textual's own widgets, and updated without laying the screen out again (as the apps do for a
line whose height cannot change). Textual paints only the changed line, but on every update it
takes the lines of each widget whose clipping region overlaps it from that widget's cache, full
height: ``tabbed`` shows what that costs on a screen like the apps'. (With ``Static.update``'s
default, which lays the whole screen out again, the same change costs about five times as much.)

Each waits for the key ``g``, then makes ``--updates`` changes at ``--rate`` a second, then shows
``FLOOR DONE``; another ``g`` makes them again.

    python -m bench.floor_app static --updates 40 --rate 5
"""

from __future__ import annotations

import argparse

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Footer, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option


class Floor(App[None]):
    CSS = "#line { height: 1; } OptionList { height: 1fr; } TabbedContent { height: 1fr; } TabPane { height: 1fr; }"
    BINDINGS = [Binding("g", "go", priority=True)]

    def __init__(self, kind: str, updates: int, rate: float, items: int) -> None:
        super().__init__()
        self.kind, self.updates, self.rate, self.items = kind, updates, rate, items
        self.done = 0
        self.timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("waiting for g", id="line")
        if self.kind == "optionlist":
            yield OptionList(*(Option(f"Idea number {n} for more leads", id=str(n)) for n in range(self.items)))
        if self.kind == "tabbed":
            for n in range(4):
                yield Static(f"A line of the screen's head, number {n}", id=f"head-{n}")
            with TabbedContent():
                with TabPane("Board"):
                    yield OptionList(*(Option(f"Idea number {n} for more leads") for n in range(self.items)))
                with TabPane("People"):
                    yield Static("Nobody yet")
            yield Footer()

    def action_go(self) -> None:
        if self.timer is None:  # not while a round is on
            self.done = 0
            self.timer = self.set_interval(1 / self.rate, self.change)

    def change(self) -> None:
        if self.done >= self.updates:
            return
        self.done += 1
        if self.kind == "static":
            self.query_one("#line", Static).update(f"event {self.done} of {self.updates}")
        elif self.kind == "tabbed":  # a line of one row: nothing moves, so the screen is not laid out again
            self.query_one("#line", Static).update(f"event {self.done} of {self.updates}", layout=False)
        else:
            self.query_one(OptionList).add_option(Option(f"Idea number {self.items + self.done}"))
        if self.done == self.updates and self.timer is not None:
            self.timer.stop()
            self.timer = None
            self.query_one("#line", Static).update("FLOOR DONE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("static", "optionlist", "tabbed"))
    parser.add_argument("--updates", type=int, default=40)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    Floor(args.kind, args.updates, args.rate, args.items).run()


if __name__ == "__main__":
    main()
