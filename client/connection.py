"""Provides :class:`Connection`: one participant's or facilitator's link to a session.

It keeps a replica of the session (folded with the same ``apply`` as the server), survives
drops by reconnecting with websockets' own backoff and resuming from its last sequence
number, and keeps every command it was given until the server acknowledges it, resending
after a reconnect under the same id so that it is applied once. A command the server could
not save (``server_error``: a full disk, say) is kept too and sent again with backoff; the
count of such commands is ``unsaved``, for the apps to say so plainly.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import secrets
import ssl
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from websockets.asyncio.client import ClientConnection, connect
from websockets.client import backoff, process_exception
from websockets.exceptions import ConnectionClosed

from workshop import commands as c
from workshop.protocol import (
    Ack,
    Batch,
    Create,
    Created,
    Error,
    EventMsg,
    Hello,
    Presence,
    Welcome,
    encode,
    outbound_decoder,
)
from workshop.reducer import apply
from workshop.state import State

log = logging.getLogger("workshop.client")

Status = Literal["connecting", "online", "reconnecting", "resyncing", "closed", "refused"]
# The server could not save it, or is still saving a backlog: the same command may succeed later.
RETRYABLE = frozenset({"server_error", "busy"})


class CommandError(Exception):
    """The server refused a command; ``code`` and ``message`` say why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class JoinRefused(Exception):
    """The server would not let this connection in (bad code, secret or token)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a client needs to (re)join: keep these to come back as the same person."""

    url: str
    session: str = ""
    code: str = ""
    name: str = ""
    token: str = ""
    secret: str = ""


async def create_session(
    url: str,
    *,
    goal: str = "",
    name: str = "Facilitator",
    agenda: tuple = (),
    ssl_context: ssl.SSLContext | None = None,
    continues: str = "",
    continues_secret: str = "",
) -> Created:
    """Ask a server for a new session; the reply holds its join code and facilitator secret.

    With ``continues`` (a session id) and a facilitator's secret of it, the new session is a
    check-in carrying that session's goal, KPIs and milestones.
    """
    create = Create(goal=goal, name=name, agenda=agenda or None, continues=continues, continues_secret=continues_secret)
    async with connect(url, compression=None, proxy=None, ssl=ssl_context) as ws:
        await ws.send(encode(create), text=True)
        reply = outbound_decoder.decode(await ws.recv())
    if isinstance(reply, Error):
        raise JoinRefused(reply.message)
    assert isinstance(reply, Created)
    return reply


