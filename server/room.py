"""Provides a room: one live session's state, log tail, members and connections.

The room decides and applies commands in memory at once (so the next command sees them),
but publishes an event (fan-out, snapshots, resumes) only after the store has committed
it. Publication happens in commit order from the store's completion callbacks.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from server.outbox import Outbox, batch, send_all
from server.store import EventStore, SessionRow, Write
from workshop import events as ev
from workshop.audience import private_view, public_view, view_state
from workshop.protocol import EventMsg, Presence, encode, encoder
from workshop.reducer import apply
from workshop.rules import Actor, Rejection, decide
from workshop.state import State


@dataclass(eq=False)
class Conn:
    """One authenticated connection: its actor is held here, never read from a message."""

    actor: Actor
    outbox: Outbox
    address: str = ""


@dataclass(slots=True)
class Published:
    seq: int
    at: float
    event: ev.EventBody
    public: bytes  # the encoded EventMsg everyone without a private view receives


@dataclass(eq=False)
class Room:
    row: SessionRow
    store: EventStore
    clock: Callable[[], float] = time.time
    decided: State = field(default_factory=State)
    published: State = field(default_factory=State)
    log: list[Published] = field(default_factory=list)
    members: dict[str, str] = field(default_factory=dict)  # token digest -> participant
    commands: dict[tuple[str, str], tuple[str, int | asyncio.Future[None]]] = field(default_factory=dict)
    conns: dict[str, set[Conn]] = field(default_factory=dict)  # participant -> connections
    _presence_dirty: bool = False
    _flush_scheduled: bool = False
    _unsent: list[Published] = field(default_factory=list)
    _special: set[str] = field(default_factory=set)
    _extras: dict[Conn, list[bytes]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.row.id

    # -- loading ---------------------------------------------------------------------------

    def load(self) -> None:
        """Rebuild from the store: the same fold every client runs."""
        from workshop.protocol import event_decoder

        state = State()
        for seq, at, body in self.store.events(self.id):
            event = event_decoder.decode(body)
            state = apply(state, event, seq)
            self.log.append(Published(seq, at, event, _encode_public(seq, at, event)))
        self.decided = self.published = state
        self.members = self.store.members(self.id)
        self.commands = dict(self.store.commands(self.id))

    # -- writing ---------------------------------------------------------------------------

    def submit(
        self,
        events: list[ev.EventBody],
        *,
        actor: str,
        command: tuple[str, str] | None = None,
        member: tuple[str, str] | None = None,
        new_session: SessionRow | None = None,
    ) -> asyncio.Future[None]:
        """Apply ``events`` to the decided state and queue them for commit and fan-out."""
        at = self.clock()
        write = Write(session=self.id, new_session=new_session, member=member, created=at)
        staged: list[tuple[int, ev.EventBody]] = []
        state = self.decided
        for event in events:
            seq = state.seq + 1
            state = apply(state, event, seq)
            staged.append((seq, event))
            write.events.append((seq, at, encoder.encode(event)))
        self.decided = state
        if command is not None:
            write.command = (actor, command[0], command[1], state.seq)
        fut = self.store.append(write)
        if command is not None:
            self.commands[(actor, command[0])] = (command[1], fut)
        if member is not None:
            self.members[member[1]] = member[0]
        fut.add_done_callback(lambda f: self._publish(f, staged, at, actor, command))
        return fut

    def _publish(
        self,
        fut: asyncio.Future[None],
        staged: list[tuple[int, ev.EventBody]],
        at: float,
        actor: str,
        command: tuple[str, str] | None,
    ) -> None:
        if fut.cancelled() or fut.exception() is not None:
            return
        if command is not None:
            self.commands[(actor, command[0])] = (command[1], staged[-1][0])
        for seq, event in staged:
            self.published = apply(self.published, event, seq)
            item = Published(seq, at, event, _encode_public(seq, at, event))
            self.log.append(item)
            self._unsent.append(item)
            # Only the actor (and a voter whose dots are refunded) can be entitled to a
            # richer copy than the public one.
            self._special.add(actor)
            if isinstance(event, ev.VoteCast):
                self._special.add(event.voter)
        self._schedule_flush()

    def after_events(self, conn: Conn, frame: bytes) -> None:
        """Send ``frame`` (an ack) to ``conn`` after every event published so far."""
        self._extras.setdefault(conn, []).append(frame)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Send everything published since the last flush: one frame per audience.

        Commits that complete in the same turn of the loop (a group commit) are
        coalesced into one ``batch`` frame, encoded once for everyone without a
        private view; the few connections with a private view or an ack get their own.
        """
        self._flush_scheduled = False
        items, self._unsent = self._unsent, []
        special, self._special = self._special, set()
        extras, self._extras = self._extras, {}
        public = batch([i.public for i in items]) if items else b""
        everyone: list[Outbox] = []
        for pid, conns in self.conns.items():
            for conn in conns:
                if pid not in special and conn not in extras:
                    everyone.append(conn.outbox)
                    continue
                frames = [self._frame_for(i, conn.actor) for i in items] if pid in special else []
                if frames:
                    conn.outbox.put(batch(frames))
                elif public:
                    conn.outbox.put(public)
                for extra in extras.get(conn, ()):
                    conn.outbox.put(extra)
        if public:
            send_all(everyone, public)

    def _frame_for(self, item: Published, actor: Actor) -> bytes:
        private = private_view(item.event, actor)
        return _encode_msg(item.seq, item.at, private) if private else item.public

    # -- reading for a connection ---------------------------------------------------------

    def snapshot_for(self, actor: Actor) -> State:
        return view_state(self.published, actor)

    def backlog_for(self, actor: Actor, after: int) -> list[bytes]:
        return [self._frame_for(item, actor) for item in self.log[after:]]

    # -- connections ---------------------------------------------------------------------------

    def attach(self, conn: Conn) -> None:
        """Add a connection whose welcome was just sent; it gets every event after it."""
        self.conns.setdefault(conn.actor.id, set()).add(conn)
        self._presence_changed()

    def detach(self, conn: Conn) -> None:
        conns = self.conns.get(conn.actor.id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.conns[conn.actor.id]
        self._presence_changed()

    def online(self) -> tuple[str, ...]:
        return tuple(self.conns)

    def _presence_changed(self) -> None:
        """Coalesce presence updates: a reconnect storm sends one, not one per arrival."""
        if self._presence_dirty:
            return
        self._presence_dirty = True
        asyncio.get_running_loop().call_later(0.2, self._send_presence)

    def _send_presence(self) -> None:
        self._presence_dirty = False
        frame = encode(Presence(online=self.online()))
        send_all((conn.outbox for conns in self.conns.values() for conn in conns), frame)


def _encode_msg(seq: int, at: float, event: ev.EventBody) -> bytes:
    return encoder.encode(EventMsg(seq=seq, at=at, event=event))


def _encode_public(seq: int, at: float, event: ev.EventBody) -> bytes:
    return _encode_msg(seq, at, public_view(event))


def command_digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


__all__ = ["Conn", "Rejection", "Room", "command_digest", "decide"]
