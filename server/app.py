"""Provides the websocket server: the handshake, roles, command handling and start-up.

A connection's first frame is ``create`` or ``hello``; after a ``hello`` the connection
holds an actor (participant or facilitator) decided here from its credential, then every
frame is a command. Each frame is answered with an ``ack`` after its events are durable,
or an ``error`` that changed nothing; no frame can end the handler but a closed socket.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from pathlib import Path

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from server import credentials as cred
from server.limits import AttemptCounter, Limits, TokenBucket
from server.outbox import Outbox, batch
from server.room import Conn, Room, command_digest
from server.store import EventStore, SessionRow
from workshop import commands as c
from workshop.agenda import DEFAULT_STAGES
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

log = logging.getLogger("workshop.server")


class Refused(Exception):
    """A handshake that cannot go on; its error is sent before the socket closes."""

    def __init__(self, error: Error) -> None:
        super().__init__(error.message)
        self.error = error


class WorkshopServer:
    """Every session on this server, loaded from the store at start-up."""

    def __init__(self, store: EventStore, limits: Limits | None = None, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.limits = limits or Limits()
        self.clock = clock
        self.rooms: dict[str, Room] = {}
        self.by_code: dict[str, Room] = {}
        self.failures = AttemptCounter(self.limits.join_failures_per_minute)
        self.creates = AttemptCounter(self.limits.creates_per_minute)
        for row in store.sessions():
            room = Room(row, store, clock)
            room.load()
            self._register(room)

    def _register(self, room: Room) -> None:
        self.rooms[room.id] = room
        self.by_code[room.row.code] = room

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
                self._on_frame(room, conn, bucket, frame)
        except Refused as refused:
            outbox.put(encode(refused.error))
            await _close_refused(ws)
        except ConnectionClosed:
            pass
        finally:
            if room is not None and conn is not None:
                room.detach(conn)

    async def _handshake(self, ws: ServerConnection, outbox: Outbox, address: str) -> tuple[Room, Conn]:
        while True:
            frame = await ws.recv()
            if len(frame) > self.limits.max_frame:
                raise Refused(Error(code="too_large", message=f"message is over {self.limits.max_frame} bytes"))
            msg = decode_inbound(frame)
            match msg:
                case Error():
                    raise Refused(msg)
                case Create():
                    wait = self.creates.wait(address)
                    if wait:
                        message = f"too many new sessions from this address; wait {wait:.0f} s"
                        raise Refused(Error(code="rate_limited", message=message, retry_after=wait))
                    self.creates.record(address)
                    outbox.put(encode(await self._create(msg)))
                case Hello(version=version) if version != PROTOCOL_VERSION:
                    message = f"this server speaks protocol {PROTOCOL_VERSION}, not {version}; update workshop"
                    raise Refused(Error(code="unsupported_version", message=message))
                case Hello():
                    return await self._hello(msg, outbox, address)
                case _:
                    raise Refused(Error(code="not_joined", message="send hello before any command"))

    async def _create(self, msg: Create) -> Created:
        agenda = tuple(msg.agenda) if msg.agenda else DEFAULT_STAGES
        secret = cred.new_secret()
        row = SessionRow(id=cred.new_id(), code=cred.new_code(), secret_hash=cred.digest(secret), epoch=cred.new_id())
        events = decide_create(row.id, msg.goal, agenda)
        facilitator = cred.new_id()
        room = Room(row, self.store, self.clock)
        if not isinstance(events, Rejection):
            joined = decide_join(room.decided, facilitator, msg.name or "Facilitator", "facilitator")
            events = joined if isinstance(joined, Rejection) else events + joined
        if isinstance(events, Rejection):
            raise Refused(Error(code=events.code, message=events.message))
        await room.submit(events, actor=facilitator, new_session=row)
        self._register(room)
        log.info("session %s created", row.id)
        return Created(session=row.id, code=row.code, secret=secret)

    async def _hello(self, msg: Hello, outbox: Outbox, address: str) -> tuple[Room, Conn]:
        wait = self.failures.wait(address)
        if wait:
            raise Refused(
                Error(code="rate_limited", message=f"too many failed attempts; wait {wait:.0f} s", retry_after=wait)
            )
        token = ""
        if msg.code:
            room = self.by_code.get(cred.normalise_code(msg.code))
            if room is None or (msg.session and msg.session != room.id):
                self._fail(address, "no session has that join code")
            token = cred.new_token()
            pid = cred.new_id()
            events = decide_join(room.decided, pid, msg.name.strip(), "participant")
            if isinstance(events, Rejection):
                raise Refused(Error(code=events.code, message=events.message))
            await room.submit(events, actor=pid, member=(pid, cred.digest(token)))
            actor = Actor(id=pid, role="participant", seal_key=cred.seal_key(token))
        elif msg.token:
            room = self.rooms.get(msg.session)
            pid = room.members.get(cred.digest(msg.token)) if room else None
            if room is None or pid is None:
                self._fail(address, "that participant token is not valid for this session")
            actor = Actor(id=pid, role="participant", seal_key=cred.seal_key(msg.token))
        elif msg.secret:
            room = self.rooms.get(msg.session)
            if room is None or not cred.matches(msg.secret, room.row.secret_hash):
                self._fail(address, "that facilitator secret is not valid for this session")
            pid = next(p.id for p in room.published.participants.values() if p.role == "facilitator")
            actor = Actor(id=pid, role="facilitator", seal_key=cred.seal_key(msg.secret))
        else:
            raise Refused(Error(code="unauthorised", message="hello needs a join code, a token or a secret"))
        conn = Conn(actor=actor, outbox=outbox, address=address)
        self._welcome(room, conn, msg, token)
        room.attach(conn, welcomed_at=room.published.seq)
        return room, conn

    def _fail(self, address: str, message: str) -> None:
        self.failures.record(address)
        raise Refused(Error(code="unauthorised", message=message))

    def _welcome(self, room: Room, conn: Conn, msg: Hello, token: str) -> None:
        """Queue the welcome and, on a resume the log can serve, exactly what was missed."""
        state = room.published
        common = dict(
            session=room.id,
            epoch=room.row.epoch,
            you=conn.actor.id,
            role=conn.actor.role,
            token=token,
            online=room.online(),
        )
        last = msg.last_seq
        if last is not None and msg.epoch == room.row.epoch and 0 <= last <= state.seq and not token:
            conn.outbox.put(encode(Welcome(seq=last, **common)))
            backlog = room.backlog_for(conn.actor, last)
            for start in range(0, len(backlog), 500):  # a long absence comes back in few frames
                conn.outbox.put(batch(backlog[start : start + 500]))
            return
        reset = last is not None
        conn.outbox.put(encode(Welcome(seq=state.seq, snapshot=room.snapshot_for(conn.actor), reset=reset, **common)))

    # -- commands ----------------------------------------------------------------------------

    def _on_frame(self, room: Room, conn: Conn, bucket: TokenBucket, frame: str | bytes) -> None:
        put = conn.outbox.put
        if len(frame) > self.limits.max_frame:
            put(
                encode(
                    Error(
                        code="too_large", message=f"message is {len(frame)} bytes; the limit is {self.limits.max_frame}"
                    )
                )
            )
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
            put(
                encode(
                    Error(
                        id=msg.id,
                        code="rate_limited",
                        message=f"too many commands; wait {wait:.1f} s",
                        retry_after=wait,
                    )
                )
            )
            return
        actor = conn.actor
        digest = command_digest(encoder.encode(msg))
        seen = room.commands.get((actor.id, msg.id))
        if seen is not None:
            self._replay_ack(room, conn, msg.id, digest, *seen)
            return
        result = decide(room.decided, actor, msg, self.clock())
        if isinstance(result, Rejection):
            put(encode(Error(id=msg.id, code=result.code, message=result.message)))
            return
        fut = room.submit(result, actor=actor.id, command=(msg.id, digest))
        fut.add_done_callback(lambda f: self._acknowledge(room, conn, msg.id, f))

    def _replay_ack(
        self, room: Room, conn: Conn, cid: str, digest: str, stored: str, outcome: int | asyncio.Future[None]
    ) -> None:
        """A retried command: the same payload gets its original ack, another one an error."""
        if stored != digest:
            conn.outbox.put(
                encode(
                    Error(
                        id=cid, code="id_reused", message=f"command id {cid} was already used for a different command"
                    )
                )
            )
        elif isinstance(outcome, int):
            room.after_events(conn, encode(Ack(id=cid, seq=outcome)))
        else:
            outcome.add_done_callback(lambda f: self._acknowledge(room, conn, cid, f))

    def _acknowledge(self, room: Room, conn: Conn, cid: str, fut: asyncio.Future[None]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            log.error("could not store command %s: %r", cid, None if fut.cancelled() else fut.exception())
            conn.outbox.put(
                encode(Error(id=cid, code="server_error", message="the server could not store that; try again"))
            )
            return
        _, seq = room.commands[(conn.actor.id, cid)]
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
) -> tuple[Server, WorkshopServer]:
    """Open the store and listen; port 0 picks a free port (read it from ``sockets``)."""
    limits = limits or Limits()
    app = WorkshopServer(EventStore(db), limits)
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
    return server, app


def port_of(server: Server) -> int:
    return next(iter(server.sockets)).getsockname()[1]
