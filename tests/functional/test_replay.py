"""The log is the session: a restarted server rebuilds exactly the live state from SQLite."""

from __future__ import annotations

import asyncio

from client.connection import Connection, Credentials
from server.limits import Limits
from server.transcript import load_session
from tests.conftest import start_server, stop_server
from workshop import commands as c


async def test_replaying_the_log_gives_the_live_state(tmp_path) -> None:
    """Without this, a server restart or an export after the meeting would show a different workshop."""
    srv = await start_server(tmp_path / "w.db")
    try:
        fac, code = await srv.facilitator()
        ana = await srv.participant(code, "Ana")
        await fac.do(c.SetStage, index=3)
        await ana.wait_for(lambda s: s.stage_index == 3)
        first = await ana.do(c.PostIdea, category="start", text="Webinars", anonymous=True)
        await ana.do(c.PostIdea, category="stop", text="Cold calls")
        await fac.do(c.SetStage, index=7)
        await ana.wait_for(lambda s: s.stage.kind == "vote")
        await ana.do(c.Vote, idea=str(first))
        await ana.do(c.Vote, idea=str(first))
        await fac.do(c.RevealVotes)
        live_state = srv.app.rooms[fac.creds.session].published
    finally:
        await stop_server(srv)

    assert load_session(srv.db, live_state.session) == live_state

    again = await start_server(srv.db)
    try:
        assert live_state.session not in again.app.rooms  # nothing is loaded before someone asks for it
        room = await again.app.room(live_state.session)
        assert room is not None and room.published == live_state
    finally:
        await stop_server(again)


async def test_an_idle_session_leaves_memory_and_comes_back_whole(tmp_path) -> None:
    """Without this, a long-running server would hold every session it ever served, or lose one it let go."""
    srv = await start_server(tmp_path / "w.db", Limits(room_idle_seconds=0.1))
    try:
        fac, code = await srv.facilitator()
        ana = await srv.participant(code, "Ana")
        await fac.do(c.SetStage, index=3)
        await ana.do(c.PostIdea, category="start", text="Webinars", anonymous=True)
        session, before = fac.creds.session, srv.app.rooms[fac.creds.session].published
        for conn in srv.clients:
            await conn.close()
        async with asyncio.timeout(10):
            while session in srv.app.rooms:  # the room's own idle timer lets it go
                await asyncio.sleep(0.02)
        again = await srv.participant(code, "Ben")  # by code: looked up in the log, not in memory
        assert srv.app.rooms[session].published.ideas == before.ideas
        assert again.state.ideas[next(iter(before.ideas))].text == "Webinars"
        back = Connection(Credentials(url=srv.url, session=session, token=ana.creds.token))
        await back.start()
        srv.clients.append(back)
        assert back.state.ideas[next(iter(before.ideas))].author == ana.you  # still provably hers
    finally:
        await stop_server(srv)
