"""Provides Harness: the real server (handshake, rules, rooms, fan-out, SQLite log) minus its sockets.

Property tests run hundreds of generated workshops, too many for real sockets; they still must
test what runs, not a twin of it. So every frame goes through ``WorkshopServer.hello`` and
``WorkshopServer.on_frame``, the room's own fan-out and the real event store, and only the last
step, writing bytes to a socket, is replaced: each connection's frames land in a
:class:`Recorder`. Credentials come from a seeded sequence, so two runs of the same commands give
the same ids, codes and tokens, and what differs between two runs is what the test varied.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import msgspec

from server import credentials as cred
from server.app import WorkshopServer
from server.limits import Limits, TokenBucket
from server.room import Conn, Room
from server.store import EventStore
from workshop import commands as c
from workshop.audience import view_state
from workshop.protocol import Ack, Batch, Create, Error, EventMsg, Hello, Welcome, encode, outbound_decoder
from workshop.reducer import apply
from workshop.state import State

KEYED = re.compile(r"\b[0-9a-f]{64}\b")  # seals and keyed digests: opaque without a credential


class Recorder:
    """A connection's outbox that keeps every frame instead of writing it to a socket."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.arrived = asyncio.Event()
        self.closed = ""

    def put(self, frame: bytes) -> None:
        self.frames.append(frame)
        self.arrived.set()

    def close(self, reason: str) -> None:
        self.closed = reason


def record(outboxes: Sequence[Recorder], frame: bytes) -> None:
    for outbox in outboxes:
        outbox.put(frame)


@dataclass
class Seat:
    """One joined connection: what the server holds for it, and everything it was sent."""

    name: str
    room: Room
    conn: Conn
    outbox: Recorder
    token: str
    bucket: TokenBucket = field(default_factory=lambda: TokenBucket(1e9, 1e9))

    def messages(self) -> list[Any]:
        return [outbound_decoder.decode(f) for f in self.outbox.frames]

    def replica(self, start: State | None = None, upto: int | None = None) -> State:
        """The state this connection's client would hold: its welcome, then every event in order.

        A resuming connection gets no snapshot: pass the ``start`` its client held at ``last_seq``.
        ``upto`` stops the fold at that seq.
        """
        state = start
        for msg in self.messages():
            match msg:
                case Welcome(snapshot=snapshot) if snapshot is not None:
                    state = snapshot
                case EventMsg() | Batch():
                    for item in msg.events if isinstance(msg, Batch) else (msg,):
                        assert state is not None, "an event before any snapshot"
                        if upto is not None and item.seq > upto:
                            return state
                        assert item.seq == state.seq + 1, f"event {item.seq} after {state.seq}: a gap or a repeat"
                        state = apply(state, item.event, item.seq)
        assert state is not None
        return state

    def expected(self) -> State:
        return view_state(self.room.published, self.conn.actor)

    def last_seq(self) -> int:
        """The last seq this connection was sent (its welcome's, or its last event's)."""
        last = 0
        for msg in self.messages():
            if isinstance(msg, Welcome):
                last = msg.seq if msg.snapshot is None else msg.snapshot.seq
            elif isinstance(msg, EventMsg | Batch):
                last = (msg.events[-1] if isinstance(msg, Batch) else msg).seq
        return last

    async def caught_up(self) -> None:
        """Until everything the room published has reached this connection (arrivals may linger)."""
        async with asyncio.timeout(10):
            while self.last_seq() < self.room.published.seq and not self.outbox.closed:
                self.outbox.arrived.clear()
                await self.outbox.arrived.wait()


