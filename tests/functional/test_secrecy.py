"""Generated workshops through the server's own path: replicas, anonymity and ballots, checked end to end.

Each example runs a random command sequence through the real handshake, rules, rooms, fan-out
and SQLite log (``tests/harness.py``: only the socket writes are recorded instead), then checks
what every connection was sent, what a late joiner and two resuming connections get, what the
log file holds and what the transcripts say. The two secrecy properties compare two runs that
differ in one secret only, who wrote an anonymous idea or where one dot went: whatever anyone
else could see must be the same in both, so nobody could tell which run they were in.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from msgspec.structs import replace

from server.limits import Limits
from tests.harness import Harness, Seat, normalised, seeded_credentials
from tests.steps import ACTORS, Fixed, Step, draft, steps
from workshop import commands as c
from workshop.export import FORMATS, render
from workshop.protocol import Hello
from workshop.state import State

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAC, ANA, BEN, CY = ACTORS
IDEAS, VOTE = 3, 7  # stage indexes in the default agenda
FAR, NEAR = 2, 2  # the resumes: Fay from seq 2 (from the log file), Cy from 2 events before the end (memory)
SECRET = "The idea nobody dares to say"


@dataclass
class World:
    seats: dict[str, Seat]  # by the actor ids of tests.steps: f, a, b, c
    observers: dict[str, Seat]  # joined after the workshop: a newcomer, Fay resuming from the start, Cy near the end
    state: State
    tables: dict[str, list[tuple[object, ...]]]
    exports: dict[str, str]


async def _run(db: Path, sent: list[tuple[str, c.Command]], seed: str) -> World:
    with seeded_credentials(seed):
        # A short tail, so that the far resume below is served from the log file, the near one from memory.
        # Arrivals go out at once: the two worlds are compared frame by frame, and a timer firing
        # at a different moment under load would group the same events into other frames.
        h = Harness(db, Limits(commands_per_second=1e9, command_burst=10**9, tail_events=6, join_linger=0))
        try:
            await h.create()
            seats = {"f": await h.facilitator()}
            for actor in ACTORS[1:]:
                seats[actor.id] = await h.join({"a": "Ana", "b": "Ben", "c": "Cy"}[actor.id])
            for who, cmd in sent:
                await h.send(seats[who], cmd)
            room = seats["f"].room
            state = room.published

            epoch = room.row.epoch
            far = Hello(session=h.session, secret=h.secret, last_seq=FAR, epoch=epoch)
            near = Hello(session=h.session, token=seats["c"].token, last_seq=near_seq(seats, state), epoch=epoch)
            observers = {"newcomer": await h.join("Lee"), "far resume": await h.join("", far)}
            observers["near resume"] = await h.join("", near)
            for seat in [*seats.values(), *observers.values()]:
                await seat.caught_up()
            exports = {fmt: render(state, fmt) for fmt in FORMATS}
            return World(seats, observers, state, h.tables(), exports)
        finally:
            h.close()


def near_seq(seats: dict[str, Seat], state: State) -> int:
    """Where Cy resumes from: a few events before the end, but not before she joined."""
    return max(state.seq - NEAR, seats["c"].messages()[0].seq)


def world(sent: list[tuple[str, c.Command]], seed: str = "w") -> World:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_run(Path(tmp) / "w.db", sent, seed))


@SETTINGS
@given(steps)
def test_every_replica_is_the_servers_state_through_its_audience(steps: list[Step]) -> None:
    """Without this, a participant's screen could miss their own dot or idea, or hold someone else's ballot."""
    _state, _log, sent = draft(steps)
    w = world(sent)
    starts = {
        "far resume": w.seats["f"].replica(upto=FAR),
        "near resume": w.seats["c"].replica(upto=near_seq(w.seats, w.state)),
    }
    for name, seat in {**w.seats, **w.observers}.items():
        replica = seat.replica(starts.get(name))
        assert replica == seat.expected(), f"{name}'s replica differs from what the server says they may see"
        you = seat.conn.actor.id
        if not replica.open_voting:
            assert set(replica.ballots) <= {you}, f"{name} holds someone else's ballot"
        for idea in replica.ideas.values():
            assert idea.seal is None and (idea.author in (None, you) or not idea.anonymous), name


def _first_and_rest(steps: list[Step]) -> tuple[list[Step], list[Step]]:
    half = len(steps) // 2
    return steps[:half], steps[half:]


@SETTINGS
@given(steps)
def test_who_wrote_an_anonymous_idea_shows_nowhere(steps: list[Step]) -> None:
    """Without this, the log, a transcript or a frame to the room could name whoever posted anonymously."""
    before, after = _first_and_rest(steps)
    post: Fixed = (ANA, c.PostIdea(id="x", category="stop", text=SECRET, anonymous=True))
    items: list[Step | Fixed] = [*before, (FAC, c.SetStage(id="x", index=IDEAS)), post, *after]
    _state, log, sent = draft(items)
    at = len(before) + 1
    idea = next(str(seq) for seq, ev in log if getattr(getattr(ev, "idea", None), "text", None) == SECRET)

    # The other world: Ben posted it, and whoever edits or withdraws it is swapped with him too.
    def swapped(n: int, who: str, cmd: c.Command) -> tuple[str, c.Command]:
        touches = n == at or (isinstance(cmd, c.EditIdea | c.WithdrawIdea) and cmd.idea == idea)
        return ({"a": "b", "b": "a"}.get(who, who) if touches else who), cmd

    ana, ben = world(sent), world([swapped(n, who, cmd) for n, (who, cmd) in enumerate(sent)])
    for name in ("f", "c"):
        assert normalised(ana.seats[name].outbox.frames) == normalised(ben.seats[name].outbox.frames), name
    for name, seat in ana.observers.items():
        assert normalised(seat.outbox.frames) == normalised(ben.observers[name].outbox.frames), name
    assert ana.exports == ben.exports
    assert ana.tables == ben.tables, "the log file differs with who posted the anonymous idea"


@SETTINGS
@given(steps)
def test_where_a_dot_went_shows_to_nobody_but_the_voter(steps: list[Step]) -> None:
    """Without this, a withdrawal, a merge, a resume or a transcript could tell the room who voted for what."""
    before, after = _first_and_rest(steps)
    setup: list[Fixed] = [
        (FAC, c.SetStage(id="x", index=IDEAS)),
        (BEN, c.PostIdea(id="x", category="start", text="Idea X")),
        (CY, c.PostIdea(id="x", category="start", text="Idea Y")),
        (FAC, c.SetStage(id="x", index=VOTE)),
    ]
    _state, log, _ = draft([*before, *setup])
    x, y = (str(seq) for seq, ev in log if getattr(getattr(ev, "idea", None), "text", "") in ("Idea X", "Idea Y"))
    # Ana's later votes would differ in what they may do, by her own hand: leave them out of both worlds.
    rest = [s for s in after if not (s.actor == ANA and s.kind == "vote")]
    _state, _log, sent_x = draft([*before, *setup, (ANA, c.Vote(id="x", idea=x)), *rest])
    at = len(before) + len(setup)
    sent_y = [*sent_x[:at], ("a", replace(sent_x[at][1], idea=y)), *sent_x[at + 1 :]]
    wx, wy = world(sent_x), world(sent_y)
    if wx.state.open_voting:
        return  # everyone saw open voting chosen before the first dot: ballots are public by design
    for name in ("f", "b", "c"):
        frames_x, frames_y = wx.seats[name].outbox.frames, wy.seats[name].outbox.frames
        assert normalised(frames_x, totals=True) == normalised(frames_y, totals=True), name
    for name, seat in wx.observers.items():
        frames_x, frames_y = seat.outbox.frames, wy.observers[name].outbox.frames
        assert normalised(frames_x, totals=True) == normalised(frames_y, totals=True), name
    for fmt in FORMATS:
        hidden_x, hidden_y = (render(replace(w.state, revealed=None), fmt) for w in (wx, wy))
        assert hidden_x == hidden_y, f"the {fmt} transcript depends on where Ana's dot went"
