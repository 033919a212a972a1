"""Provides ``Field``: an ``Input`` that takes the keys moving on from it in the order they arrived."""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.widgets import Input


class Field(Input):
    """A one-line input whose Tab, Shift+Tab and Enter happen in turn with the characters around them.

    Textual hands each key to the widget focused when the app reads it. Keys that arrive
    together (a fast typist; the SSH and web doors, whose links deliver several keys in one read)
    are all handed to this field before it has handled the first. Tab and Enter are bindings,
    run only once the key has bubbled back up to the app, so the keys behind them stayed here:
    "Thirty<Tab>Count" filled one field with "ThirtyCount" and left the next one empty.

    Here the field runs Tab, Shift+Tab and Enter itself, in turn, and a key that reaches it
    after focus has moved on (it was handed over before the Tab ahead of it ran) goes on to the
    widget focused now, in the order it came.
    """

    #: Run at once, in turn, on Enter (a dialog's OK), instead of posting ``Submitted``, which
    #: is handled only after the keys behind Enter: "5<Enter>2" set a 52-minute timer. Closing
    #: the dialog at once moves the focus, so the "2" goes on to the screen behind it.
    on_enter: Callable[[], object] | None = None

    async def on_key(self, event: events.Key) -> None:
        if await self.passed_on(event) or await self.in_turn(event):
            event.stop()
            event.prevent_default()

    async def passed_on(self, event: events.Key) -> bool:
        """Hand on a key meant for the widget focused after an earlier key moved focus away."""
        # The screen's record, not ``has_focus``: that changes only when this field handles its
        # Blur, which waits behind the very keys in question.
        focused = self.app.focused
        if focused is self:
            return False
        again = events.Key(event.key, event.character)  # this one is spent here (stopped)
        # Forwarded, as the app itself hands a key on: a key the widget does not take then
        # bubbles up to the app's bindings, and is not handed back down as a new one.
        (focused or self.app.screen)._forward_event(again)
        return True

    async def in_turn(self, event: events.Key) -> bool:
        """Run the keys that move on from this field; ``True`` if ``event`` was one of them."""
        if event.key == "tab":
            self.screen.focus_next()
        elif event.key == "shift+tab":
            self.screen.focus_previous()
        elif event.key == "enter":
            if self.on_enter is not None:
                self.on_enter()
            else:
                await self.action_submit()
        else:
            return False
        return True
