"""Provides the websocket server: the handshake, roles, command handling and start-up.

A connection's first frame is ``create`` or ``hello``; after a ``hello`` the connection
holds an actor (participant or facilitator) decided here from its credential, then every
frame is a command. Each frame is answered with an ``ack`` after its events are durable,
or an ``error`` that changed nothing; no frame can end the handler but a closed socket.
"""

from __future__ import annotations

import asyncio
import logging
import math
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from server import credentials as cred
from server.limits import AttemptCounter, Limits, TokenBucket
from server.outbox import Deliver, Outbox, Sink, batch, deliver
from server.room import Conn, Room
from server.store import EventStore, SessionRow, open_store
from workshop import commands as c
from workshop.agenda import CHECKIN_STAGES, DEFAULT_STAGES
from workshop.protocol import (
    PROTOCOL_VERSION,
    Ack,
    Create,
    Created,
    Error,
    Hello,
    Welcome,
    decode_inbound,
    encode,
    encoder,
)
from workshop.rules import Actor, Rejection, decide, decide_create, decide_join
from workshop.state import State

log = logging.getLogger("workshop.server")

# How old the list of other servers in a welcome may be: a new server is told to clients within
# this, and a dead one drops out of it (clients skip an unreachable server in any case).
PEERS_SECONDS = 5.0


class HandshakeRefused(Exception):
    """A handshake that cannot go on; its error is sent before the socket closes."""

    def __init__(self, error: Error) -> None:
        super().__init__(error.message)
        self.error = error


def _wait(seconds: float) -> str:
    """A wait a person can act on: never "0.0 s"."""
    return "a moment" if seconds < 1 else f"{math.ceil(seconds)} s"


