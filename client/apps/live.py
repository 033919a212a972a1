"""Provides ``LiveApp``: the base of both apps, owning the connection and its refresh message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.message import Message

from client.connection import CommandError, Connection, Credentials, JoinRefused
from workshop import commands as c
from workshop.state import State


class StateChanged(Message):
    """The replica, the connection status or the presence list changed."""


class LiveApp(App[int]):
    """An app with a :class:`Connection` started on mount and closed on unmount.

    ``Connection.on_change`` becomes one coalesced :class:`StateChanged` message, so a burst
    of events costs one refresh; subclasses draw in :meth:`show` and never rebuild inputs.
    """

    def __init__(self, creds: Credentials, **conn_options: Any) -> None:
        super().__init__()
        self.conn = Connection(creds, **conn_options)
        self._refresh_queued = False

    def on_mount(self) -> None:
        self.conn.on_change(self._changed)
        self.run_worker(self._connect(), name="connect", exit_on_error=False)
        self.set_interval(1.0, self._tick)
        self.show_status()

    async def _connect(self) -> None:
        try:
            await self.conn.start()
        except JoinRefused as exc:
            self.notify(f"The server refused to let you in: {exc}", severity="error", markup=False, timeout=30)
        except (TimeoutError, OSError) as exc:
            self.notify(f"Cannot reach {self.conn.creds.url}: {exc}", severity="error", markup=False, timeout=30)

    async def on_unmount(self) -> None:
        await self.conn.close()

    def _changed(self) -> None:
        if not self._refresh_queued:
            self._refresh_queued = True
            self.post_message(StateChanged())

    def on_state_changed(self, _msg: StateChanged) -> None:
        self._refresh_queued = False
        self.show_status()
        if self.conn.state is not None:
            self.show(self.conn.state)

    def _tick(self) -> None:
        if self.conn.state is not None and self.conn.state.timer_ends_at is not None:
            self.show_timer(self.conn.state)

    # -- for subclasses --------------------------------------------------------------------

    def show(self, state: State) -> None:
        """Redraw every view of ``state`` (never input widgets)."""

    def show_status(self) -> None:
        """Redraw the connection status."""

    def show_timer(self, state: State) -> None:
        """Redraw the countdown (called every second while a timer runs)."""

    def command(
        self,
        kind: type[c.Command],
        said: str = "",
        then: Callable[[], None] | None = None,
        **fields: object,
    ) -> None:
        """Send a command without blocking; a refusal is shown, on success ``said`` and ``then``."""

        async def go() -> None:
            try:
                await self.conn.do(kind, **fields)
            except CommandError as exc:
                self.notify(exc.message, title="Not done", severity="error", markup=False)
            else:
                if then is not None:
                    then()
                if said:
                    self.notify(said, markup=False)

        self.run_worker(go(), group="commands", exit_on_error=False)

    def say(self, message: str, severity: str = "information") -> None:
        self.notify(message, severity=severity, markup=False)  # type: ignore[arg-type]
