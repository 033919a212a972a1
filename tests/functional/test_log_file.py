"""The log file itself, opened with sqlite3 as anyone holding it could: it ties no anonymous idea to its author.

With ``workshop host`` the facilitator runs the server and owns this file, so "the server's own
storage" is within reach of the very people anonymity protects against. Checked after a clean
stop, after a SIGKILL (the WAL not checkpointed), and on a log written by release 0.1, which
stored the sender of every command next to the idea it created, and must be cleaned on open.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from client.connection import Connection, Credentials, create_session
from server.transcript import load_session
from tests.conftest import start_server, stop_server
from tests.processes import kill, serve
from workshop import commands as c
from workshop.export import TRANSCRIPTS as FORMATS
from workshop.export import render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IDEAS, VOTE, TIMELINE = 3, 7, 8


def _mentions(event: dict[str, object]) -> set[str]:
    """The idea ids an event refers to."""
    out: set[str] = set()
    for key in ("idea", "source", "target"):
        value = event.get(key)
        if isinstance(value, str):
            out.add(value)
        elif isinstance(value, dict):
            out.add(str(value.get("id")))
    milestone = event.get("milestone")
    if isinstance(milestone, dict):
        out.update(milestone.get("idea_ids", ()))
    return out


def ties(db: Path, author: str, ideas: set[str]) -> list[tuple[str, tuple[object, ...]]]:
    """Every row of the log that names ``author`` together with one of the anonymous ``ideas``.

    ``members`` names each participant with a token digest: that is who joined, not what they
    wrote. A ``vote_cast`` names its voter: a ballot, kept for the totals, not authorship. Any
    other table must not name a participant at all.
    """
    found = []
    with contextlib.closing(sqlite3.connect(db)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute(f"SELECT * FROM {table}"):
                text = " ".join(v.decode() if isinstance(v, bytes) else str(v) for v in row)
                if author not in text or table == "members":
                    continue
                if table == "events":
                    event = json.loads(row[3])
                    seq = str(row[1])
                    if event["type"] == "vote_cast" or not (_mentions(event) | {seq}) & ideas:
                        continue
                found.append((table, row))
    return found


async def _workshop(url: str) -> tuple[str, set[str]]:
    """Anonymous ideas posted, edited and withdrawn, votes, a timeline: return the author and those ideas."""
    created = await create_session(url, goal="30 new leads a month")
    fac = Connection(Credentials(url=url, session=created.session, secret=created.secret))
    people = [Connection(Credentials(url=url, code=created.code, name=n)) for n in ("Ana", "Ben", "Cy")]
    try:
        for conn in (fac, *people):
            await conn.start()
        ana, ben, cy = people
        await fac.do(c.SetStage, index=IDEAS)
        await ana.wait_for(lambda s: s.stage_index == IDEAS)
        kept = str(await ana.do(c.PostIdea, category="stop", text="Stop the status meeting", anonymous=True))
        gone = str(await ana.do(c.PostIdea, category="stop", text="Stop print ads", anonymous=True))
        named = str(await ben.do(c.PostIdea, category="start", text="Start a webinar"))
        await ana.do(c.EditIdea, idea=kept, text="Stop the 90-minute status meeting")
        await ana.do(c.WithdrawIdea, idea=gone)
        await fac.do(c.SetStage, index=VOTE)
        await ana.wait_for(lambda s: s.stage_index == VOTE)
        for voter, idea in ((ben, kept), (cy, kept), (cy, named), (ana, named)):
            await voter.do(c.Vote, idea=idea)
        await fac.do(c.RevealVotes)
        await fac.do(c.SetStage, index=TIMELINE)
        await fac.do(c.SaveMilestone, title="Shorter meeting", owner="Fay", due="2027-01-15", idea_ids=(kept,))
        await ana.wait_for(lambda s: bool(s.milestones))
        await ana.do(c.RespondTimeline, agree=True)
        await fac.do(c.FinaliseTimeline)
        return ana.you, {kept, gone}
    finally:
        for conn in (fac, *people):
            await conn.close()


async def test_nothing_in_the_log_ties_an_anonymous_idea_to_its_author_after_a_clean_stop(tmp_path: Path) -> None:
    """Without this, whoever holds the database file could look up who wrote each anonymous idea."""
    live = await start_server(tmp_path / "w.db")
    try:
        author, ideas = await _workshop(live.url)
    finally:
        await stop_server(live)
    assert ties(live.db, author, ideas) == []


async def test_nothing_in_the_log_ties_an_anonymous_idea_to_its_author_after_a_kill(tmp_path: Path) -> None:
    """Without this, the rows still in the WAL after a crash could name the author of an anonymous idea."""
    db = tmp_path / "w.db"
    proc, port = await serve(db)
    try:
        author, ideas = await _workshop(f"ws://127.0.0.1:{port}")
    finally:
        await kill(proc)
    assert (tmp_path / "w.db-wal").exists(), "the test meant to read a log with its WAL not checkpointed"
    assert ties(db, author, ideas) == []


def _copy_fixture(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    db = tmp_path / "w.db"
    shutil.copy(FIXTURES / "release-0.1.db", db)
    return db, json.loads((FIXTURES / "release-0.1.json").read_text())


def test_the_fixture_is_a_release_0_1_log_that_names_authors(tmp_path: Path) -> None:
    """Without this, the migration test below could pass on a fixture that never had the problem."""
    db, info = _copy_fixture(tmp_path)
    assert ties(db, info["anonymous_author"], set(info["anonymous_ideas"])) != []


async def test_a_release_0_1_log_is_cleaned_on_open_and_still_resumes_and_exports(tmp_path: Path) -> None:
    """Without this, an upgrade would keep naming past anonymous authors, or lose the workshops run before it."""
    db, info = _copy_fixture(tmp_path)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        old = [row[2:4] for row in conn.execute("SELECT * FROM commands")]  # (command id, digest)
    live = await start_server(db)
    try:
        assert ties(db, info["anonymous_author"], set(info["anonymous_ideas"])) == []
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("w.db"))
        for cid, digest in old:
            assert digest.encode() not in raw and f'"{cid}"'.encode() not in raw, "an old row survives in the file"

        # The session is all there: the facilitator and Ana come back with their credentials.
        session = str(info["session"])
        fac = Connection(Credentials(url=live.url, session=session, secret=str(info["secret"])))
        ana_seat = info["people"]["Ana"]  # type: ignore[index]
        ana = Connection(Credentials(url=live.url, session=session, token=ana_seat["token"]))
        for conn in (fac, ana):
            await conn.start()
            live.clients.append(conn)
        assert fac.role == "facilitator" and fac.state.finalised and fac.state.revealed
        for idea in info["anonymous_ideas"]:  # type: ignore[union-attr]
            assert fac.state.ideas[idea].author is None
            assert ana.state.ideas[idea].author == ana.you == ana_seat["id"]  # still provably hers
        assert ana.state.dots_left(ana.you) == 2
    finally:
        await stop_server(live)
    state = load_session(db, session)
    assert state is not None and state.finalised
    for fmt in FORMATS:
        text = render(state, fmt)
        assert "Start a monthly webinar" in text
        assert all("Ana" not in line for line in text.splitlines() if "status meeting" in line), fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_release_0_1_log_exports_from_the_command_line(tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture) -> None:
    """Without this, the transcript of a workshop run before the upgrade could not be taken out of the log."""
    from cli.main import main

    db, info = _copy_fixture(tmp_path)
    assert main(["export", str(info["code"]), "--format", fmt, "--db", str(db)]) == 0
    assert "Start a monthly webinar" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["sessions"], ["export", "ABCDE-FGHJK"], ["serve", "--port", "0"]])
def test_a_log_from_a_newer_release_is_refused_plainly(
    tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture
) -> None:
    """Without this, pointing an older workshop at a newer log printed a Python traceback."""
    from cli.main import main

    db = tmp_path / "newer.db"
    with contextlib.closing(sqlite3.connect(db)) as newer:
        newer.execute("PRAGMA user_version=99")
    assert main([*command, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workshop: this log was written by a newer workshop (schema 99); update workshop")
    assert "Traceback" not in err
