"""Faults over real sockets on 127.0.0.1: drops, half-open links, a killed server, a stalled reader.

Nothing here sleeps to synchronise: every wait is on a condition with a timeout.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from msgspec.structs import replace
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as serve_websocket

from client.connection import Connection, Credentials, create_session
from server import credentials as cred
from server.limits import Limits
from server.transcript import load_session
from tests.conftest import LiveServer, start_server, stop_server
from tests.processes import kill, serve
from workshop import commands as c
from workshop.audience import view_state
from workshop.events import GoalSet
from workshop.protocol import Ack, Batch, Error, EventMsg, Hello, Welcome, encode, inbound_decoder, outbound_decoder
from workshop.rules import Actor
from workshop.state import State

IDEAS = 3  # "Stop / Start / Continue" in the default agenda
FAST = dict(ping_interval=0.5, ping_timeout=0.5, reconnect_max_delay=1.0)


async def eventually(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Wait until ``condition()`` holds, re-checking on every short tick; fail after ``timeout``."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


# -- a client that records what crossed the wire to it --------------------------------------


class Watched(Connection):
    """A Connection that keeps every welcome and every event seq it received and applied."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)
        self.welcomes: list[Welcome] = []
        self.received: list[int] = []
        self.applied: list[int] = []

    def _on_welcome(self, w: Welcome) -> None:
        self.welcomes.append(w)
        super()._on_welcome(w)

    def _on_message(self, msg: object) -> None:
        if isinstance(msg, EventMsg):
            self.received.append(msg.seq)
        elif isinstance(msg, Batch):
            self.received.extend(m.seq for m in msg.events)
        super()._on_message(msg)

    def _apply(self, msg: EventMsg) -> None:
        before = self.state.seq if self.state else 0
        super()._apply(msg)
        if self.state is not None and self.state.seq != before:
            self.applied.append(msg.seq)


def server_view(live: LiveServer, conn: Connection) -> State:
    """What the server says ``conn``'s replica must be: the full state through its audience."""
    room = live.app.rooms[conn.creds.session]
    key = cred.seal_key(conn.creds.token or conn.creds.secret)
    return view_state(room.published, Actor(id=conn.you, seal_key=key))


def assert_exact_history(conn: Watched) -> None:
    """Every event after the first snapshot arrived once and was applied once, in order."""
    assert len(conn.received) == len(set(conn.received)), f"an event came twice: {conn.received}"
    start = conn.welcomes[0].seq
    assert conn.applied == list(range(start + 1, conn.state.seq + 1)), "an event is missing or out of order"


# -- a TCP relay whose links can be frozen (a half-open connection: no FIN, no RST) ----------


class Link:
    def __init__(self) -> None:
        self.up = asyncio.Event()  # client -> server flows while set
        self.down = asyncio.Event()  # server -> client flows while set
        self.up.set()
        self.down.set()


