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

from websockets.asyncio.server import broadcast

from server.outbox import Outbox, batch, open_sockets
from server.store import EventStore, SessionRow, Write
from workshop import events as ev
from workshop.audience import private_view, public_view, view_state
from workshop.protocol import EventMsg, Presence, encode, encoder, event_decoder
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
    # The one participant who may be entitled to a richer copy (a voter, an anonymous
    # author at the moment of posting); None for most events.
    owner: str | None = None


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
    _extras: dict[Conn, list[bytes]] = field(default_factory=dict)
    # Connections welcomed since the last flush, with the seq their welcome covered.
    _fresh: dict[Conn, int] = field(default_factory=dict)
    _outboxes: list[Outbox] | None = None
    _came: set[str] = field(default_factory=set)
    _went: set[str] = field(default_factory=set)

    @property
    def id(self) -> str:
        return self.row.id

    # -- loading ---------------------------------------------------------------------------

    def load(self) -> None:
        """Rebuild from the store: the same fold every client runs."""
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
            item = Published(seq, at, event, _encode_public(seq, at, event), _owner(event, actor))
            self.log.append(item)
            self._unsent.append(item)
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
        coalesced into one ``batch`` frame, encoded once and handed to ``broadcast()``
        for everyone. Only the few connections that differ get their own: an owner of a
        private copy, one welcomed mid-batch (it already has the start), and any with
        an ack, which must follow the events it acknowledges.
        """
        self._flush_scheduled = False
        items, self._unsent = self._unsent, []
        extras, self._extras = self._extras, {}
        fresh, self._fresh = self._fresh, {}
        if items:
            self._send_events(items, fresh)
        for conn, frames in extras.items():
            for frame in frames:
                conn.outbox.put(frame)

    def _send_events(self, items: list[Published], fresh: dict[Conn, int]) -> None:
        public = batch([i.public for i in items])
        owners = {i.owner for i in items if i.owner is not None}
        apart = set(fresh)
        for pid in owners:
            apart.update(self.conns.get(pid, ()))
        outboxes = self.outboxes()
        if apart:
            outboxes = [c.outbox for conns in self.conns.values() for c in conns if c not in apart]
        broadcast(open_sockets(outboxes), public, text=True)
        for conn in apart:
            since = fresh.get(conn, 0)
            if conn.actor.id in owners:
                frames = [self._frame_for(i, conn.actor) for i in items if i.seq > since]
                if frames:
                    conn.outbox.put(batch(frames))
            elif since < items[0].seq:
                conn.outbox.put(public)
            elif since < items[-1].seq:
                conn.outbox.put(batch([i.public for i in items if i.seq > since]))

    def outboxes(self) -> list[Outbox]:
        """Every connection's outbox, rebuilt only when someone arrives or leaves."""
        if self._outboxes is None:
            self._outboxes = [c.outbox for conns in self.conns.values() for c in conns]
        return self._outboxes

    def _frame_for(self, item: Published, actor: Actor) -> bytes:
        private = private_view(item.event, actor)
        return _encode_msg(item.seq, item.at, private) if private else item.public

    # -- reading for a connection ---------------------------------------------------------

    def snapshot_for(self, actor: Actor) -> State:
        return view_state(self.published, actor)

    def backlog_for(self, actor: Actor, after: int) -> list[bytes]:
        return [self._frame_for(item, actor) for item in self.log[after:]]

    # -- connections ---------------------------------------------------------------------------

    def attach(self, conn: Conn, welcomed_at: int) -> None:
        """Add a connection whose welcome covered the log up to ``welcomed_at``."""
        if self._unsent:
            self._fresh[conn] = welcomed_at
        conns = self.conns.setdefault(conn.actor.id, set())
        if not conns:
            self._presence(came=conn.actor.id)
        conns.add(conn)
        self._outboxes = None

    def detach(self, conn: Conn) -> None:
        conns = self.conns.get(conn.actor.id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.conns[conn.actor.id]
                self._presence(went=conn.actor.id)
        self._fresh.pop(conn, None)
        self._outboxes = None

    def online(self) -> tuple[str, ...]:
        return tuple(self.conns)

    def _presence(self, came: str = "", went: str = "") -> None:
        """Collect arrivals and departures; a storm of them goes out as one small delta."""
        if came:
            self._came.add(came)
            self._went.discard(came)
        if went:
            self._went.add(went)
            self._came.discard(went)
        if not self._presence_dirty:
            self._presence_dirty = True
            asyncio.get_running_loop().call_later(0.2, self._send_presence)

    def _send_presence(self) -> None:
        self._presence_dirty = False
        came, went = tuple(self._came), tuple(self._went)
        self._came, self._went = set(), set()
        if came or went:
            frame = encode(Presence(came=came, went=went))
            broadcast(open_sockets(self.outboxes()), frame, text=True)


def _owner(event: ev.EventBody, actor: str) -> str | None:
    """Who may see more of ``event`` than everyone else, if anyone."""
    match event:
        case ev.VoteCast(voter=voter, idea=idea) if idea is not None:
            return voter
        case ev.IdeaPosted(idea=idea) if idea.seal is not None:
            return actor
    return None


def _encode_msg(seq: int, at: float, event: ev.EventBody) -> bytes:
    return encoder.encode(EventMsg(seq=seq, at=at, event=event))


def _encode_public(seq: int, at: float, event: ev.EventBody) -> bytes:
    return _encode_msg(seq, at, public_view(event))


def command_digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


__all__ = ["Conn", "Rejection", "Room", "command_digest", "decide"]
