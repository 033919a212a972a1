"""Several servers, one service: three ``workshop serve`` processes on one PostgreSQL log, one killed.

Each session is served by one process at a time (a PostgreSQL advisory lock): a client that
reaches another process is sent to the owner (``moved``); when the owner dies, its clients try
the next server (given with ``--servers``, or told of by the server in its welcome), which takes
the session over from the log. Nothing acknowledged is lost,
nothing is applied twice, and who wrote an anonymous idea or where a dot went stays hidden
across the move. Skipped, saying why, where PostgreSQL is not installed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from client.apps.host import host_app
from client.connection import Connection, Credentials, create_session
from server.pgstore import PgEventStore
from server.transcript import load_session
from tests.functional.test_faults import FAST, Watched
from tests.functional.test_tui import close, online, settle, text_of
from tests.processes import kill, serve
from workshop import commands as c

IDEAS, VOTE = 3, 7


@dataclass
class Room:
    session: str
    fay: Connection
    ana: Watched
    ben: Watched


async def _room(urls: list[str], home: int) -> Room:
    """A session created on server ``home``; Ben's first hello goes to the next server, which sends him on.

    Fay and Ana are given only their own server's URL, as `workshop join URL/CODE` gives it: they
    learn the others from its welcome. Ben is given them all (``--servers``).
    """
    created = await create_session(urls[home], goal=f"Goal of room {home}")
    fay = Connection(Credentials(url=urls[home], session=created.session, secret=created.secret), **FAST)
    ana = Watched(Credentials(url=urls[home], code=created.code, name="Ana"), **FAST)
    ben = Watched(Credentials(url=urls[(home + 1) % 3], code=created.code, name="Ben"), servers=urls, **FAST)
    for conn in (fay, ana, ben):
        await conn.start()
    assert ben.creds.url == urls[home]  # moved to the server that serves the session
    assert sorted(fay.servers) == sorted(ana.servers) == sorted(urls)  # told of the other two
    await fay.do(c.SetStage, index=IDEAS)
    return Room(created.session, fay, ana, ben)


async def test_sessions_continue_on_the_other_servers_when_one_is_killed(postgres_url: str) -> None:
    """Without this, the death of one server would stop every room in it until someone restarted it."""
    servers = [await serve(postgres_url) for _ in range(3)]
    procs = [proc for proc, _ in servers]
    urls = [f"ws://127.0.0.1:{port}" for _, port in servers]
    rooms: list[Room] = []
    bystander = PgEventStore(postgres_url)  # asks the database which servers are alive
    try:
        assert sorted(await asyncio.to_thread(bystander.peers)) == sorted(urls)
        rooms = [await _room(urls, home) for home in range(3)]
        acked: dict[str, dict[str, int]] = {r.session: {} for r in rooms}

        async def post(room: Room, conn: Connection, text: str, anonymous: bool = False) -> None:
            acked[room.session][text] = await conn.do(c.PostIdea, category="start", text=text, anonymous=anonymous)

        for r in rooms:
            await post(r, r.ana, "Ana's anonymous idea", anonymous=True)
            for i in range(5):
                await post(r, r.ben, f"Ben before {i}")

        await kill(procs[0])  # SIGKILL: its PostgreSQL connection, and with it its locks, go at once
        dead = rooms[0]
        for conn in (dead.fay, dead.ana, dead.ben):  # each saw its connection drop
            await conn.until(lambda conn=conn: conn.reconnects >= 1)
        async with asyncio.timeout(30):
            for i in range(5):
                await post(dead, dead.ana, f"Ana after {i}")  # sent while moving: goes out when it is back
        for conn in (dead.fay, dead.ana, dead.ben):  # each comes back on its own, through another server
            await conn.wait_status("online", timeout=30)
        assert {dead.ana.creds.url, dead.ben.creds.url, dead.fay.creds.url} <= set(urls[1:])
        for r in rooms[1:]:
            await post(r, r.ana, "Ana after the kill")
        # The dead server's lock went with it (its session's lock did: another server took the
        # room), so the database no longer lists it to anyone's clients.
        assert sorted(await asyncio.to_thread(bystander.peers)) == sorted(urls[1:])

        # Vote secrecy across the move: Ben's dot is his alone, before and after the reveal.
        await dead.fay.do(c.SetStage, index=VOTE)
        anonymous = str(acked[dead.session]["Ana's anonymous idea"])
        await dead.ben.wait_for(lambda s: s.stage_index == VOTE)
        await dead.ben.do(c.Vote, idea=anonymous)
        await dead.ana.wait_for(lambda s: s.dots_placed == 1)

        for r in rooms:
            final = load_session(postgres_url, r.session)
            assert final is not None
            by_text = {i.text: i.id for i in final.ideas.values()}
            assert len(by_text) == len(final.ideas), "an idea was applied twice"
            for text, seq in acked[r.session].items():
                assert by_text.get(text) == str(seq), f"acknowledged {text!r} (seq {seq}) is not in the log"
            for conn in (r.fay, r.ana, r.ben):
                await conn.wait_for(lambda s, final=final: s.seq == final.seq)
            for conn in (r.ana, r.ben):
                assert len(conn.received) == len(set(conn.received)), "an event came twice"
            idea = str(acked[r.session]["Ana's anonymous idea"])
            assert r.fay.state.ideas[idea].author is None and r.ben.state.ideas[idea].author is None
            assert r.ana.state.ideas[idea].author == r.ana.you  # still provably hers, after the move too
        assert dead.ana.state.ballots.get(dead.ben.you) is None and dead.fay.state.ballots.get(dead.ben.you) is None
        assert dead.ben.state.ballots[dead.ben.you] == {anonymous: 1}
    finally:
        for r in rooms:
            for conn in (r.fay, r.ana, r.ben):
                await conn.close()
        for proc in procs:
            await kill(proc)
        bystander.close()


async def test_the_host_follows_its_session_to_another_server(postgres_url: str) -> None:
    """Without this, a host started with one server's URL lost the room when that server died, or
    kept reading out a join line that reaches nobody."""
    servers = [await serve(postgres_url) for _ in range(2)]
    urls = [f"ws://127.0.0.1:{port}" for _, port in servers]
    try:
        created = await create_session(urls[0], goal="30 new leads a month")
        creds = Credentials(url=urls[0], session=created.session, secret=created.secret)
        app = host_app(creds, join_line=f"workshop join {urls[0]}/{created.code}")
        async with app.run_test(size=(80, 24)) as pilot:
            await online((pilot, app))
            await kill(servers[0][0])
            await settle(pilot, lambda: f"workshop join {urls[1]}/{created.code}" in text_of(app, "#join-line"))
            await settle(pilot, lambda: app.conn.status == "online" and "online" in text_of(app, "#join"))
            await pilot.press("n")  # and it still drives the session, through the other server
            await settle(pilot, lambda: app.conn.state.stage_index == 1)
            await close(app)
    finally:
        for proc, _ in servers:
            await kill(proc)