class Proxy:
    """Relays 127.0.0.1 TCP to a target port; can hold new links and freeze the current ones."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.links: list[Link] = []
        self.admit = asyncio.Event()
        self.admit.set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    def freeze(self, *, up: bool = True, down: bool = True) -> None:
        """Stop relaying on every current link, keeping both sockets open."""
        for link in self.links:
            if up:
                link.up.clear()
            if down:
                link.down.clear()

    async def _accept(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        self._writers.append(cwriter)
        await self.admit.wait()
        sreader, swriter = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers.append(swriter)
        link = Link()
        self.links.append(link)
        for reader, writer, gate in ((creader, swriter, link.up), (sreader, cwriter, link.down)):
            task = asyncio.create_task(self._pipe(reader, writer, gate))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, gate: asyncio.Event) -> None:
        try:
            while data := await reader.read(65536):
                await gate.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if gate.is_set():
                writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for writer in self._writers:
            writer.transport.abort()
        await asyncio.gather(*self._tasks, return_exceptions=True)


# -- scenarios -------------------------------------------------------------------------------


async def _room_in_ideas_stage(live: LiveServer, url: str, **kw: object) -> tuple[Connection, Connection, Watched]:
    fac, code = await live.facilitator()
    ben = await live.participant(code, "Ben")
    ana = Watched(Credentials(url=url, code=code, name="Ana"), **{**FAST, **kw})
    await ana.start()
    live.clients.append(ana)
    await fac.do(c.SetStage, index=IDEAS)
    await ana.wait_for(lambda s: s.stage_index == IDEAS)
    await ana.do(c.PostIdea, category="start", text="Webinars", anonymous=True)
    await ben.do(c.PostIdea, category="stop", text="Cold calls")
    return fac, ben, ana


def _server_conns(live: LiveServer, conn: Connection) -> set:
    return live.app.rooms[conn.creds.session].conns.get(conn.you, set())


async def _drop(kind: str, live: LiveServer, ana: Connection) -> None:
    if kind == "server closes":
        for conn in list(_server_conns(live, ana)):
            await conn.outbox.ws.close(1001, "going away")
    elif kind == "server aborts":
        for conn in list(_server_conns(live, ana)):
            conn.outbox.ws.transport.abort()
    elif kind == "client closes":
        await ana._ws.close()
    else:
        ana._ws.transport.abort()


@pytest.mark.parametrize("kind", ["server closes", "server aborts", "client closes", "client aborts"])
async def test_dropped_participant_resumes_exactly(tmp_path: Path, kind: str) -> None:
    """Without this, a participant whose connection drops mid-stage would miss ideas or see them twice."""
    live = await start_server(tmp_path / "w.db")
    proxy = Proxy(int(live.url.rsplit(":", 1)[1]))
    try:
        fac, ben, ana = await _room_in_ideas_stage(live, await proxy.start())
        proxy.admit.clear()  # hold the reconnect until the room has moved on
        await _drop(kind, live, ana)
        await ana.wait_status("reconnecting")
        missed = [await ben.do(c.PostIdea, category="continue", text=f"Missed {i}") for i in range(3)]
        await fac.do(c.SetKpi, name="Reach", value="48,000")
        proxy.admit.set()
        await ana.wait_status("online")
        final = live.app.rooms[fac.creds.session].published.seq
        await ana.wait_for(lambda s: s.seq == final)

        resume = ana.welcomes[-1]
        assert resume.snapshot is None and not resume.reset, "the server sent a snapshot instead of the backlog"
        assert resume.seq < missed[0]
        assert ana.state == server_view(live, ana)
        assert_exact_history(ana)
        assert ana.reconnects == 1
    finally:
        await proxy.close()
        await stop_server(live)


async def test_half_open_link_resumes_and_commands_apply_once(tmp_path: Path) -> None:
    """Without this, a silently dead network path would hang a participant or apply their idea twice."""
    live = await start_server(tmp_path / "w.db", Limits(ping_interval=0.5, ping_timeout=0.5, close_timeout=0.5))
    proxy = Proxy(int(live.url.rsplit(":", 1)[1]))
    try:
        fac, ben, ana = await _room_in_ideas_stage(live, await proxy.start())
        room = live.app.rooms[fac.creds.session]

        # The server hears this one, but its ack never comes back.
        proxy.freeze(up=False, down=True)
        heard = ana.send_nowait(c.PostIdea(id=ana.new_id(), category="start", text="Heard, ack lost"))
        await eventually(lambda: any(i.text == "Heard, ack lost" for i in room.published.ideas.values()))
        # Then the link goes silent both ways; this one never reaches the server.
        proxy.freeze()
        unheard = ana.send_nowait(c.PostIdea(id=ana.new_id(), category="start", text="Sent into the void"))
        proxy.admit.clear()
        await ben.do(c.PostIdea, category="continue", text="While Ana is away")
        await ana.wait_status("reconnecting", timeout=10)  # her pings timed out
        await eventually(lambda: not _server_conns(live, ana), 5, "the server to drop the dead link")
        proxy.admit.set()

        async with asyncio.timeout(10):
            seqs = [await heard, await unheard]
        await ana.wait_for(lambda s: s.seq == room.published.seq)

        texts = [i.text for i in room.published.ideas.values()]
        assert texts.count("Heard, ack lost") == 1 and texts.count("Sent into the void") == 1
        mine = {i.id for i in room.published.ideas.values() if i.text in ("Heard, ack lost", "Sent into the void")}
        assert {str(s) for s in seqs} == mine, "the retried commands were not acked with their first seq"
        assert ana.state == server_view(live, ana)
        assert ben.state.seq == room.published.seq
        assert_exact_history(ana)
    finally:
        await proxy.close()
        await stop_server(live)


async def test_unservable_last_seq_gets_a_reset_snapshot(live: LiveServer) -> None:
    """Without this, a client with a stale or forged position would keep a replica that silently differs."""
    fac, code = await live.facilitator()
    ana = await live.participant(code, "Ana")
    await fac.do(c.SetGoal, goal="45 leads")
    room = live.app.rooms[fac.creds.session]
    seq, epoch = room.published.seq, room.row.epoch
    cases = {
        "from the start": (0, epoch, False),
        "very old": (1, epoch, False),
        "current": (seq, epoch, False),
        "ahead of the log": (seq + 5, epoch, True),
        "wrong epoch": (seq - 1, "another-epoch", True),
        "no epoch": (seq - 1, "", True),
        "negative": (-1, epoch, True),
        "huge": (10**30, epoch, True),
    }
    for name, (last, ep, reset) in cases.items():
        hello = Hello(session=ana.creds.session, token=ana.creds.token, last_seq=last, epoch=ep)
        async with connect(live.url, proxy=None) as ws:
            await ws.send(encode(hello), text=True)
            welcome = outbound_decoder.decode(await ws.recv())
        assert isinstance(welcome, Welcome), name
        assert welcome.reset is reset, name
        if reset:
            assert welcome.snapshot is not None and welcome.seq == seq, name
        else:
            assert welcome.snapshot is None and welcome.seq == last, name


def _count(db: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


async def _ask(url: str, hello: Hello, frame: bytes) -> object:
    """Join with ``hello``, send one command frame, return the ack or error it gets."""
    async with connect(url, proxy=None) as ws:
        await ws.send(encode(hello), text=True)
        assert isinstance(outbound_decoder.decode(await ws.recv()), Welcome)
        await ws.send(frame, text=True)
        async with asyncio.timeout(5):
            while True:
                msg = outbound_decoder.decode(await ws.recv())
                if isinstance(msg, Ack | Error):
                    return msg


async def test_retried_command_is_deduplicated_across_restart(tmp_path: Path) -> None:
    """Without this, a retry that lands on a restarted server would post the same idea twice."""
    db = tmp_path / "w.db"
    live = await start_server(db)
    try:
        fac, code = await live.facilitator()
        await fac.do(c.SetStage, index=IDEAS)
        ana = await live.participant(code, "Ana")
        session, token = ana.creds.session, ana.creds.token
        await ana.close()
        hello = Hello(session=session, token=token)
        cmd = c.PostIdea(id="ana-1", category="start", text="Webinars")
        first = await _ask(live.url, hello, encode(cmd))
        assert isinstance(first, Ack)
    finally:
        await stop_server(live)

    events = _count(db, "events")
    again = await start_server(db)
    try:
        retry = await _ask(again.url, hello, encode(cmd))
        assert retry == first, "the retry was not answered with the original ack"
        other = await _ask(again.url, hello, encode(c.PostIdea(id="ana-1", category="start", text="Podcasts")))
        assert isinstance(other, Error) and other.code == "id_reused"
        assert _count(db, "events") == events
        texts = [i.text for i in again.app.rooms[session].published.ideas.values()]
        assert texts == ["Webinars"]
    finally:
        await stop_server(again)


# -- a stalled reader ---------------------------------------------------------------------------


async def _stalled_client(port: int, hello: Hello) -> socket.socket:
    """A websocket client built by hand on a socket with a tiny receive buffer that never reads."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    response = b""
    async with asyncio.timeout(5):
        while b"\r\n\r\n" not in response:
            response += await loop.sock_recv(sock, 1)  # byte by byte: leave the frames unread
    assert response.startswith(b"HTTP/1.1 101"), response
    payload = encode(hello)
    mask = os.urandom(4)
    assert len(payload) < 65536
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    frame = bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big") + mask + masked
    await loop.sock_sendall(sock, frame)
    return sock