@contextlib.contextmanager
def seeded_credentials(seed: str) -> Iterator[None]:
    """Make ids, codes, tokens and secrets a fixed sequence, so that two runs can be compared."""
    counter = itertools.count(1)

    def nxt(kind: str, width: int) -> str:
        return f"{seed}{kind}{next(counter):0{width}d}"

    with (
        mock.patch.object(cred, "new_id", lambda: nxt("i", 10)),
        mock.patch.object(cred, "new_token", lambda: nxt("t", 30)),
        mock.patch.object(cred, "new_secret", lambda: nxt("s", 40)),
        mock.patch.object(cred, "new_code", lambda: "ABCDE-FGHJK"),
    ):
        yield


class Harness:
    def __init__(self, db: Path, limits: Limits | None = None) -> None:
        self.db = db
        self.store = EventStore(db, durable=False)  # what these tests check does not depend on fsync
        limits = limits or Limits(commands_per_second=1e9, command_burst=10**9, join_linger=0)
        self.app = WorkshopServer(self.store, limits, clock=lambda: 1_000_000.0, deliver=record)  # type: ignore[arg-type]
        self.session = ""
        self.code = ""
        self.secret = ""

    def close(self) -> None:
        self.app.close()

    async def create(self, goal: str = "30 new leads a month") -> None:
        created = await self.app.create(Create(goal=goal, name="Fay"), "127.0.0.1")
        self.session, self.code, self.secret = created.session, created.code, created.secret

    async def join(self, name: str, hello: Hello | None = None) -> Seat:
        """A connection through the server's own handshake; by default a first join by code."""
        outbox = Recorder()
        hello = hello or Hello(code=self.code, name=name)
        room, conn = await self.app.hello(hello, outbox, "127.0.0.1")  # type: ignore[arg-type]
        welcome = outbound_decoder.decode(outbox.frames[0])
        token = welcome.token or hello.token or hello.secret
        return Seat(name, room, conn, outbox, token)

    async def facilitator(self) -> Seat:
        return await self.join("Fay", Hello(session=self.session, secret=self.secret))

    async def send(self, seat: Seat, cmd: c.Command) -> Ack | Error:
        """Hand ``cmd`` to the server as a frame from ``seat`` and wait for its answer."""
        start = len(seat.outbox.frames)
        self.app.on_frame(seat.room, seat.conn, seat.bucket, encode(cmd))
        async with asyncio.timeout(10):
            while True:
                for frame in seat.outbox.frames[start:]:
                    msg = outbound_decoder.decode(frame)
                    if isinstance(msg, Ack | Error) and msg.id == cmd.id:
                        return msg
                start = len(seat.outbox.frames)
                seat.outbox.arrived.clear()
                await seat.outbox.arrived.wait()

    def tables(self) -> dict[str, list[tuple[object, ...]]]:
        """Every row of every table in the log file, keyed values made opaque."""
        out: dict[str, list[tuple[object, ...]]] = {}
        with self.store.reader() as db:
            names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for name in names:
                rows = db.execute(f"SELECT * FROM {name}").fetchall()
                out[name] = sorted((tuple(opaque(v) for v in row) for row in rows), key=repr)
        return out


def opaque(value: object) -> object:
    """``value`` with every keyed digest replaced by a marker (bytes and text alike)."""
    if isinstance(value, bytes):
        return KEYED.sub("<keyed>", value.decode("utf-8", "replace"))
    if isinstance(value, str):
        return KEYED.sub("<keyed>", value)
    return value


def normalised(frames: list[bytes], *, totals: bool = False) -> list[object]:
    """Frames as plain data with keyed values opaque (and, if asked, revealed totals blanked)."""
    out = []
    for frame in frames:
        data = msgspec.json.decode(KEYED.sub("<keyed>", frame.decode()).encode())
        if totals:
            data = _blank_totals(data)
        out.append(data)
    return out


def _blank_totals(data: object) -> object:
    if isinstance(data, dict):
        if data.get("type") == "votes_revealed":
            return {**data, "totals": "<totals>"}
        return {k: ("<totals>" if k == "revealed" and v is not None else _blank_totals(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [_blank_totals(v) for v in data]
    return data
