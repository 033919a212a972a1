"""Bad input over a real socket: each gets a clear error, changes nothing, and the handler lives on.

Every case checks the log (the events table) did not grow, that the sender's next valid command
still goes through, and that another participant's replica stays in step with the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect

from server.limits import Limits
from tests.conftest import LiveServer, start_server, stop_server
from workshop import commands as c
from workshop.protocol import Ack, Error, Hello, Message, Welcome, encode, outbound_decoder

IDEAS = 3  # "Stop / Start / Continue" in the default agenda


def rows(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]


class Wire:
    """A bare websocket client: sends any bytes, reads replies as typed messages."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def join(cls, url: str, hello: Hello) -> tuple[Wire, Message]:
        ws = await connect(url, proxy=None, compression=None)
        wire = cls(ws)
        await ws.send(encode(hello), text=True)
        return wire, await wire.reply(Welcome, Error)

    async def send(self, frame: bytes | str, *, binary: bool = False) -> None:
        await self.ws.send(frame, text=not binary)

    async def reply(self, *kinds: type, timeout: float = 5.0) -> Message:
        """The next message of one of ``kinds`` (events and presence pass by)."""
        async with asyncio.timeout(timeout):
            while True:
                msg = outbound_decoder.decode(await self.ws.recv())
                if isinstance(msg, kinds):
                    return msg

    async def ask(self, frame: bytes | str, *, binary: bool = False) -> Message:
        await self.send(frame, binary=binary)
        return await self.reply(Ack, Error)

    async def close(self) -> None:
        await self.ws.close()


@pytest.fixture
async def room(live: LiveServer):
    """A session in the ideas stage: the facilitator, Ana on a bare socket, Ben on the real client."""
    fac, code = await live.facilitator()
    ben = await live.participant(code, "Ben")
    await fac.do(c.SetStage, index=IDEAS)
    await ben.do(c.PostIdea, category="start", text="Webinars")
    ana_conn = await live.participant(code, "Ana")
    await ana_conn.close()
    ana, welcome = await Wire.join(live.url, Hello(session=ana_conn.creds.session, token=ana_conn.creds.token))
    assert isinstance(welcome, Welcome)
    try:
        yield live, fac, ben, ana
    finally:
        await ana.close()


def post(text: str, **kw: object) -> dict[str, object]:
    return {"type": "post_idea", "id": "p1", "category": "start", "text": text, **kw}


