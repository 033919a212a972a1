"""Provides a room: one live session's state, log tail, members and connections.

The room decides and applies commands in memory at once (so the next command sees them),
but publishes an event (fan-out, snapshots, resumes) only after the store has committed it.
Publication happens in commit order from the store's completion callbacks. When a commit
fails, everything decided on top of it is void: the room falls back to what is durable, and
the store refuses whatever was already queued after it, so the log never has a hole.

Who receives a richer copy of an event than the room is decided in one place,
:func:`workshop.audience.private_view`, for live fan-out and resumes alike.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from server.outbox import Deliver, Sink, batch, deliver
from server.store import EventStore, Loaded, SessionRow, Write
from workshop import events as ev
from workshop.audience import private_view, public_view, view_state
from workshop.protocol import Error, EventMsg, Presence, encode, encoder, event_decoder
from workshop.reducer import apply
from workshop.rules import Actor
from workshop.state import State


@dataclass(eq=False)
class Conn:
    """One authenticated connection: its actor is held here, never read from a message."""

    actor: Actor
    outbox: Sink


@dataclass(slots=True)
class Published:
    seq: int
    at: float
    event: ev.EventBody
    public: bytes  # the encoded EventMsg everyone without a private copy receives
    owner: str | None = None  # the participant who receives ``private`` instead, if any
    private: bytes | None = None


def publish(seq: int, at: float, event: ev.EventBody, actor: Actor | None = None) -> Published:
    """Encode ``event`` once for the room and, if :func:`private_view` gives one, once for ``actor``."""
    public = _encode_msg(seq, at, public_view(event))
    mine = private_view(event, actor) if actor is not None else None
    if mine is None:
        return Published(seq, at, event, public)
    return Published(seq, at, event, public, actor.id, _encode_msg(seq, at, mine))  # type: ignore[union-attr]


@dataclass(eq=False)
class Room:
    row: SessionRow
    store: EventStore
    clock: Callable[[], float] = time.time
    deliver: Deliver = deliver  # type: ignore[assignment]
    tail_size: int = 2000  # events kept encoded for resumes; older ones are read from the store
    # How long news of arrivals alone may wait, so that a crowd arriving shares frames. Anything
    # else (an idea, an ack) is sent at once and takes the waiting arrivals with it.
    join_linger: float = 0.1
    decided: State = field(default_factory=State)
    published: State = field(default_factory=State)
    tail: deque[Published] = field(default_factory=deque)
    members: dict[str, str] = field(default_factory=dict)  # token digest -> participant
    # command key -> (payload digest, seq once stored, or the commit still under way)
    commands: dict[str, tuple[str, int | asyncio.Future[None]]] = field(default_factory=dict)
    conns: dict[str, set[Conn]] = field(default_factory=dict)  # participant -> connections
    pending: int = 0  # writes handed to the store and not yet settled
    generation: int = 0  # bumped when a failed commit voids what was decided after it
    _presence_dirty: bool = False
    _flush: asyncio.Handle | None = None  # a TimerHandle while only arrivals are waiting
    _unsent: list[Published] = field(default_factory=list)
    _extras: dict[Conn, list[bytes]] = field(default_factory=dict)
    # Connections welcomed since the last flush, with the seq their welcome covered.
    _fresh: dict[Conn, int] = field(default_factory=dict)
    _outboxes: list[Sink] | None = None
    _came: set[str] = field(default_factory=set)
    _went: set[str] = field(default_factory=set)
    _removed: set[str] = field(default_factory=set)  # participants whose connections end after the next flush

    def __post_init__(self) -> None:
        self.tail = deque(self.tail, maxlen=self.tail_size)

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def idle(self) -> bool:
        """Nobody connected and nothing being written: the room may leave memory."""
        return not self.conns and not self.pending

    # -- loading ---------------------------------------------------------------------------

    def load(self, stored: Loaded) -> None:
        """Rebuild from the store: the same fold every client runs."""
        state = State()
        for seq, at, body in stored.events:
            event = event_decoder.decode(body)
            state = apply(state, event, seq)
            if seq > len(stored.events) - self.tail_size:
                self.tail.append(publish(seq, at, event))
        self.decided = self.published = state
        self.members = dict(stored.members)
        self.commands = dict(stored.commands)  # type: ignore[arg-type]

    # -- writing ---------------------------------------------------------------------------

    def submit(
        self,
        events: list[ev.EventBody],
        *,
        actor: Actor,
        command: tuple[str, str] | None = None,
        member: tuple[str, str] | None = None,
        new_session: SessionRow | None = None,
    ) -> asyncio.Future[None]:
        """Apply ``events`` to the decided state and queue them for commit and fan-out.

        ``command`` is the command's (key, payload digest) for deduplication, ``member`` a
        new participant's (id, token digest).
        """
        at = self.clock()
        write = Write(session=self.id, new_session=new_session, member=member)
        staged: list[tuple[int, ev.EventBody]] = []
        state = self.decided
        for event in events:
            seq = state.seq + 1
            state = apply(state, event, seq)
            staged.append((seq, event))
            write.events.append((seq, at, encoder.encode(event)))
        self.decided = state
        if command is not None:
            write.command = (command[0], command[1], state.seq)
        fut = self.store.append(write)
        self.pending += 1
        if command is not None:
            self.commands[command[0]] = (command[1], fut)
        if member is not None:
            self.members[member[1]] = member[0]
        generation = self.generation
        fut.add_done_callback(lambda f: self._settled(f, generation, staged, at, actor, command, member))
        return fut

    def _settled(
        self,
        fut: asyncio.Future[None],
        generation: int,
        staged: list[tuple[int, ev.EventBody]],
        at: float,
        actor: Actor,
        command: tuple[str, str] | None,
        member: tuple[str, str] | None,
    ) -> None:
        self.pending -= 1
        if fut.cancelled() or fut.exception() is not None:
            self._void(fut, generation, command, member)
            return
        if command is not None:
            self.commands[command[0]] = (command[1], staged[-1][0])
        for seq, event in staged:
            self.published = apply(self.published, event, seq)
            item = publish(seq, at, event, actor)
            self.tail.append(item)
            self._unsent.append(item)
            if isinstance(event, ev.ParticipantRemoved):
                self._removed.add(event.participant)
        self._schedule_flush(urgent=not all(isinstance(event, ev.Joined) for _, event in staged))

    def _void(
        self,
        fut: asyncio.Future[None],
        generation: int,
        command: tuple[str, str] | None,
        member: tuple[str, str] | None,
    ) -> None:
        """Forget a write that did not commit, so that the same command can be sent again."""
        if command is not None and self.commands.get(command[0], ("", None))[1] is fut:
            del self.commands[command[0]]
        if member is not None and self.members.get(member[1]) == member[0]:
            del self.members[member[1]]
        if generation == self.generation:
            # Everything decided after the last durable event rested on this write.
            self.generation += 1
            self.decided = self.published

    def after_events(self, conn: Conn, frame: bytes) -> None:
        """Send ``frame`` (an ack) to ``conn`` after every event published so far."""
        self._extras.setdefault(conn, []).append(frame)
        self._schedule_flush()

    def _schedule_flush(self, urgent: bool = True) -> None:
        urgent = urgent or self.join_linger <= 0
        if self._flush is not None:
            if not (urgent and isinstance(self._flush, asyncio.TimerHandle)):
                return
            self._flush.cancel()  # arrivals were waiting; now they go with this
        loop = asyncio.get_running_loop()
        self._flush = loop.call_soon(self.flush) if urgent else loop.call_later(self.join_linger, self.flush)

    def flush(self) -> None:
        """Send everything published since the last flush: one frame per audience.

        Commits that complete in the same turn of the loop (a group commit) are
        coalesced into one ``batch`` frame, encoded once and delivered to everyone.
        Only the few connections that differ get their own: an owner of a private
        copy, one welcomed mid-batch (it already has the start), and any with an ack,
        which must follow the events it acknowledges.
        """
        if self._flush is not None:
            self._flush.cancel()  # called early (presence goes out): the scheduled one is not needed
            self._flush = None
        items, self._unsent = self._unsent, []
        extras, self._extras = self._extras, {}
        fresh, self._fresh = self._fresh, {}
        if items:
            self._send_events(items, fresh)
        for conn, frames in extras.items():
            for frame in frames:
                conn.outbox.put(frame)
        removed, self._removed = self._removed, set()
        for pid in removed:
            # They saw their own removal; now their connections end, and their credential is refused.
            for conn in list(self.conns.get(pid, ())):
                conn.outbox.put(encode(Error(code="forbidden", message="a facilitator removed you from this session")))
                conn.outbox.close("removed")

    def _send_events(self, items: list[Published], fresh: dict[Conn, int]) -> None:
        public = batch([i.public for i in items])
        owners = {i.owner for i in items if i.owner is not None}
        apart = set(fresh)
        for pid in owners:
            apart.update(self.conns.get(pid, ()))
        outboxes = self.outboxes()
        if apart:
            outboxes = [c.outbox for conns in self.conns.values() for c in conns if c not in apart]
        self.deliver(outboxes, public)
        for conn in apart:
            since = fresh.get(conn, 0)
            pid = conn.actor.id
            if pid in owners:
                frames = [i.private if i.owner == pid else i.public for i in items if i.seq > since]
                if frames:
                    conn.outbox.put(batch(frames))  # type: ignore[arg-type]
            elif since < items[0].seq:
                conn.outbox.put(public)
            elif since < items[-1].seq:
                conn.outbox.put(batch([i.public for i in items if i.seq > since]))

    def outboxes(self) -> list[Sink]:
        """Every connection's outbox, rebuilt only when someone arrives or leaves."""
        if self._outboxes is None:
            self._outboxes = [c.outbox for conns in self.conns.values() for c in conns]
        return self._outboxes

    # -- reading for a connection ---------------------------------------------------------

    def frame_for(self, item: Published, viewer: Actor) -> bytes:
        private = private_view(item.event, viewer)
        return _encode_msg(item.seq, item.at, private) if private is not None else item.public

    def snapshot_for(self, actor: Actor) -> State:
        return view_state(self.published, actor)

    def backlog_for(self, actor: Actor, after: int) -> list[bytes] | None:
        """The frames ``actor`` missed after ``after``, or ``None`` if the tail does not reach back so far."""
        if after >= self.published.seq:
            return []
        if not self.tail or after + 1 < self.tail[0].seq:
            return None
        return [self.frame_for(item, actor) for item in itertools.islice(self.tail, after + 1 - self.tail[0].seq, None)]

    async def backlog_from_store(self, actor: Actor, after: int) -> list[bytes]:
        """What ``actor`` missed after ``after``, read from the log; for absences longer than the tail."""
        upto = self.published.seq
        rows = await asyncio.to_thread(self.store.events, self.id, after, upto)
        frames = [self.frame_for(publish(seq, at, event_decoder.decode(body)), actor) for seq, at, body in rows]
        # Whatever was published while the store was read is in the tail.
        frames += [self.frame_for(item, actor) for item in self.tail if item.seq > upto]
        return frames

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
        if self._unsent:  # who is online refers to arrivals the room must have heard of first
            self.flush()
        came, went = tuple(self._came), tuple(self._went)
        self._came, self._went = set(), set()
        if came or went:
            self.deliver(self.outboxes(), encode(Presence(came=came, went=went)))


def _encode_msg(seq: int, at: float, event: ev.EventBody) -> bytes:
    return encoder.encode(EventMsg(seq=seq, at=at, event=event))
