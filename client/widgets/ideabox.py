"""Provides ``IdeaBox``: the line an idea is typed in, posted by Enter in the order keys arrived."""

from __future__ import annotations

from textual import events
from textual.geometry import Size
from textual.reactive import Reactive

from client.widgets.in_turn import Field

# Keys the box answers itself, with the app's action each runs: Enter, and every key that
# changes what Enter posts (the category; whether the idea carries your name).
KEYS = {
    "enter": "app.post_idea",
    "up": "app.cycle_category(-1)",
    "down": "app.cycle_category(1)",
    "f6": "app.toggle_anonymous",
}


class IdeaBox(Field):
    """A ``Field`` whose Enter posts exactly what was typed before it, and nothing typed after.

    A binding would not do: Textual hands each key to the box's own queue, and checks a
    (non-priority) binding only when the key has bubbled up to the app, while the box goes on
    with the keys behind it. Keys that arrive together (a fast typist, a slow link delivering
    several at once) then had Enter post the text with the next idea's first letters in it, or
    clear them. Here the box runs the action itself, in turn with the characters; the app's
    ``check_action`` still decides whether it applies (a key it refuses goes on as before).
    """

    # ``Input`` sets its virtual width (the text's) on every key, and Textual's ``virtual_size``
    # lays the whole screen out when it changes: a layout per keypress, a third of the
    # participant's CPU while typing in a busy room. The box's place never depends on it; only
    # how far it scrolls sideways does, and that reads it directly. So here it only repaints.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    async def in_turn(self, event: events.Key) -> bool:
        action = KEYS.get(event.key)
        # ``App.run_action`` says whether the action ran (``Widget.run_action`` returns None):
        # a key that ran is spent here, or it bubbled on to the app's own binding for it, and
        # F6 toggled twice, which is not at all.
        if action is not None and await self.app.run_action(action, self):
            return True
        return await super().in_turn(event)

    def watch_value(self, value: str) -> None:
        """A counter appears near the limit, counting what the server counts (characters)."""
        limit = self.max_length or 0
        self.border_subtitle = f"{len(value)}/{limit}" if limit and len(value) >= limit * 0.8 else ""