class WorkshopServer:
    """The sessions of one log: each loaded on first use and let go of when idle.

    Start-up reads nothing but the schema, so a log with years of finished sessions starts as
    fast as an empty one, and memory holds only the rooms someone is in (or left moments ago).
    """

    def __init__(
        self,
        store: EventStore,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.time,
        deliver: Deliver = deliver,  # type: ignore[assignment]
    ) -> None:
        self.store = store
        self.limits = limits or Limits()
        self.clock = clock
        self.deliver = deliver
        self.rooms: dict[str, Room] = {}  # the loaded ones
        self._codes: dict[str, str] = {}  # join code -> session, for loaded rooms
        self._loading: dict[str, asyncio.Future[Room | None]] = {}
        self._idle_timers: dict[str, asyncio.TimerHandle] = {}
        self.failures = AttemptCounter(self.limits.join_failures_per_minute)
        self.creates = AttemptCounter(self.limits.creates_per_minute)
        self._peer_urls: tuple[str, ...] | None = None  # other servers sharing the log, as last read
        self._peers_read = -PEERS_SECONDS
        self._peers_reading: asyncio.Future[None] | None = None

    # -- rooms ---------------------------------------------------------------------------------

    async def room(self, session: str) -> Room | None:
        """The room of ``session``, loading it from the log if it is not in memory."""
        if (room := self.rooms.get(session)) is not None:
            return room
        loading = self._loading.get(session)
        if loading is None:
            loading = asyncio.get_running_loop().create_future()
            self._loading[session] = loading
            try:
                stored = await asyncio.to_thread(self.store.load, session) if session else None
                if stored is not None and (owner := await asyncio.to_thread(self.store.claim, session)) is not None:
                    # Another server (sharing this log) serves it: the client goes there.
                    raise HandshakeRefused(Error(code="moved", message="another server serves this session", url=owner))
                room = None if stored is None else self._new_room(stored.row)
                if room is not None and stored is not None:
                    room.load(stored)
                    self._register(room)
                loading.set_result(room)
            except BaseException as exc:
                loading.set_exception(exc)
                raise
            finally:
                del self._loading[session]
        return await asyncio.shield(loading)

    async def room_by_code(self, code: str) -> Room | None:
        session = self._codes.get(code) or await asyncio.to_thread(self.store.session_by_code, code)
        return None if session is None else await self.room(session)

    async def admit(self, code: str, address: str) -> str:
        """Check a join code from ``address`` for a door (SSH, web), as ``hello`` would; raise if not.

        Wrong codes count against the address exactly as a websocket ``hello``'s do, so a door
        is no faster way to guess them. Returns the code as the server writes it.
        """
        wait = self.failures.wait(address)
        if wait:
            raise HandshakeRefused(Error(code="rate_limited", message=f"too many failed attempts; wait {_wait(wait)}"))
        room = await self.room_by_code(cred.normalise_code(code))
        if room is None:
            self._fail(address, "no session has that join code")
        return room.row.code

    def _new_room(self, row: SessionRow) -> Room:
        limits = self.limits
        return Room(
            row, self.store, self.clock, self.deliver, tail_size=limits.tail_events, join_linger=limits.join_linger
        )

    def _register(self, room: Room) -> None:
        self.rooms[room.id] = room
        self._codes[room.row.code] = room.id
        self._idle_check(room)

    def _idle_check(self, room: Room) -> None:
        """Let ``room`` go once it has stayed idle (nobody in, nothing being written) for a while."""
        timer = self._idle_timers.pop(room.id, None)
        if timer is not None:
            timer.cancel()
        if room.idle:
            loop = asyncio.get_running_loop()
            self._idle_timers[room.id] = loop.call_later(self.limits.room_idle_seconds, self._evict, room)

    def _evict(self, room: Room) -> None:
        self._idle_timers.pop(room.id, None)
        if room.idle and self.rooms.get(room.id) is room:
            del self.rooms[room.id]
            self._codes.pop(room.row.code, None)
            self.store.release(room.id)

    def close(self) -> None:
        """Stop the idle timers and close the log (after the websocket server has closed)."""
        for timer in self._idle_timers.values():
            timer.cancel()
        self._idle_timers.clear()
        self.store.close()

    # -- the connection handler ----------------------------------------------------------

    async def handler(self, ws: ServerConnection) -> None:
        address = str(ws.remote_address[0]) if ws.remote_address else ""
        outbox = Outbox(ws, self.limits.outbox_bytes)
        conn: Conn | None = None
        room: Room | None = None
        try:
            room, conn = await self._handshake(ws, outbox, address)
            bucket = TokenBucket(self.limits.commands_per_second, self.limits.command_burst)
            async for frame in ws:
                self.on_frame(room, conn, bucket, frame)
        except HandshakeRefused as refused:
            outbox.put(encode(refused.error))
            await _close_refused(ws)
        except ConnectionClosed:
            pass
        finally:
            if room is not None and conn is not None:
                room.detach(conn)
                self._idle_check(room)

    async def _handshake(self, ws: ServerConnection, outbox: Sink, address: str) -> tuple[Room, Conn]:
        while True:
            frame = await ws.recv()
            if len(frame) > self.limits.max_frame:
                raise HandshakeRefused(
                    Error(code="too_large", message=f"message is over {self.limits.max_frame} bytes")
                )
            msg = decode_inbound(frame)
            match msg:
                case Error():
                    raise HandshakeRefused(msg)
                case Create():
                    outbox.put(encode(await self.create(msg, address)))
                case Hello():
                    return await self.hello(msg, outbox, address)
                case _:
                    raise HandshakeRefused(Error(code="not_joined", message="send hello before any command"))

    async def create(self, msg: Create, address: str) -> Created:
        """Open a new session for ``msg``; its sender will be its facilitator."""
        wait = self.creates.wait(address)
        if wait:
            message = f"too many new sessions from this address; wait {_wait(wait)}"
            raise HandshakeRefused(Error(code="rate_limited", message=message, retry_after=wait))
        self.creates.record(address)
        previous = await self._continued(msg, address) if msg.continues else None
        default = CHECKIN_STAGES if previous is not None else DEFAULT_STAGES
        agenda = tuple(msg.agenda) if msg.agenda else default
        secret = cred.new_secret()
        row = SessionRow(
            id=cred.new_id(),
            code=cred.new_code(),
            secret_hash=cred.digest(secret),
            epoch=cred.new_id(),
            created=self.clock(),
        )
        events = decide_create(row.id, msg.goal, agenda, now=row.created, continues=previous)
        facilitator = Actor(id=cred.new_id(), seal_key=cred.seal_key(secret))
        room = self._new_room(row)
        if not isinstance(events, Rejection):
            joined = decide_join(room.decided, facilitator.id, msg.name or "Facilitator", "facilitator")
            events = joined if isinstance(joined, Rejection) else events + joined
        if isinstance(events, Rejection):
            raise HandshakeRefused(Error(code=events.code, message=events.message))
        member = (facilitator.id, cred.digest(secret))
        await self._stored(room.submit(events, actor=facilitator, new_session=row, member=member))
        await asyncio.to_thread(self.store.claim, row.id)  # new: nobody else can serve it yet
        self._register(room)
        log.info("session %s created", row.id)
        return Created(session=row.id, code=row.code, secret=secret)

    async def _continued(self, msg: Create, address: str) -> State:
        """The state a check-in continues, if the creator is one of its facilitators (else refused)."""
        room = await self.room(msg.continues)
        pid = None if room is None else self._member(room, msg.continues_secret)
        if room is None or pid is None or room.published.role_of(pid) != "facilitator":
            self._fail(address, "a check-in needs a facilitator's secret of the session it continues")
        return room.published  # what is durable: a check-in never carries what a failed write lost

    async def hello(self, msg: Hello, outbox: Sink, address: str) -> tuple[Room, Conn]:
        """Admit the sender of ``msg`` to a session and queue what it needs to catch up."""
        if msg.version != PROTOCOL_VERSION:
            message = f"this server speaks protocol {PROTOCOL_VERSION}, not {msg.version}; update workshop"
            raise HandshakeRefused(Error(code="unsupported_version", message=message))
        wait = self.failures.wait(address)
        if wait:
            message = f"too many failed attempts; wait {_wait(wait)}"
            raise HandshakeRefused(Error(code="rate_limited", message=message, retry_after=wait))
        token = ""
        if msg.code:
            room = await self.room_by_code(cred.normalise_code(msg.code))
            if room is None or (msg.session and msg.session != room.id):
                self._fail(address, "no session has that join code")
            actor, token = await self._join(room, msg)
        elif credential := msg.token or msg.secret:
            room = await self.room(msg.session)
            pid = self._member(room, credential) if room is not None else None
            if room is None or pid is None:
                self._fail(address, "that token or secret is not valid for this session")
            actor = Actor(id=pid, seal_key=cred.seal_key(credential))
        else:
            raise HandshakeRefused(Error(code="unauthorised", message="hello needs a join code, a token or a secret"))
        role = room.published.role_of(actor.id)
        if role is None:
            raise HandshakeRefused(Error(code="forbidden", message="a facilitator removed you from this session"))
        conn = Conn(actor=actor, outbox=outbox)
        await self._welcome(room, conn, msg, token, role)
        room.attach(conn, welcomed_at=room.published.seq)
        self._idle_check(room)
        return room, conn

    @staticmethod
    def _member(room: Room, credential: str) -> str | None:
        """Whose credential this is in ``room``: a participant's token or a facilitator's secret."""
        pid = room.members.get(cred.digest(credential))
        if pid is None and room.published.participants and cred.matches(credential, room.row.secret_hash):
            # A session created by release 0.1 stored its creator's secret only on the session row.
            pid = next(iter(room.published.participants))
        return pid

    async def _join(self, room: Room, msg: Hello) -> tuple[Actor, str]:
        """A first join by code: a new participant, or the same one again if this join was already made.

        A client may bring its own token (kept in its seat file before it connects), so a join
        whose welcome was lost, retried with the same token, is the same person, not a second.
        """
        token = msg.token or cred.new_token()
        if msg.token:
            if not cred.acceptable_token(token):
                raise HandshakeRefused(
                    Error(code="invalid", message="a token must be 22 to 128 random URL-safe characters")
                )
            pid = room.members.get(cred.digest(token))
            if pid is not None:
                if pid not in room.published.participants:  # that same join is still being saved
                    raise HandshakeRefused(
                        Error(code="server_error", message="your join is still being saved; try again")
                    )
                return Actor(id=pid, seal_key=cred.seal_key(token)), token
        actor = Actor(id=cred.new_id(), seal_key=cred.seal_key(token))
        events = decide_join(room.decided, actor.id, msg.name.strip(), "participant")
        if isinstance(events, Rejection):
            raise HandshakeRefused(Error(code=events.code, message=events.message))
        await self._stored(room.submit(events, actor=actor, member=(actor.id, cred.digest(token))))
        return actor, token

    async def _peers(self) -> tuple[str, ...]:
        """The other servers on this log, for welcomes: read again, meanwhile, every ``PEERS_SECONDS``."""
        if not self.store.shared:
            return ()
        now = time.monotonic()
        if now - self._peers_read >= PEERS_SECONDS:
            self._peers_read = now
            self._peers_reading = asyncio.ensure_future(self._read_peers())
        if self._peer_urls is None and self._peers_reading is not None:
            await asyncio.shield(self._peers_reading)  # never read yet: the first hellos wait, not take ()
        return self._peer_urls or ()

    async def _read_peers(self) -> None:
        try:
            self._peer_urls = tuple(await asyncio.to_thread(self.store.peers))
        except Exception as exc:  # the database is unwell: clients keep what they were told
            log.warning("could not list the other servers: %r", exc)
            self._peer_urls = self._peer_urls or ()

    @staticmethod
    async def _stored(fut: asyncio.Future[None]) -> None:
        """Wait for a handshake's write; a failed one refuses the handshake, changing nothing."""
        try:
            await fut
        except Exception as exc:
            log.error("could not store a handshake: %r", exc)
            raise HandshakeRefused(
                Error(code="server_error", message="the server could not save that; try again shortly")
            ) from exc

    def _fail(self, address: str, message: str) -> NoReturn:
        self.failures.record(address)
        raise HandshakeRefused(Error(code="unauthorised", message=message))

    async def _welcome(self, room: Room, conn: Conn, msg: Hello, token: str, role: str) -> None:
        """Queue the welcome and, on a resume the log can serve, exactly what was missed."""
        servers = await self._peers()  # before anything of the room is read: it may move on meanwhile
        you = conn.actor.id
        common = dict(
            session=room.id,
            epoch=room.row.epoch,
            you=you,
            role=role,
            token=token,
            online=(*(p for p in room.online() if p != you), you),
            now=self.clock(),
            servers=servers,
        )
        last = msg.last_seq
        if last is not None and msg.epoch == room.row.epoch and 0 <= last <= room.published.seq and not token:
            backlog = room.backlog_for(conn.actor, last)
            if backlog is None:  # further back than the tail: read it from the log
                backlog = await room.backlog_from_store(conn.actor, last)
            conn.outbox.put(encode(Welcome(seq=last, **common)))
            for start in range(0, len(backlog), 500):  # a long absence comes back in few frames
                conn.outbox.put(batch(backlog[start : start + 500]))
            return
        reset = last is not None
        snapshot = room.snapshot_for(conn.actor)
        conn.outbox.put(encode(Welcome(seq=snapshot.seq, snapshot=snapshot, reset=reset, **common)))

    # -- commands ----------------------------------------------------------------------------

    def on_frame(self, room: Room, conn: Conn, bucket: TokenBucket, frame: str | bytes) -> None:
        """Answer one frame from a joined connection: an ack once its events are durable, or an error."""
        put = conn.outbox.put
        if len(frame) > self.limits.max_frame:
            message = f"message is {len(frame)} bytes; the limit is {self.limits.max_frame}"
            put(encode(Error(code="too_large", message=message)))
            return
        msg = decode_inbound(frame)
        if isinstance(msg, Error):
            put(encode(msg))
            return
        if not isinstance(msg, c.Command):
            put(encode(Error(code="malformed", message="already joined; send commands only")))
            return
        wait = bucket.take()
        if wait:
            message = f"too many commands; wait {_wait(wait)}"
            put(encode(Error(id=msg.id, code="rate_limited", message=message, retry_after=wait)))
            return
        actor = conn.actor
        key = cred.command_key(actor.seal_key, msg.id)
        digest = cred.command_digest(actor.seal_key, encoder.encode(msg))
        seen = room.commands.get(key)
        if seen is not None:
            self._replay_ack(room, conn, msg.id, digest, *seen)
            return
        if self.store.behind() > self.limits.unsaved_seconds:  # after the retry check: those cost nothing
            message = "the server is still saving what came before; your change is kept and sent again"
            put(encode(Error(id=msg.id, code="busy", message=message, retry_after=1.0)))
            return
        result = decide(room.decided, actor, msg, self.clock())
        if isinstance(result, Rejection):
            put(encode(Error(id=msg.id, code=result.code, message=result.message)))
            return
        fut = room.submit(result, actor=actor, command=(key, digest))
        fut.add_done_callback(lambda f: self._acknowledge(room, conn, msg.id, key, f))

    def _replay_ack(
        self, room: Room, conn: Conn, cid: str, digest: str, stored: str, outcome: int | asyncio.Future[None]
    ) -> None:
        """A retried command: the same payload gets its original ack, another one an error."""
        if stored != digest:
            message = f"command id {cid} was already used for a different command"
            conn.outbox.put(encode(Error(id=cid, code="id_reused", message=message)))
        elif isinstance(outcome, int):
            room.after_events(conn, encode(Ack(id=cid, seq=outcome)))
        else:
            key = cred.command_key(conn.actor.seal_key, cid)
            outcome.add_done_callback(lambda f: self._acknowledge(room, conn, cid, key, f))

    def _acknowledge(self, room: Room, conn: Conn, cid: str, key: str, fut: asyncio.Future[None]) -> None:
        self._idle_check(room)
        if fut.cancelled() or fut.exception() is not None:
            log.error("could not store command %s: %r", cid, None if fut.cancelled() else fut.exception())
            message = "the server could not save that; it is kept and sent again"
            conn.outbox.put(encode(Error(id=cid, code="server_error", message=message)))
            return
        _, seq = room.commands[key]
        room.after_events(conn, encode(Ack(id=cid, seq=seq if isinstance(seq, int) else room.published.seq)))