async def test_stalled_reader_is_cut_and_never_delays_others(tmp_path: Path) -> None:
    """Without this, one frozen terminal would grow the server's memory without bound during a workshop."""
    limit = 32 * 1024
    limits = Limits(outbox_bytes=limit, commands_per_second=10_000, command_burst=10_000)
    live = await start_server(tmp_path / "w.db", limits)
    sock = None
    try:
        fac, code = await live.facilitator()
        ben = await live.participant(code, "Ben")
        stuck = await live.participant(code, "Stuck")
        await stuck.close()
        await fac.do(c.SetStage, index=IDEAS)
        room = live.app.rooms[fac.creds.session]
        sock = await _stalled_client(int(live.url.rsplit(":", 1)[1]), Hello(session=room.id, token=stuck.creds.token))
        await eventually(lambda: stuck.you in room.conns, what="the stalled client to join")
        (conn,) = room.conns[stuck.you]

        peak = 0
        text = "x" * 480
        posted = 0
        async with asyncio.timeout(60):
            while stuck.you in room.conns:
                await asyncio.gather(
                    *(fac.do(c.PostIdea, category="start", text=f"{text} {posted + i}") for i in range(20))
                )
                posted += 20
                if conn.outbox.ws.transport is not None:
                    peak = max(peak, conn.outbox.ws.transport.get_write_buffer_size())
                await ben.wait_for(lambda s: s.seq == room.published.seq, timeout=5)
        assert conn.outbox.overflowed, "the stalled connection left for another reason"
        # The backlog never grew past the bound by more than one flush of frames.
        assert peak <= limit + 20 * 1024
        more = await fac.do(c.PostIdea, category="start", text="after the cut")
        await ben.wait_for(lambda s: s.seq >= more)
        assert ben.state == server_view(live, ben)
    finally:
        if sock is not None:
            sock.close()
        await stop_server(live)


