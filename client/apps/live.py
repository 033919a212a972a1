"""Provides ``LiveApp``: the base of both apps, owning the connection and its refresh message."""

from __future__ import annotations

import gc
import operator
import time
from collections.abc import Callable
from dataclasses import replace

from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from client.connection import CommandError, Connection, JoinRefused
from client.dialogs.forms import NameDialog
from client.widgets.text_line import TextLine
from workshop import commands as c
from workshop.state import State

DIGITS = frozenset("0123456789")  # one cell each, and never a place to break a line
FRAME = 1 / 10  # the most often the screens are redrawn for incoming events, in seconds

# Refusals are titled by what did not happen, as the person would say it.
REFUSED: dict[type[c.Command], str] = {
    c.PostIdea: "Idea not posted",
    c.EditIdea: "Idea not changed",
    c.WithdrawIdea: "Idea not withdrawn",
    c.Vote: "Dot not placed",
    c.SubmitSmart: "SMART sheet not saved",
    c.RespondTimeline: "Answer not saved",
    c.SetStage: "Stage not changed",
    c.RevealVotes: "Votes not revealed",
    c.SaveMilestone: "Milestone not saved",
    c.RemoveMilestone: "Milestone not removed",
    c.FinaliseTimeline: "Timeline not finalised",
    c.MergeIdeas: "Ideas not merged",
    c.AdoptGoal: "Goal not adopted",
}


def same_shape(before: object, after: Text | str) -> bool:
    """Whether ``after`` takes exactly the cells ``before`` took, breaking lines at the same places."""
    a = before.plain if isinstance(before, Text) else before
    b = after.plain if isinstance(after, Text) else after
    if not isinstance(a, str) or len(a) != len(b):
        return False
    return all(x == y or (x in DIGITS and y in DIGITS) for x, y in zip(a, b, strict=True))


class StateChanged(Message):
    """The replica, the connection status or the presence list changed."""