async def _close_refused(ws: ServerConnection) -> None:
    """Close after a refusal (the error frame is already written); a stalled peer cannot hold us."""
    try:
        async with asyncio.timeout(2):
            await ws.close(1008, "refused")
    except (TimeoutError, ConnectionClosed):
        pass


def ssl_context(certfile: str | None, keyfile: str | None) -> ssl.SSLContext | None:
    if not certfile:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    return ctx


async def start(
    host: str = "127.0.0.1",
    port: int = 8765,
    db: str | Path = "workshop.db",
    *,
    limits: Limits | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
    compression: bool = False,
    public_url: str = "",
) -> tuple[Server, WorkshopServer]:
    """Open the store and listen; port 0 picks a free port (read it from ``sockets``).

    ``public_url`` is how clients reach this process; with a log shared by several servers, a
    client of another one is sent here for the sessions this process serves.
    """
    limits = limits or Limits()
    app = WorkshopServer(open_store(db), limits)
    server = await serve(
        app.handler,
        host,
        port,
        max_size=limits.max_frame * 4,
        compression="deflate" if compression else None,
        ping_interval=limits.ping_interval,
        ping_timeout=limits.ping_timeout,
        close_timeout=limits.close_timeout,
        origins=[None],
        ssl=ssl_context(certfile, keyfile),
    )
    scheme = "wss" if certfile else "ws"
    await asyncio.to_thread(app.store.serve_as, public_url or f"{scheme}://{host}:{port_of(server)}")
    return server, app


def port_of(server: Server) -> int:
    return next(iter(server.sockets)).getsockname()[1]