class _Moved(Exception):
    """The server does not serve this session; ``url`` does."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class _Unreachable(Exception):
    """This server cannot be reached; another that shares the log may be."""


class Connection:
    """A session replica kept in step with the server, and the way to send it commands."""

    def __init__(
        self,
        creds: Credentials,
        *,
        ssl_context: ssl.SSLContext | None = None,
        ping_interval: float = 5.0,
        ping_timeout: float = 5.0,
        reconnect_max_delay: float = 5.0,
        servers: Sequence[str] = (),
    ) -> None:
        self.creds = creds
        # Other servers sharing the session's log (several `workshop serve` on one PostgreSQL):
        # when ours cannot be reached, the next is tried, and it takes the session over. Each
        # welcome adds the ones the server knows of.
        self.servers = [creds.url, *(u for u in servers if u != creds.url)]
        self.state: State | None = None
        self.you = ""
        self.joined_as = ""  # the role the welcome gave; ``role`` follows the session after that
        self.epoch = ""
        self.clock_offset = 0.0  # server clock minus ours, so countdowns show the server's time
        self.online: tuple[str, ...] = ()
        self.status: Status = "connecting"
        self.unsaved = 0  # commands the server could not save yet, being sent again
        self._ssl = ssl_context
        self._ping = (ping_interval, ping_timeout)
        self._delays = functools.partial(backoff, initial_delay=1.0, min_delay=0.5, max_delay=reconnect_max_delay)
        self._retry_delays: Iterator[float] | None = None  # backoff for commands the server could not save
        self._gap_delays: Iterator[float] | None = None  # backoff for a stream that keeps skipping
        self._want_snapshot = False
        self._pending: dict[str, tuple[bytes, asyncio.Future[int]]] = {}
        self._unsaved: set[str] = set()
        self._ids = itertools.count(1)
        self._id_prefix = secrets.token_hex(4)
        self._listeners: list[Callable[[], None]] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._ws: ClientConnection | None = None
        self._welcomed = asyncio.Event()
        self.reconnects = 0

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._task is not None

    async def start(self, timeout: float = 10.0) -> None:
        """Connect and wait for the first welcome; raise :class:`JoinRefused` if turned away."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        waiter = asyncio.ensure_future(self._welcomed.wait())
        done, _ = await asyncio.wait({waiter, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            waiter.cancel()
            self._task.result()  # raises JoinRefused
        if waiter not in done:
            waiter.cancel()
            raise TimeoutError(f"no answer from {self.creds.url} within {timeout:.0f} s")

    async def close(self) -> None:
        """Stop for good; a command still waiting for its ack fails with :class:`CommandError` ``closed``."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, JoinRefused):
                await self._task
        for task in list(self._background):
            task.cancel()
        pending, self._pending = self._pending, {}
        for _frame, fut in pending.values():
            if not fut.done():
                fut.set_exception(CommandError("closed", "the connection was closed before the server confirmed this"))
        self._set_status("closed")

    async def __aenter__(self) -> Connection:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` (no arguments) after every change of state, status or presence.

        Returns a function that stops the calls (an app about to close calls it first).
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    @property
    def role(self) -> str:
        """Your role now: a handover or a promotion changes it while you stay connected."""
        if self.state is not None and (role := self.state.role_of(self.you)) is not None:
            return role
        return self.joined_as

    def now(self) -> float:
        """The server's clock, as well as this client can tell."""
        return time.time() + self.clock_offset

    # -- commands ------------------------------------------------------------------------------

    def new_id(self) -> str:
        return f"{self._id_prefix}-{next(self._ids)}"

    def send_nowait(self, cmd: c.Command) -> asyncio.Future[int]:
        """Queue ``cmd``; the future gives its seq once durable, or raises :class:`CommandError`.

        A command given while offline waits and goes out when the connection is back.
        """
        frame = encode(cmd)
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if self.status == "closed":  # closed on purpose: nothing will ever send it
            fut.set_exception(CommandError("closed", "the connection is closed"))
            return fut
        self._pending[cmd.id] = (frame, fut)
        if self._ws is not None and self.status == "online":
            self._spawn_send(frame)
        return fut

    async def send(self, cmd: c.Command) -> int:
        return await self.send_nowait(cmd)

    async def do(self, kind: type[c.Command], **fields: object) -> int:
        """Build a command with a fresh id and send it: ``await conn.do(PostIdea, text=...)``."""
        return await self.send(kind(id=self.new_id(), **fields))

    # -- waiting ---------------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[State], bool], timeout: float = 10.0) -> State:
        """Wait until the replica satisfies ``predicate``; woken by changes, never polling."""
        await self.until(lambda: self.state is not None and predicate(self.state), timeout)
        assert self.state is not None
        return self.state

    @property
    def unconfirmed(self) -> int:
        """Commands sent (or waiting to be) that the server has not answered yet."""
        return len(self._pending)

    async def settle(self, timeout: float) -> bool:
        """Wait until every command sent so far is answered; ``False`` if some are still open at ``timeout``."""
        try:
            await self.until(lambda: not self._pending or self.status in ("closed", "refused"), timeout)
        except TimeoutError:
            return False
        return not self._pending

    async def wait_status(self, status: Status, timeout: float = 10.0) -> None:
        await self.until(lambda: self.status == status, timeout)

    async def until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``condition()`` holds, looked at again on every change (state, presence, status)."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while not condition():
                fut: asyncio.Future[None] = loop.create_future()
                self._waiters.append(fut)
                await fut

    # -- the loop ------------------------------------------------------------------------------

    async def _run(self) -> None:
        """Stay connected: websockets' own reconnect with backoff, and a move to another server
        when the one serving the session says so (``moved``) or cannot be reached."""
        turns = self._delays()
        while True:
            try:
                await self._connected_to(self.creds.url)
            except _Moved as moved:
                self.creds = replace(self.creds, url=moved.url)
            except _Unreachable:
                at = self.servers.index(self.creds.url) if self.creds.url in self.servers else -1
                self.creds = replace(self.creds, url=self.servers[(at + 1) % len(self.servers)])
                if self.creds.url == self.servers[0]:
                    await asyncio.sleep(next(turns))  # round all of them: back off before the next round
                continue
            turns = self._delays()

    def _retry(self, exc: Exception) -> Exception | None:
        """websockets asks whether to retry a failed connection: with other servers known, try them."""
        if len(self.servers) > 1 and isinstance(exc, (OSError, TimeoutError)):
            return _Unreachable(str(exc))
        return process_exception(exc)

    async def _connected_to(self, url: str) -> None:
        ping_interval, ping_timeout = self._ping
        async for ws in connect(
            url,
            compression=None,
            proxy=None,
            ssl=self._ssl,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            open_timeout=10,
            close_timeout=2,
            max_size=None,
            reconnect_delays=self._delays,
            process_exception=self._retry,
        ):
            # A clean close by the server (1000/1001 ends ``async for`` without an exception)
            # is a drop like any other: note it and let ``connect`` open the next connection.
            with contextlib.suppress(ConnectionClosed):
                await self._session(ws)
            self._ws = None
            self.reconnects += 1
            self._set_status("resyncing" if self._want_snapshot else "reconnecting")
            if self._want_snapshot:
                # The stream skipped an event: come back for a whole snapshot, and if that keeps
                # happening, back off rather than reconnect in a loop.
                self._gap_delays = self._gap_delays or self._delays()
                await asyncio.sleep(next(self._gap_delays))

    async def _session(self, ws: ClientConnection) -> None:
        await ws.send(encode(self._hello()), text=True)
        welcome = outbound_decoder.decode(await ws.recv())
        if isinstance(welcome, Error) and welcome.code == "moved" and welcome.url:
            raise _Moved(welcome.url)
        if isinstance(welcome, Error):
            self._set_status("refused")
            raise JoinRefused(welcome.message)
        assert isinstance(welcome, Welcome)
        self._on_welcome(welcome)
        self._ws = ws
        self._set_status("online")
        for frame, _ in list(self._pending.values()):
            await ws.send(frame, text=True)
        async for raw in ws:
            self._on_message(outbound_decoder.decode(raw))

    def _hello(self) -> Hello:
        cr = self.creds
        resume = {}
        if self.state is not None and not self._want_snapshot:
            resume = dict(last_seq=self.state.seq, epoch=self.epoch)
        if cr.secret:
            return Hello(session=cr.session, secret=cr.secret, **resume)
        if cr.token and cr.session:
            return Hello(session=cr.session, token=cr.token, **resume)
        # A first join; with our own token, a retry after a lost welcome is the same person.
        return Hello(session=cr.session, code=cr.code, name=cr.name, token=cr.token)

    def _on_welcome(self, w: Welcome) -> None:
        if w.token:  # first join: from now on we come back as this person
            self.creds = replace(self.creds, session=w.session, token=w.token)
        self.you, self.joined_as, self.epoch, self.online = w.you, w.role, w.epoch, w.online
        if w.now:
            self.clock_offset = w.now - time.time()
        # Servers the server knows of join those we were given: with them, the death of this
        # one moves us to another by ourselves, with no --servers typed.
        self.servers += [u for u in w.servers if u.startswith(("ws://", "wss://")) and u not in self.servers]
        if w.snapshot is not None:
            self.state = w.snapshot
            self._want_snapshot = False
        self._welcomed.set()
        self._notify()

    def _on_message(self, msg: object) -> None:
        match msg:
            case EventMsg():
                self._apply(msg)
            case Batch(events=events):
                for item in events:
                    self._apply(item)
            case Ack(id=cid, seq=seq):
                _, fut = self._pending.pop(cid, (b"", None))
                self._saved(cid)
                if fut is not None and not fut.done():
                    fut.set_result(seq)
                self._wake()
            case Error(id=cid, code=code) if cid and code in RETRYABLE and cid in self._pending:
                self._retry_later(cid)
            case Error(id=cid, code=code, message=message) if cid:
                _, fut = self._pending.pop(cid, (b"", None))
                self._saved(cid)
                if fut is not None and not fut.done():
                    fut.set_exception(CommandError(code, message))
                self._wake()
            case Error(code=code, message=message):
                log.warning("server error %s: %s", code, message)
            case Presence(came=came, went=went):
                gone = set(went)
                kept = [p for p in self.online if p not in gone]
                self.online = (*kept, *(p for p in came if p not in kept))
                self._notify()

    def _apply(self, msg: EventMsg) -> None:
        assert self.state is not None
        if msg.seq <= self.state.seq:
            return  # already have it (an overlap after a resume): never twice
        if msg.seq != self.state.seq + 1:
            # A gap the server should never leave: drop this connection and come back for a
            # whole snapshot (a resume from our seq would meet the same gap).
            if self._ws is not None and not self._want_snapshot:
                log.warning("gap in the event stream at %s (have %s); asking for a snapshot", msg.seq, self.state.seq)
                self._want_snapshot = True
                self._spawn(self._ws.close(4000, "gap"))
            return
        self.state = apply(self.state, msg.event, msg.seq)
        self._gap_delays = None
        self._notify()

    def _retry_later(self, cid: str) -> None:
        """Send a command the server could not save again after a backoff, under the same id."""
        if cid not in self._unsaved:
            self._unsaved.add(cid)
            self.unsaved = len(self._unsaved)
            self._notify()
        self._retry_delays = self._retry_delays or self._delays()
        delay = next(self._retry_delays)

        async def again() -> None:
            await asyncio.sleep(delay)
            entry = self._pending.get(cid)
            if entry is not None and self._ws is not None and self.status == "online":
                await self._send_frame(self._ws, entry[0])

        self._spawn(again())

    def _saved(self, cid: str) -> None:
        if cid in self._unsaved:
            self._unsaved.discard(cid)
            self.unsaved = len(self._unsaved)
            if not self._unsaved:
                self._retry_delays = None
            self._notify()

    def _spawn_send(self, frame: bytes) -> None:
        assert self._ws is not None
        self._spawn(self._send_frame(self._ws, frame))

    @staticmethod
    async def _send_frame(ws: ClientConnection, frame: bytes) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(frame, text=True)

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _set_status(self, status: Status) -> None:
        if self.status != status:
            self.status = status
            self._notify()

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()
        self._wake()

    def _wake(self) -> None:
        """Let every ``_until`` look at its condition again."""
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)


__all__ = ["CommandError", "Connection", "Credentials", "JoinRefused", "create_session"]
