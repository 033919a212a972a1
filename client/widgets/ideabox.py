"""Provides ``IdeaBox``: the line an idea is typed in, posted by Enter before any later key is read."""

from __future__ import annotations

from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class IdeaBox(Input):
    """An ``Input`` whose Enter posts at once, in the order keys arrived.

    A plain ``Input`` answers Enter with a ``Submitted`` message that reaches the app later;
    a ctrl+q typed right after it (one packet over a slow link) could close the app first and
    lose the idea. Here Enter runs the app's ``post_idea`` action while the key is handled.
    """

    # ``Input`` sets its virtual width (the text's) on every key, and Textual's ``virtual_size``
    # lays the whole screen out when it changes: a layout per keypress, a third of the
    # participant's CPU while typing in a busy room. The box's place never depends on it; only
    # how far it scrolls sideways does, and that reads it directly. So here it only repaints.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    BINDINGS = [
        Binding("enter", "app.post_idea", "Post", show=False),
        Binding("up", "app.cycle_category(-1)", "Category", show=False),
        Binding("down", "app.cycle_category(1)", "Category", show=False),
    ]

    def watch_value(self, value: str) -> None:
        """A counter appears near the limit, counting what the server counts (characters)."""
        limit = self.max_length or 0
        self.border_subtitle = f"{len(value)}/{limit}" if limit and len(value) >= limit * 0.8 else ""