def js(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


CASES: dict[str, tuple[str | bytes, str, str]] = {
    # name: (frame, error code, part of the message)
    "not json": ("{nope", "malformed", "not valid JSON"),
    "unknown type": (js({"type": "launch", "id": "1"}), "malformed", "launch"),
    "no type": (js({"id": "1", "text": "hi"}), "malformed", "type"),
    "wrong field type": (js(post(5)), "malformed", "$.text"),
    "missing field": (js({"type": "post_idea", "id": "1", "category": "start"}), "malformed", "text"),
    "unknown field": (js(post("hi", author="p9")), "malformed", "author"),
    "empty id": (js(post("hi", id="")), "malformed", "$.id"),
    "json array": ("[1, 2, 3]", "malformed", "object"),
    "deep nesting": (
        '{"type":"post_idea","id":"1","category":"start","text":' + "[" * 5000 + "]" * 5000 + "}",
        "malformed",
        "$.text",
    ),
    "deep object": ('{"a":' * 2700 + "1" + "}" * 2700, "malformed", "could not be read"),
    "huge integer": (js({"type": "set_budget", "id": "1", "budget": 10**40}), "malformed", "$.budget"),
    "huge float": ('{"type":"set_budget","id":"1","budget":1e400}', "malformed", "$.budget"),
    "too long idea": (js(post("x" * 501)), "invalid", "limit is 500"),
    "empty idea": (js(post("   ")), "invalid", "empty"),
    "escape sequence": (js(post("hi \x1b[2J\x1b]0;owned\x07")), "invalid", "U+001B"),
    "bell": (js(post("ding\x07")), "invalid", "U+0007"),
    "C1 control": (js(post("csi \x9b31m")), "invalid", "U+009B"),
    "bidi override": (js(post("txt.\u202eexe")), "invalid", "U+202E"),
    "bidi isolate": (js(post("a\u2067b")), "invalid", "U+2067"),
    "unknown category": (js(post("hi", category="gossip")), "invalid", "category"),
    "unknown idea to edit": (js({"type": "edit_idea", "id": "1", "idea": "999", "text": "x"}), "not_found", "999"),
    "unknown idea to withdraw": (js({"type": "withdraw_idea", "id": "1", "idea": "nope"}), "not_found", "nope"),
    "someone else's idea": (js({"type": "withdraw_idea", "id": "1", "idea": "IDEA"}), "forbidden", "author"),
    "wrong stage": (js({"type": "vote", "id": "1", "idea": "IDEA"}), "wrong_stage", "Stop / Start / Continue"),
    "facilitator command": (js({"type": "set_stage", "id": "1", "index": 7}), "forbidden", "facilitator"),
    "reveal as participant": (js({"type": "reveal_votes", "id": "1"}), "forbidden", "facilitator"),
    "second hello": (js({"type": "hello", "secret": "x"}), "malformed", "already joined"),
    "create after join": (js({"type": "create", "goal": "mine"}), "malformed", "already joined"),
    "too large": (js(post("x" * 17_000)), "too_large", "limit"),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_bad_frame_is_refused_and_changes_nothing(room, name: str) -> None:
    """Without this, one malformed or hostile message could corrupt the session or cut a participant off."""
    live, fac, ben, ana = room
    frame, code, words = CASES[name]
    idea = next(iter(live.app.rooms[fac.creds.session].published.ideas))
    frame = frame.replace("IDEA", idea) if isinstance(frame, str) else frame
    session = live.app.rooms[fac.creds.session]
    before_rows, before = rows(live.db), session.published

    reply = await ana.ask(frame)
    assert isinstance(reply, Error), reply
    assert reply.code == code, reply
    assert words in reply.message, reply
    assert session.published == before

    # The handler survived: Ana's next command is applied, and nothing else was written.
    ok = await ana.ask(encode(c.PostIdea(id="after", category="stop", text="Still here")))
    assert isinstance(ok, Ack), ok
    assert rows(live.db) == before_rows + 1
    await ben.wait_for(lambda s: s.seq == ok.seq)
    assert ben.state.seq == session.published.seq


async def test_a_malformed_command_error_names_its_id(room) -> None:
    """Without this, a client with several commands in flight could not tell which one was refused."""
    _live, _fac, _ben, ana = room
    reply = await ana.ask(js(post(5, id="which-one")))
    assert isinstance(reply, Error) and reply.code == "malformed" and reply.id == "which-one"
    reply = await ana.ask("{nope")
    assert isinstance(reply, Error) and reply.id == ""  # no id to give when there is no JSON


async def test_invalid_utf8_in_a_binary_frame(room) -> None:
    """Without this, a frame of broken bytes could crash the handler or store unreadable text."""
    live, _fac, _ben, ana = room
    before = rows(live.db)
    frame = b'{"type":"post_idea","id":"u1","category":"start","text":"caf\xc3\x28 \xff"}'
    reply = await ana.ask(frame, binary=True)
    assert isinstance(reply, Error) and reply.code == "malformed", reply
    ok = await ana.ask(encode(c.PostIdea(id="u2", category="start", text="café")), binary=True)
    assert isinstance(ok, Ack)
    assert rows(live.db) == before + 1


async def test_frame_past_the_socket_limit_closes_only_that_connection(room) -> None:
    """Without this, a huge frame could exhaust the server's memory or take the room down with it."""
    _live, fac, ben, ana = room
    with contextlib.suppress(Exception):
        await ana.send(js(post("x" * 100_000)))
    # websockets refuses past max_size (1009) before anything is parsed.
    async with asyncio.timeout(5):
        await ana.ws.wait_closed()
    assert ana.ws.close_code == 1009
    seq = await fac.do(c.SetKpi, name="Reach", value="1")
    await ben.wait_for(lambda s: s.seq == seq)


async def test_handshake_refusals(live: LiveServer) -> None:
    """Without this, a wrong secret, a foreign token or a junk first frame could get into a session."""
    fac, code = await live.facilitator()
    other_fac, _ = await live.facilitator(goal="Another team's goal")
    ana = await live.participant(code, "Ana")
    session = fac.creds.session
    before = rows(live.db)
    cases = {
        "wrong secret": Hello(session=session, secret="not-the-secret"),
        "secret of another session": Hello(session=session, secret=other_fac.creds.secret),
        "token of another session": Hello(session=other_fac.creds.session, token=ana.creds.token),
        "made-up token": Hello(session=session, token="A" * 32),
        "no credential": Hello(session=session),
        "unknown session": Hello(session="nope", secret=fac.creds.secret),
    }
    for name, hello in cases.items():
        wire, reply = await Wire.join(live.url, hello)
        assert isinstance(reply, Error) and reply.code == "unauthorised", (name, reply)
        async with asyncio.timeout(5):
            await wire.ws.wait_closed()
    for name, frame, want in [
        ("junk", "{nope", "malformed"),
        ("command first", encode(c.SetStage(id="1", index=1)), "not_joined"),
        ("empty name", encode(Hello(code=code, name="  ")), "invalid"),
        ("name with escape", encode(Hello(code=code, name="Ana\x1b[31m")), "invalid"),
        # A 0.1/0.2 client could not read the check-in and KPI events: told to update, not fed them.
        ("older protocol", encode(Hello(code=code, name="Old", version=1)), "unsupported_version"),
    ]:
        async with connect(live.url, proxy=None) as ws:
            await ws.send(frame, text=True)
            reply = outbound_decoder.decode(await ws.recv())
        assert isinstance(reply, Error) and reply.code == want, (name, reply)
    assert rows(live.db) == before
    seq = await fac.do(c.SetGoal, goal="Still ours")
    await ana.wait_for(lambda s: s.seq == seq and s.goal == "Still ours")


async def test_wrong_join_codes_are_rate_limited(tmp_path: Path) -> None:
    """Without this, someone on the network could guess join codes until they walk into a workshop."""
    live = await start_server(tmp_path / "w.db", Limits(join_failures_per_minute=10))
    try:
        fac, code = await live.facilitator()
        for i in range(10):
            wire, reply = await Wire.join(live.url, Hello(code=f"WRONG-{i:05d}", name="Mallory"))
            assert isinstance(reply, Error) and reply.code == "unauthorised", reply
            await wire.close()
        wire, reply = await Wire.join(live.url, Hello(code=code, name="Mallory"))
        await wire.close()
        assert isinstance(reply, Error) and reply.code == "rate_limited", reply
        assert reply.retry_after is not None and 0 < reply.retry_after <= 60
        assert len(live.app.rooms[fac.creds.session].published.participants) == 1
        # The facilitator, already in, is unaffected.
        seq = await fac.do(c.SetGoal, goal="Still running")
        assert seq > 0
    finally:
        await stop_server(live)


async def test_flooding_client_is_rate_limited_alone(tmp_path: Path) -> None:
    """Without this, one runaway client could fill the log and drown everyone else's ideas."""
    live = await start_server(tmp_path / "w.db", Limits(commands_per_second=5, command_burst=10))
    try:
        fac, code = await live.facilitator()
        ben = await live.participant(code, "Ben")
        await fac.do(c.SetStage, index=IDEAS)
        flood_conn = await live.participant(code, "Flood")
        await flood_conn.close()
        flood, _ = await Wire.join(live.url, Hello(session=flood_conn.creds.session, token=flood_conn.creds.token))
        n = 60
        for i in range(n):
            await flood.send(encode(c.PostIdea(id=f"f{i}", category="start", text=f"spam {i}")))
        replies = [await flood.reply(Ack, Error) for _ in range(n)]
        limited = [r for r in replies if isinstance(r, Error)]
        assert limited and all(r.code == "rate_limited" and r.retry_after for r in limited)
        assert sum(isinstance(r, Ack) for r in replies) <= 10 + 5  # the burst, plus what refilled meanwhile
        # Ben is not limited by Flood's bucket.
        seq = await ben.do(c.PostIdea, category="stop", text="My one idea")
        await fac.wait_for(lambda s: s.seq >= seq)
        await flood.close()
    finally:
        await stop_server(live)
