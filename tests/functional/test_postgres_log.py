"""The PostgreSQL log: the same sessions, replay and exports as the SQLite file, on a real PostgreSQL.

(The SIGKILL test in test_faults.py runs on both logs.) Skipped, saying why, where PostgreSQL
is not installed.
"""

from __future__ import annotations

import psycopg
import pytest

from client.connection import CommandError
from server.transcript import load_session
from tests.conftest import start_server, stop_server
from workshop import commands as c


async def test_a_workshop_on_postgresql_replays_and_exports(postgres_url: str, capsys: pytest.CaptureFixture) -> None:
    """Without this, a team on the shared service could lose its log, or not get its transcript out."""
    live = await start_server(postgres_url)  # type: ignore[arg-type]
    try:
        fay, code = await live.facilitator(goal="30 new leads a month")
        ana = await live.participant(code, "Ana")
        await fay.do(c.SetStage, index=3)
        idea = str(await ana.do(c.PostIdea, category="start", text="Partner webinars", anonymous=True))
        await fay.do(c.SetStage, index=7)
        await ana.do(c.Vote, idea=idea)
        await fay.do(c.RevealVotes)
        await fay.do(c.SetStage, index=3)
        first = await ana.send(c.PostIdea(id="same", category="start", text="one"))
        assert await ana.send(c.PostIdea(id="same", category="start", text="one")) == first  # a retry: applied once
        with pytest.raises(CommandError) as reused:  # the same id with another payload
            await ana.send(c.PostIdea(id="same", category="start", text="two"))
        assert reused.value.code == "id_reused"
        live_state = live.app.rooms[fay.creds.session].published
    finally:
        await stop_server(live)

    assert load_session(postgres_url, fay.creds.session) == live_state
    assert load_session(postgres_url, code) == live_state  # by join code too
    with psycopg.connect(postgres_url) as db:  # the same append-only table, keyed by (session, seq)
        seqs = [
            row[0] for row in db.execute("SELECT seq FROM events WHERE session = %s ORDER BY seq", (fay.creds.session,))
        ]
    assert seqs == list(range(1, live_state.seq + 1))

    again = await start_server(postgres_url)  # type: ignore[arg-type]
    try:
        back = await again.participant(code, "Ben")
        assert any(i.text == "Partner webinars" for i in back.state.ideas.values())
    finally:
        await stop_server(again)

    from cli.main import main

    assert main(["export", code, "--format", "md", "--db", postgres_url]) == 0
    assert "Partner webinars (anonymous" in capsys.readouterr().out
    assert main(["sessions", "--db", postgres_url]) == 0
    assert code in capsys.readouterr().out
