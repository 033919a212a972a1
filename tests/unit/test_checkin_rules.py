"""Check-ins against the core rules: what a check-in adds never lands on what it carried.

A check-in's log starts again at position 1, while the milestones and KPIs it carries keep the
ids their own session gave them (log positions there). These tests drive a workshop and its
check-in through ``decide`` and ``apply`` until the check-in's positions reach those ids.
"""

from __future__ import annotations

from tests.rehearsal import ANA, BEN, FAC, Rehearsal
from workshop import commands as c
from workshop.export import render
from workshop.state import SmartSheet, State, log_order

SHEET = SmartSheet(specific="30 leads a month", measurable="Qualified leads", achievable="Webinars",
                   relevant="Pipeline", time_bound="By 2027-06-30")  # fmt: skip


def _workshop() -> Rehearsal:
    """A finished workshop whose KPI, idea and milestones sit at low log positions."""
    w = Rehearsal()
    w.stage("review")
    w.do(FAC, c.DefineKpi, name="Qualified leads", unit="leads", baseline=20, target=30, target_date="2027-06-30")
    w.stage("stop_start_continue")
    w.do(ANA, c.PostIdea, category="start", text="Start a monthly webinar")
    (webinar,) = w.state.ideas
    w.stage("timeline")
    w.do(FAC, c.SaveMilestone, title="First webinar", owner="Ana", due="2027-01-29", idea_ids=(webinar,))
    w.do(FAC, c.SaveMilestone, title="Webinar series", owner="Ana", due="2027-02-26", cadence="monthly")
    w.do(ANA, c.RespondTimeline, agree=True)
    w.do(FAC, c.FinaliseTimeline)
    return w


def test_milestones_and_kpis_added_in_a_checkin_never_replace_carried_ones() -> None:
    """Without this, the milestone added at the check-in position equal to a carried id overwrote that one."""
    workshop = _workshop().state
    check = Rehearsal(continues=workshop)
    carried_ms, carried_kpis = dict(check.state.milestones), dict(check.state.kpis)
    highest = max(int(i) for i in (*carried_ms, *carried_kpis))
    check.stage("recalibrate")
    added = 0
    while check.state.seq <= highest + 1:  # until the log has passed every carried id
        check.do(FAC, c.SaveMilestone, title=f"Step {added}", owner="Ben", due="2027-03-01")
        check.do(FAC, c.DefineKpi, name=f"Measure {added}")
        added += 1
    assert len(check.state.milestones) == len(carried_ms) + added
    assert len(check.state.kpis) == len(carried_kpis) + added
    assert all(check.state.milestones[mid] == m for mid, m in carried_ms.items())
    assert all(check.state.kpis[kid] == k for kid, k in carried_kpis.items())
    # A second check-in continues the first: its own new ids are new again.
    again = Rehearsal(continues=check.state)
    again.stage("recalibrate")
    while again.state.seq <= highest + 1:
        again.do(FAC, c.SaveMilestone, title="Later step", owner="Ben", due="2027-04-01")
    assert set(check.state.milestones) < set(again.state.milestones)
    ids = [m.id for m in again.state.milestones.values()]
    assert sorted(ids, key=log_order)[: len(carried_ms)] == list(carried_ms)  # the workshop's first


def test_a_carried_milestone_is_not_linked_to_a_checkin_idea_with_the_same_id() -> None:
    """Without this, a check-in's transcript said a milestone came from a challenge posted that day."""
    workshop = _workshop()
    (webinar,) = workshop.state.ideas
    check = Rehearsal(continues=workshop.state)
    check.stage("challenges")
    while webinar not in check.state.ideas:
        check.do(BEN, c.PostIdea, category="challenge", text="Sales does not call back", anonymous=True)
    md = render(check.state, "md")
    assert "Sales does not call back" in md  # the challenge is there, as a challenge
    assert "From idea" not in md, md
    first = next(m for m in check.state.milestones.values() if m.title == "First webinar")
    assert first.idea_ids == ()
    assert "From idea 1: Start a monthly webinar" in render(workshop.state, "md")  # the workshop keeps the link


def _replayed(r: Rehearsal) -> State:
    from workshop.reducer import replay

    return replay(r.log)


def test_a_checkin_replays_alone() -> None:
    """Without this, a check-in's log would need the workshop's to fold (and the store keeps them apart)."""
    check = Rehearsal(continues=_workshop().state)
    check.stage("recalibrate")
    check.do(FAC, c.SaveMilestone, title="Step", owner="Ben", due="2027-03-01")
    assert _replayed(check) == check.state

