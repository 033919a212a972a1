"""Provides ``Field`` and ``ActionButton``: widgets whose own Enter happens in turn with the keys around it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Self

from textual import events
from textual.widget import Widget
from textual.widgets import Button, Input
from textual.widgets.button import ButtonVariant

# A mixin, first among the bases: Textual calls each class's key handler in the order of the
# bases, and this one must come before the widget's own. At run time it is no widget: Textual
# takes a widget's CSS and component classes from the first base that is one.
_Widget = Widget if TYPE_CHECKING else object


class InTurn(_Widget):
    """A widget that runs its own Enter in turn, and hands on the keys behind it once that moved the focus.

    Textual hands each key to the widget focused when the app reads it. Keys that arrive
    together (a fast typist; the SSH and web doors, whose links deliver several keys in one read)
    are all handed to this widget before it has handled the first. Enter is a binding, run only
    once the key has bubbled back up to the app, so the keys behind it were typed in here first:
    "5<Enter>2" in a dialog asking for minutes set 52, and a key behind Enter on a dialog's
    button was lost with the dialog. (Tab was the same, and the apps now move the focus as soon
    as they read a Tab: ``LiveApp.BINDINGS``.)

    Here the widget runs Enter itself, in turn, and a key that reaches it after its Enter moved
    the focus away (a dialog closed by it, an idea posted) goes on to the widget focused now,
    in the order it came.
    """

    _handing_on = False  # Enter here moved the focus away: the keys behind it are not ours

    async def on_key(self, event: events.Key) -> None:
        if await self.passed_on(event) or await self.in_turn(event):
            event.stop()
            event.prevent_default()

    async def passed_on(self, event: events.Key) -> bool:
        """Hand on a key that came after this widget's own Enter moved the focus away.

        Only then: a key handed here while this widget was focused, before a Tab moved the
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
        """Run the keys that move on from this widget; ``True`` if ``event`` was one of them."""
        return False

    def moved_on(self) -> None:
        """Note whether the key just run moved the focus away: if so, the keys behind it go on."""
        # The screen's record, not ``has_focus``: that changes only when this widget handles
        # its Blur, which waits behind the very keys in question.
        self._handing_on = self.app.focused is not self


class Field(InTurn, Input):
    """A one-line input whose Enter happens in turn with the characters around it."""

    #: Run at once, in turn, on Enter (a dialog's OK), instead of posting ``Submitted``, which
    #: is handled only after the keys behind Enter: "5<Enter>2" set a 52-minute timer. Closing
    #: the dialog at once moves the focus, so the "2" goes on to the screen behind it.
    on_enter: Callable[[], object] | None = None

    async def in_turn(self, event: events.Key) -> bool:
        """(Tab and Shift+Tab never get here: the apps move the focus as soon as they read them.)"""
        if event.key != "enter":
            return False
        if self.on_enter is not None:
            self.on_enter()
            self.moved_on()
        else:
            await self.action_submit()
        return True


class ActionButton(InTurn, Button):
    """A button that runs ``on_press`` itself, in turn on Enter and at once on a click.

    A plain ``Button`` posts ``Pressed``, handled only after the keys behind its Enter: they
    went to the button (lost with a dialog it closed, or typed nowhere after an idea it posted).
    For the keys behind Enter to follow, ``on_press`` moves the focus at once (``Screen.set_focus``,
    a dialog's ``dismiss``); ``Widget.focus`` waits a turn, and they would stay here.
    """

    def __init__(
        self, label: str, *, on_press: Callable[[], object], variant: ButtonVariant = "default", id: str
    ) -> None:
        super().__init__(label, variant=variant, id=id)
        self.on_press = on_press

    def press(self) -> Self:
        """Run ``on_press`` (a click, Enter, or ``Pilot.click``); no ``Pressed`` is posted."""
        if not self.disabled and self.display:
            # The flash a pressed button shows, as ``Button`` does; while it lasts a click is not
            # taken again (``Button``'s own double-click guard).
            if self.active_effect_duration > 0:
                self.add_class("-active")
                self.set_timer(self.active_effect_duration, partial(self.remove_class, "-active"))
            self.on_press()
        return self

    async def in_turn(self, event: events.Key) -> bool:
        if event.key != "enter":
            return False
        self.press()
        self.moved_on()
        return True
