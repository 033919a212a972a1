"""Provides ``for_export``: the state a transcript may hold, whoever's copy it was taken from.

A transcript leaves the room: it is mailed to a manager, attached to a ticket, read months later.
So it keeps the room's secrets. No anonymous idea carries its author, seal or posting time; no
ballot appears (only totals, and only after the reveal) unless the facilitator chose open voting;
and ideas are renumbered in board order (see :mod:`workshop.ideas`), since their log positions
would give away the order they were posted in.
"""

from __future__ import annotations

from msgspec.structs import replace

from workshop.ideas import numbers
from workshop.state import Idea, State


def for_export(state: State) -> State:
    number = {iid: str(n) for iid, n in numbers(state).items()}

    def ref(iid: str) -> str:
        return number.get(iid, iid)

    def idea(i: Idea) -> Idea:
        return replace(
            i,
            id=ref(i.id),
            merged_into=ref(i.merged_into) if i.merged_into is not None else None,
            author=None if i.anonymous else i.author,
            seal=None,
            posted_at=0.0 if i.anonymous else i.posted_at,
        )

    ballots = (
        {voter: {ref(k): v for k, v in ballot.items()} for voter, ballot in state.ballots.items()}
        if state.open_voting
        else {}
    )
    return replace(
        state,
        ideas={ref(iid): idea(i) for iid, i in state.ideas.items()},
        ballots=ballots,
        revealed={ref(k): v for k, v in state.revealed.items()} if state.revealed is not None else None,
        milestones={mid: replace(m, idea_ids=tuple(ref(i) for i in m.idea_ids)) for mid, m in state.milestones.items()},
    )
