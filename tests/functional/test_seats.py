"""Nobody loses their seat: handover and co-facilitation, removal, rejoining as the same person, resume.

Roles are events in the log and the server enforces them at once: a credential acts with the
role its participant has now, not the one it joined with.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from client.connection import CommandError, Connection, Credentials
from client.widgets.plain import countdown
from tests.conftest import LiveServer
from tests.terminal import WORKSHOP, Terminal
from workshop import commands as c
from workshop.protocol import Hello, Welcome, encode, outbound_decoder

IDEAS, VOTE, TIMELINE = 3, 7, 8


async def _refused(conn: Connection, cmd: type[c.Command], **fields: object) -> str:
    with pytest.raises(CommandError) as refused:
        await conn.do(cmd, **fields)
    return refused.value.code


async def test_a_handover_moves_the_keys_at_once(live: LiveServer) -> None:
    """Without this, a facilitator who hands over could still move the room, or the new one could not."""
    fay, code = await live.facilitator()
    ana = await live.participant(code, "Ana")
    await fay.do(c.HandOver, participant=ana.you)
    await ana.wait_for(lambda s: s.role_of(ana.you) == "facilitator")
    assert ana.role == "facilitator" and fay.role == "participant"
    assert await _refused(fay, c.SetStage, index=IDEAS) == "forbidden"  # the old credential lost its rights
    await ana.do(c.SetStage, index=IDEAS)  # the same connection she joined with now drives the room
    again = Connection(Credentials(url=live.url, session=fay.creds.session, secret=fay.creds.secret))
    await again.start()
    live.clients.append(again)
    assert again.role == "participant"
    assert await _refused(again, c.RevealVotes) == "forbidden"


async def test_two_facilitators_drive_one_session_and_a_promotion_can_be_undone(live: LiveServer) -> None:
    """Without this, a co-facilitator could not take over the timeline while the other runs the room."""
    fay, code = await live.facilitator()
    ana = await live.participant(code, "Ana")
    ben = await live.participant(code, "Ben")
    await fay.do(c.SetRole, participant=ana.you, role="facilitator")
    await fay.do(c.SetStage, index=TIMELINE)
    await ana.wait_for(lambda s: s.stage_index == TIMELINE and s.role_of(ana.you) == "facilitator")
    await ana.do(c.SaveMilestone, title="First webinar", owner="Ben", due="2027-01-31")
    await fay.do(c.SaveMilestone, title="Second webinar", owner="Ana", due="2027-02-28")
    await ben.wait_for(lambda s: len(s.milestones) == 2)
    await ana.do(c.SetRole, participant=fay.you, role="participant")  # either may demote the other...
    assert await _refused(fay, c.FinaliseTimeline) == "forbidden"
    assert await _refused(ana, c.SetRole, participant=ana.you, role="participant") == "conflict"  # ...not the last
    await ana.do(c.SetRole, participant=fay.you, role="facilitator")
    await fay.do(c.SetRole, participant=ana.you, role="participant")
    assert await _refused(ana, c.FinaliseTimeline) == "forbidden"
    await fay.do(c.FinaliseTimeline)


async def test_a_removed_participant_stops_counting_and_cannot_come_back(live: LiveServer) -> None:
    """Without this, someone who joined by mistake would inflate every count, and could not be let go."""
    fay, code = await live.facilitator()
    ana = await live.participant(code, "Ana")
    mistake = await live.participant(code, "YOURNAME")
    await fay.do(c.SetStage, index=IDEAS)
    idea = await mistake.do(c.PostIdea, category="start", text="Posted before the removal")
    await mistake.do(c.MarkDone)
    await fay.wait_for(lambda s: s.done_count() == 1)
    await fay.do(c.RemoveParticipant, participant=mistake.you)
    await mistake.wait_status("refused", timeout=15)  # its connection was closed, and the rejoin refused
    state = await fay.wait_for(lambda s: s.participants[mistake.you].removed)
    assert [p.name for p in state.people()] == ["Ana"] and state.done_count() == 0
    assert state.ideas[str(idea)].text == "Posted before the removal"  # their ideas stay
    async with connect(live.url, proxy=None) as ws:
        await ws.send(encode(Hello(session=fay.creds.session, token=mistake.creds.token)), text=True)
        reply = outbound_decoder.decode(await ws.recv())
    assert reply.code == "forbidden" and "removed" in reply.message
    await fay.do(c.SetStage, index=TIMELINE)
    await fay.do(c.SaveMilestone, title="Launch", owner="Ana", due="2027-01-31")
    await ana.wait_for(lambda s: bool(s.milestones))
    await ana.do(c.RespondTimeline, agree=True)
    assert (await fay.wait_for(lambda s: s.agreement() == (1, 0))).agreement() == (1, 0)
    assert await _refused(fay, c.RemoveParticipant, participant=fay.you) == "conflict"


async def test_a_first_join_retried_with_the_same_token_is_the_same_person(live: LiveServer) -> None:
    """Without this, a join whose answer was lost would make a second participant with fresh dots."""
    fay, code = await live.facilitator()
    token = "a-client-made-token-of-32-chars"
    welcomes = []
    for _ in range(2):  # the second is the retry after "the answer was lost"
        async with connect(live.url, proxy=None) as ws:
            await ws.send(encode(Hello(code=code, name="Ana", token=token)), text=True)
            welcomes.append(outbound_decoder.decode(await ws.recv()))
    assert all(isinstance(w, Welcome) for w in welcomes)
    assert welcomes[0].you == welcomes[1].you and welcomes[0].token == token
    state = await fay.wait_for(lambda s: len(s.participants) == 2)
    assert [p.name for p in state.people()] == ["Ana"]


async def test_the_countdown_follows_the_servers_clock(live: LiveServer) -> None:
    """Without this, a participant whose clock is off would see the stage timer end early or late."""
    live.app.clock = lambda: time.time() + 3600  # the server's clock is an hour ahead of ours
    fay, code = await live.facilitator()
    ana = await live.participant(code, "Ana")
    await fay.do(c.StartTimer, seconds=120)
    state = await ana.wait_for(lambda s: s.timer_ends_at is not None)
    assert countdown(state, ana.now()) in ("02:00 left", "01:59 left")
    assert countdown(state, time.time()) == "62:00 left" or countdown(state, time.time()).startswith("61:5")


# -- real processes, in a real terminal -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_host_killed_and_resumed_takes_the_same_session_back(tmp_path: Path, own_data_dir: Path) -> None:
    """Without this, a facilitator whose terminal crashed would lose the room and everything in it."""
    term = Terminal({"XDG_DATA_HOME": str(own_data_dir)})
    port, db = _free_port(), tmp_path / "w.db"
    host = [*WORKSHOP, "host", "--listen", f"127.0.0.1:{port}", "--db", str(db)]
    people: list[Connection] = []
    try:
        term.run("host", [*host, "--goal", "30 new leads a month"])
        screen = await term.wait_for("host", "in (")
        code = re.search(r"[A-Z0-9]{5}-[A-Z0-9]{5}", screen).group(0)
        url = f"ws://127.0.0.1:{port}"
        fast = dict(reconnect_max_delay=1.0)
        people = [Connection(Credentials(url=url, code=code, name=n), **fast) for n in ("Ana", "Ben")]
        for p in people:
            await p.start()
        ana, ben = people
        term.keys("host", "n", "n", "n")  # to Stop / Start / Continue
        await ana.wait_for(lambda s: s.stage_index == IDEAS)
        await ana.do(c.PostIdea, category="start", text="Before the crash")

        term.kill("host")
        await ana.wait_status("reconnecting")
        typed = ana.send_nowait(c.PostIdea(id=ana.new_id(), category="stop", text="Typed while the host was gone"))
        started = time.monotonic()
        term.run("host2", [*host, "--resume"])
        await term.wait_for("host2", f"/{code}", timeout=3)  # the same session, on screen within 3 s
        assert time.monotonic() - started < 3
        await asyncio.wait_for(typed, 15)  # nothing typed is lost: it went in once the server was back
        for p in people:
            await p.wait_status("online", timeout=15)
        state = await ben.wait_for(lambda s: len(s.ideas) == 2)
        assert sorted(i.text for i in state.ideas.values()) == ["Before the crash", "Typed while the host was gone"]
        assert state.stage_index == IDEAS and len(state.participants) == 3
        await term.wait_for("host2", "2 in (2 joined)")
        term.keys("host2", "n")  # and the resumed host drives the same room
        await ana.wait_for(lambda s: s.stage_index == IDEAS + 1)
    finally:
        for p in people:
            await p.close()
        term.close()


async def test_a_participant_who_quits_and_joins_again_is_the_same_person(live: LiveServer, own_data_dir: Path) -> None:
    """Without this, quitting and pasting the join line again would make a second person with fresh dots."""
    term = Terminal({"XDG_DATA_HOME": str(own_data_dir)}, size=(90, 26))
    fay, code = await live.facilitator()
    join = [*WORKSHOP, "join", f"{live.url}/{code}", "--name", "Ana"]
    try:
        term.run("ana", join)
        await term.wait_for("ana", "online")
        state = await fay.wait_for(lambda s: len(s.participants) == 2)
        (ana_id,) = [p.id for p in state.people()]
        await fay.do(c.SetStage, index=IDEAS)
        idea = await fay.do(c.PostIdea, category="start", text="Webinars")
        await fay.do(c.SetStage, index=VOTE)
        (seat,) = [json.loads(p.read_text()) for p in (own_data_dir / "workshop" / "seats").glob("participant-*")]
        assert seat["name"] == "Ana" and seat["session"] == fay.creds.session
        same = Connection(Credentials(url=live.url, session=seat["session"], token=seat["credential"]))
        await same.start()  # Ana on a second device, with the token her seat keeps
        await same.do(c.Vote, idea=str(idea))
        await same.close()
        await term.wait_for("ana", "2 of 3")

        term.keys("ana", "C-q")
        await term.wait_for_exit("ana")
        term.run("ana-again", join)  # the same command again
        screen = await term.wait_for("ana-again", "2 of 3")  # the same dots left: one is placed
        assert "Ana" in screen
        state = await fay.wait_for(lambda s: s.seq > 0)
        assert [p.id for p in state.people()] == [ana_id], "rejoining made a second Ana"
    finally:
        term.close()


def test_the_placeholder_name_from_the_join_line_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Without this, everyone pasting the example join line would join as YOURNAME."""
    from cli.main import main

    assert main(["join", "ws://127.0.0.1:9/ABCDE-FGHJK", "--name", "YOURNAME"]) == 2
    assert "placeholder" in capsys.readouterr().err


