"""Provides ``Field``: an ``Input`` that takes the keys moving on from it in the order they arrived."""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.widgets import Input


class Field(Input):
    """A one-line input whose Enter happens in turn with the characters around it.

    Textual hands each key to the widget focused when the app reads it. Keys that arrive
    together (a fast typist; the SSH and web doors, whose links deliver several keys in one read)
    are all handed to this field before it has handled the first. Enter is a binding, run only
    once the key has bubbled back up to the app, so the keys behind it were typed in here first:
    "5<Enter>2" in a dialog asking for minutes set 52. (Tab was the same, and the apps now move
    the focus as soon as they read a Tab: ``LiveApp.BINDINGS``.)

    Here the field runs Enter itself, in turn, and a key that reaches it after its Enter moved
    the focus away (a dialog closed by it) goes on to the widget focused now, in the order it
    came.
    """

    #: Run at once, in turn, on Enter (a dialog's OK), instead of posting ``Submitted``, which
    #: is handled only after the keys behind Enter: "5<Enter>2" set a 52-minute timer. Closing
    #: the dialog at once moves the focus, so the "2" goes on to the screen behind it.
    on_enter: Callable[[], object] | None = None

    _handing_on = False  # Enter here moved the focus away: the keys behind it are not ours

    async def on_key(self, event: events.Key) -> None:
        if await self.passed_on(event) or await self.in_turn(event):
            event.stop()
            event.prevent_default()

    async def passed_on(self, event: events.Key) -> bool:
        """Hand on a key that came after this field's own Enter moved the focus away.

        Only then: a key handed here while this field was focused, before a Tab moved the
        focus on (the apps move it as they read the Tab), was typed here and stays here.
        """
        if not self._handing_on or (focused := self.app.focused) is self:
            return False
        again = events.Key(event.key, event.character)  # this one is spent here (stopped)
        # Forwarded, as the app itself hands a key on: a key the widget does not take then
        # bubbles up to the app's bindings, and is not handed back down as a new one.
        (focused or self.app.screen)._forward_event(again)
        return True

    async def in_turn(self, event: events.Key) -> bool:
        """Run the keys that move on from this field; ``True`` if ``event`` was one of them.

        (Tab and Shift+Tab never get here: the apps move the focus as soon as they read them.)
        """
        if event.key != "enter":
            return False
        if self.on_enter is not None:
            self.on_enter()
            # The screen's record, not ``has_focus``: that changes only when this field handles
            # its Blur, which waits behind the very keys in question.
            self._handing_on = self.app.focused is not self
        else:
            await self.action_submit()
        return True
