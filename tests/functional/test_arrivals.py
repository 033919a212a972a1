"""A crowd arriving together: announced in shared frames, and never in the way of what matters."""

from __future__ import annotations

from server.limits import Limits
from tests.harness import Harness
from workshop import commands as c
from workshop.protocol import Ack, Batch, Welcome


async def test_a_crowd_is_announced_together_and_holds_back_nothing(tmp_path) -> None:
    """Without this, 1,000 people joining cost the server a frame to everyone per arrival, or an ack waited on them."""
    # Arrivals may linger an hour here: only something else going out can send them.
    h = Harness(tmp_path / "w.db", Limits(commands_per_second=1e9, command_burst=10**9, join_linger=3600))
    try:
        await h.create()
        fay = await h.facilitator()
        crowd = [await h.join(f"Person {i}") for i in range(20)]
        assert fay.last_seq() < fay.room.published.seq, "the arrivals went out one by one"

        ack = await h.send(fay, c.SetStage(id="s", index=3))  # at once, taking the crowd with it

        assert isinstance(ack, Ack)
        kinds = [type(m) for m in fay.messages()]
        assert kinds == [Welcome, Batch, Ack], "twenty arrivals and the stage change should share one frame"
        for seat in [fay, *crowd]:
            await seat.caught_up()
            assert seat.replica() == seat.expected(), f"{seat.name} heard of the crowd out of order"
            assert len(seat.replica().participants) == 21
    finally:
        h.close()