async def test_quitting_either_app_while_events_stream_in_is_clean_and_loses_nothing(
    live: LiveServer, own_data_dir: Path
) -> None:
    """Without this, quitting mid-workshop could print a traceback at the user, or drop what they just sent."""
    term = Terminal({"XDG_DATA_HOME": str(own_data_dir)}, size=(90, 26))
    fay, code = await live.facilitator()
    await fay.do(c.SetStage, index=IDEAS)
    stream = await live.participant(code, "Stream")
    posting = asyncio.create_task(_keep_posting(stream))
    try:
        from client.seats import Seat, Seats

        seats = Seats(own_data_dir / "workshop" / "seats")
        seats.save(Seat(url=live.url, code=code, role="facilitator", credential=fay.creds.secret,
                        session=fay.creds.session, name="Fay"))  # fmt: skip
        term.run("host", [*WORKSHOP, "host", "--server", live.url, "--resume", code])
        term.run("ana", [*WORKSHOP, "join", f"{live.url}/{code}", "--name", "Ana"])
        await term.wait_for("host", "in (")
        await term.wait_for("ana", "online")
        await fay.wait_for(lambda s: any(p.name == "Ana" for p in s.people()))

        await fay.wait_for(lambda s: len(s.ideas) >= 5)  # Ana joined an idea stage: focus is in the idea box
        term.type("ana", "Sent just before quitting")
        term.keys("ana", "Down")  # its category: "stop", the first
        await term.wait_for("ana", "Sent just before quitting")  # she sees what she typed...
        term.keys("ana", "Enter", "C-q")  # ...and posts and quits in one packet: the quit must not overtake
        await term.wait_for_exit("ana")
        assert "Traceback" not in term.screen("ana"), term.screen("ana")
        await fay.wait_for(lambda s: any(i.text == "Sent just before quitting" for i in s.ideas.values()))

        term.keys("host", "n", "C-q")
        await term.wait_for_exit("host")
        assert "Traceback" not in term.screen("host"), term.screen("host")
        await fay.wait_for(lambda s: s.stage_index == IDEAS + 1)
    finally:
        posting.cancel()
        await asyncio.gather(posting, return_exceptions=True)
        term.close()


async def _keep_posting(conn: Connection) -> None:
    n = 0
    while True:
        n += 1
        await conn.do(c.PostIdea, category="start", text=f"Streaming idea {n}")
        await asyncio.sleep(0.02)  # a steady stream, as a busy room makes
