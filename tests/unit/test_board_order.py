"""The orders the boards keep from event to event are the orders a fresh sort gives.

The apps keep the board in order by placing each new idea (``workshop.ideas``) and show the
participant's list as runs of it (``client.widgets.ideas``), so that an event costs the same at
40 ideas or 5,000. Generated workshops check both against sorting from scratch after every event.
"""

from __future__ import annotations

from itertools import groupby
from operator import attrgetter

from hypothesis import HealthCheck, given, settings

from client.widgets.ideas import ordered
from tests.steps import Step, draft, steps
from workshop.ideas import _sort_key, board_order, groups, live_order, numbers
from workshop.reducer import apply
from workshop.state import State


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_the_kept_orders_are_the_orders_sorted_afresh(steps: list[Step]) -> None:
    """Without this, a kept order could drift from the one every export and number uses: a
    participant would call out idea 7 and the host would see another idea under that number."""
    _live, log, _sent = draft(steps)
    state = State()
    for seq, event in log:
        state = apply(state, event, seq)
        fresh = sorted(state.ideas.values(), key=_sort_key(state, state.revealed))
        assert board_order(state) == fresh
        assert live_order(state) == [i for i in fresh if i.live]
        unrevealed = sorted(state.ideas.values(), key=_sort_key(state, None))
        expected = {i.id: n for n, i in enumerate(unrevealed, start=1)}
        assert numbers(state) == expected
        # Asked for as a screen asks (the live ideas in board order: some skipped, and after a
        # reveal another order), and backwards: each number is the same however it is reached.
        number = numbers(state)
        assert [number[i.id] for i in live_order(state)] == [expected[i.id] for i in live_order(state)]
        assert [number[k] for k in reversed(expected)] == list(reversed(expected.values()))
        # The host's board: the live ideas cut into one run per stage and category.
        cut = [(*k, list(g)) for k, g in groupby(live_order(state), key=attrgetter("stage", "category"))]
        assert [(s, c, list(g)) for s, c, g in groups(state)] == cut
        # The participant's list: the current stage's ideas first, then the rest, in board order.
        here = state.stage.key
        shown = [i for run in ordered(state) for i in run]
        assert shown == sorted(live_order(state), key=lambda i: i.stage != here)