class LiveApp(App[int]):
    """An app around a :class:`Connection` (started on mount unless it already is) closed on unmount.

    ``Connection.on_change`` becomes one coalesced :class:`StateChanged` message, so a burst
    of events costs one refresh; subclasses draw in :meth:`show` and never rebuild inputs.
    ``remember`` is called after every change so the launcher can keep this user's seat
    (session, name, whether it finished) up to date.
    """

    BINDINGS = [
        # Quit is not a priority binding: a priority key overtakes the keys typed just before it
        # (they are still on their way through the focused widget), and "Enter, ctrl+q" arriving
        # in one packet over a slow link would then drop the idea that Enter was posting.
        Binding("ctrl+q", "quit", "Quit", show=False, priority=False),
        # Tab is, for that very reason: it moves the focus when the app reads it, before the app
        # hands on the keys behind it, while those before it are already with the widget being
        # left. As a screen binding it ran only once it had come back up from that widget, and
        # keys arriving together (the SSH and web doors) went to it: typed into the field being
        # left, or lost on a list or a button.
        Binding("tab", "focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "focus_previous", "Previous field", show=False, priority=True),
    ]

    def __init__(
        self,
        conn: Connection,
        remember: Callable[[Connection], None] | None = None,
        check_name: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__()
        self.conn = conn
        # Set when there is no terminal prompt before the app (a browser door): the app asks the
        # name itself, checked by ``check_name`` (which raises ``ValueError`` with the reason).
        self._check_name = check_name
        self._remember = remember
        self._refresh_queued = False
        self._last_drawn = 0.0
        self._shown: dict[str, object] = {}  # what each view shows now, to skip a redraw that changes nothing
        self._inputs: dict[str, tuple[object, ...]] = {}
        self._room_counts = (0, 0, 0)  # see ``room_counts``
        self._unsubscribe: Callable[[], None] | None = None
        self._asked_to_quit = False
        self._heap_settled = False

    def on_mount(self) -> None:
        self._unsubscribe = self.conn.on_change(self._changed)
        if self._check_name is not None and not self.conn.creds.name:
            self.push_screen(NameDialog(self._check_name), self._named)
        elif not self.conn.started:
            self.run_worker(self._connect(), name="connect", exit_on_error=False)
        self.set_interval(1.0, self._tick)
        self.show_status()
        if self.conn.state is not None:
            self._changed()

    def _named(self, name: str | None) -> None:
        if name is None:
            self.exit()
            return
        self.conn.creds = replace(self.conn.creds, name=name)
        self.run_worker(self._connect(), name="connect", exit_on_error=False)

    async def _connect(self) -> None:
        try:
            await self.conn.start()
        except JoinRefused as exc:
            self.notify(f"The server refused to let you in: {exc}", severity="error", markup=False, timeout=30)
        except (TimeoutError, OSError) as exc:
            self.notify(f"Cannot reach {self.conn.creds.url}: {exc}", severity="error", markup=False, timeout=30)

    async def action_quit(self) -> None:
        """Quit, but first give what was just sent a moment to be saved, and say so."""
        if self.conn.unconfirmed and self.conn.status == "online":
            self.notify("Saving what you sent…", markup=False, timeout=5)
            if not await self.conn.settle(timeout=5):
                self.notify(
                    "The server has not confirmed everything you sent yet. Wait for it to come back, "
                    "or press ctrl+q again to quit anyway (what is not confirmed is then lost).",
                    severity="warning",
                    markup=False,
                    timeout=10,
                )
                if not self._asked_to_quit:
                    self._asked_to_quit = True
                    return
        self.exit()

    async def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()  # nothing more is drawn: the screens are going away
        await self.conn.close()

    def _changed(self) -> None:
        if not self._refresh_queued:
            self._refresh_queued = True
            self.post_message(StateChanged())

    def on_state_changed(self, _msg: StateChanged) -> None:
        if not self.is_running:  # a change that arrived while the app shuts down: its screens are gone
            self._refresh_queued = False
            return
        # Draw at most at the display's pace: events arriving within one frame share its redraw.
        wait = self._last_drawn + FRAME - time.monotonic()
        if wait > 0:
            self.set_timer(wait, self._draw_now)
            return
        self._draw_now()

    def _draw_now(self) -> None:
        self._refresh_queued = False
        self._last_drawn = time.monotonic()
        if not self.is_running:
            return
        self.show_status()
        if self.conn.state is not None:
            self.show(self.conn.state)
            if not self._heap_settled:
                self._heap_settled = True
                self.call_after_refresh(self._settle_heap)
        if self._remember is not None:
            self._remember(self.conn)

    @staticmethod
    def _settle_heap() -> None:
        """Leave what the app has built by its first full screen (Textual, the room) out of full GC passes.

        A full collection walks every tracked object: with a board of 1,000 ideas drawn, that
        was 35-47 ms, long enough to be felt between two keys. What exists once the room is on
        screen lives as long as the app, so it is collected once and frozen; later passes walk
        only what came after.
        """
        gc.collect()
        gc.freeze()

    def on_resize(self) -> None:
        # Textual calls this before its own handler, which only then takes the new size.
        self.call_next(self.fit_to_width)

    def fit_to_width(self) -> None:
        """Fit again what is laid out for the terminal's width (the status lines), once it is the new one."""
        self.show_status()

    def _tick(self) -> None:
        if self.conn.state is not None and self.conn.state.timer_ends_at is not None:
            self.show_timer(self.conn.state)

    # -- for subclasses --------------------------------------------------------------------

    def put(self, selector: str, content: Text | str) -> None:
        """Show ``content`` in the ``Static`` (or ``TextLine``) at ``selector``, unless it already shows exactly that.

        ``Static.update`` lays the screen out again even for the same text; most events change
        one view of many, so the others are left alone.
        """
        before = self._shown.get(selector)
        if before != content:
            self._shown[selector] = content
            # A line whose words only change digits for digits (a count, a clock) wraps as
            # before: its widget is redrawn without laying the whole screen out again.
            self.query_one(selector, Static | TextLine).update(content, layout=not same_shape(before, content))

    def changed(self, view: str, *inputs: object) -> bool:
        """Whether any of ``inputs`` (parts of the state, which the reducer replaces only when they change)
        is not the very object ``view`` was last drawn from; remembers them for next time."""
        before = self._inputs.get(view)
        if before is not None and len(before) == len(inputs) and all(map(operator.is_, before, inputs)):
            return False
        self._inputs[view] = inputs
        return True

    def room_counts(self, state: State) -> tuple[int, int, int]:
        """(done with this stage, people, people online), counted again only when one of them can have changed.

        Each is a pass over the room, and the status lines show them on every redraw: in a room
        of 1,000, the host's "online" count alone (each person looked for in the online list)
        took 5.7 ms per redraw.
        """
        if self.changed("room counts", state.participants, state.done, state.stage, self.conn.online):
            people, here = state.people(), set(self.conn.online)
            self._room_counts = (state.done_count(), len(people), sum(1 for p in people if p.id in here))
        return self._room_counts

    def show(self, state: State) -> None:
        """Redraw every view of ``state`` (never input widgets)."""

    def show_status(self) -> None:
        """Redraw the connection status."""

    def show_timer(self, state: State) -> None:
        """Redraw the countdown (called every second while a timer runs)."""

    @property
    def next_id(self) -> str:
        """A fresh command id: ``self.send(c.PostIdea(id=self.next_id, ...))``."""
        return self.conn.new_id()

    def send(
        self,
        cmd: c.Command,
        said: str = "",
        then: Callable[[], None] | None = None,
        refused: str = "",
        give_back: Callable[[], str] | None = None,
    ) -> None:
        """Send ``cmd`` without blocking; a refusal is shown, on success ``said`` and ``then``.

        The command is handed to the connection at once (a quit right after it waits for its
        answer); only the wait for that answer runs in a worker. On a refusal ``give_back``
        returns what the person typed to where they can use it, and says where (added to the
        refusal's message).
        """
        answer = self.conn.send_nowait(cmd)

        async def go() -> None:
            try:
                await answer
            except CommandError as exc:
                if exc.code != "closed":
                    title = refused or REFUSED.get(type(cmd), "The server said no")
                    message = exc.message[:1].upper() + exc.message[1:] + "."
                    if give_back is not None:
                        message += " " + give_back()
                    self.notify(message, title=title, severity="error", markup=False)
            else:
                if then is not None:
                    then()
                if said:
                    self.notify(said, markup=False)

        self.run_worker(go(), group="commands", exit_on_error=False)

    def say(self, message: str, severity: str = "information") -> None:
        self.notify(message, severity=severity, markup=False)  # type: ignore[arg-type]