# -- a killed server ------------------------------------------------------------------------------


@pytest.mark.parametrize("log", ["sqlite", "postgresql"])
async def test_server_killed_while_participants_post(tmp_path: Path, log: str, request: pytest.FixtureRequest) -> None:
    """Without this, a crashed server would lose ideas it had already confirmed, or strand the room."""
    db: Path | str = tmp_path / "w.db" if log == "sqlite" else request.getfixturevalue("postgres_url")
    proc, port = await serve(db)
    # Clients reach the server through a relay, so the restarted server can take any free port
    # (another process could have taken the old one) while their address stays the same.
    relay = Proxy(port)
    url = await relay.start()
    clients: list[Connection] = []
    posters: list[asyncio.Task[None]] = []
    try:
        created = await create_session(url, goal="30 leads")
        fac = Connection(Credentials(url=url, session=created.session, secret=created.secret), **FAST)
        await fac.start()
        clients.append(fac)
        people = []
        for name in ("Ana", "Ben"):
            conn = Watched(Credentials(url=url, code=created.code, name=name), **FAST)
            await conn.start()
            clients.append(conn)
            people.append(conn)
        await fac.do(c.SetStage, index=IDEAS)

        acked: dict[str, int] = {}
        enough = asyncio.Event()

        async def post(conn: Connection, who: str) -> None:
            for i in range(15):
                text = f"{who} idea {i}"
                acked[text] = await conn.do(c.PostIdea, category="start", text=text)
                if len(acked) >= 8:
                    enough.set()

        posters += [asyncio.create_task(post(p, p.creds.name)) for p in people]
        async with asyncio.timeout(20):
            await enough.wait()
        await kill(proc)
        confirmed = dict(acked)

        durable = load_session(db, created.session)
        assert durable is not None
        by_text = {i.text: i.id for i in durable.ideas.values()}
        for text, seq in confirmed.items():
            assert by_text.get(text) == str(seq), f"acknowledged {text!r} (seq {seq}) is not in the log"

        proc, relay.target = await serve(db)
        async with asyncio.timeout(30):
            await asyncio.gather(*posters)
            await asyncio.gather(*(p.wait_status("online") for p in clients))
        final = load_session(db, created.session)
        texts = [i.text for i in final.ideas.values()]
        assert sorted(texts) == sorted(f"{who} idea {i}" for who in ("Ana", "Ben") for i in range(15))
        for conn in clients:
            await conn.wait_for(lambda s: s.seq == final.seq)
            assert len({i.text for i in conn.state.ideas.values()}) == 30
        for p in people:
            assert len(p.received) == len(set(p.received)), "an event came twice"
            assert p.reconnects >= 1
    finally:
        for task in posters:
            task.cancel()
        await asyncio.gather(*posters, return_exceptions=True)
        for conn in clients:
            await conn.close()
        await relay.close()
        await kill(proc)


# -- a stream that skips ---------------------------------------------------------------------------


async def test_a_stream_that_skips_is_resynced_with_a_snapshot_and_backoff() -> None:
    """Without this, a client meeting a hole in the stream would reconnect in a tight loop and never catch up."""
    hellos: list[Hello] = []
    at: list[float] = []
    loop = asyncio.get_running_loop()

    async def skipping(ws: ServerConnection) -> None:
        # A broken server (ours never leaves a hole): a snapshot at seq 5, then an event at seq 7.
        hello = inbound_decoder.decode(await ws.recv())
        assert isinstance(hello, Hello)
        hellos.append(hello)
        at.append(loop.time())
        snapshot = replace(State(session="s"), seq=5)
        await ws.send(encode(Welcome(session="s", epoch="e", you="p", role="participant", seq=5, snapshot=snapshot)))
        await ws.send(encode(EventMsg(seq=7, at=0.0, event=GoalSet(goal="x"))))
        await ws.wait_closed()

    async with serve_websocket(skipping, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        conn = Connection(Credentials(url=f"ws://127.0.0.1:{port}", session="s", token="t"), reconnect_max_delay=5.0)
        seen: list[str] = []
        conn.on_change(lambda: seen.append(conn.status))
        try:
            await conn.start()
            await eventually(lambda: len(hellos) >= 4, 20, "four connections")
        finally:
            await conn.close()
    assert "resyncing" in seen, "the app was never told it is fetching a fresh copy"
    assert all(h.last_seq is None for h in hellos[1:]), "it resumed into the same hole instead of asking for a snapshot"
    # websockets' backoff between attempts (a random first delay, then 0.5 s, 0.8 s, ...), not a loop.
    assert at[3] - at[1] >= 0.5 + 0.8
