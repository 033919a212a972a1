"""Provides the floor: what the smallest visible changes cost Textual itself, for the apps to be compared with.

Two apps, run on a terminal by ``bench.tui`` exactly as the workshop apps are: ``static`` updates
one line of a ``Static`` per event; ``optionlist`` adds one option to an ``OptionList`` already
holding ``--items`` options. Each waits for the key ``g``, then makes ``--updates`` changes at
``--rate`` a second, then shows ``FLOOR DONE``.

    python -m bench.floor_app static --updates 40 --rate 5
"""

from __future__ import annotations

import argparse

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class Floor(App[None]):
    CSS = "#line { height: 1; } OptionList { height: 1fr; }"
    BINDINGS = [Binding("g", "go", priority=True)]

    def __init__(self, kind: str, updates: int, rate: float, items: int) -> None:
        super().__init__()
        self.kind, self.updates, self.rate, self.items = kind, updates, rate, items
        self.done = 0

    def compose(self) -> ComposeResult:
        yield Static("waiting for g", id="line")
        if self.kind == "optionlist":
            yield OptionList(*(Option(f"Idea number {n} for more leads", id=str(n)) for n in range(self.items)))

    def action_go(self) -> None:
        if not self.done:
            self.set_interval(1 / self.rate, self.change)

    def change(self) -> None:
        if self.done >= self.updates:
            return
        self.done += 1
        if self.kind == "static":
            self.query_one("#line", Static).update(f"event {self.done} of {self.updates}")
        else:
            self.query_one(OptionList).add_option(Option(f"Idea number {self.items + self.done}"))
        if self.done == self.updates:
            self.query_one("#line", Static).update("FLOOR DONE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("static", "optionlist"))
    parser.add_argument("--updates", type=int, default=40)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    Floor(args.kind, args.updates, args.rate, args.items).run()


if __name__ == "__main__":
    main()
