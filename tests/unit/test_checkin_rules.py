"""Check-ins against the core rules: what a check-in adds never lands on what it carried.

A check-in's log starts again at position 1, while the milestones and KPIs it carries keep the
ids their own session gave them (log positions there). These tests drive a workshop and its
check-in through ``decide`` and ``apply`` until the check-in's positions reach those ids.
"""

from __future__ import annotations

import datetime as dt

import icalendar
from dateutil.rrule import rrulestr

from tests.rehearsal import ANA, BEN, FAC, Rehearsal
from workshop import commands as c
from workshop.export import render
from workshop.progress import series, share_of_the_way
from workshop.rules import Actor
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


def _calendar(state: State) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(render(state, "ics"))
    return {str(ev["SUMMARY"]): ev for ev in cal.walk("VEVENT")}


def _dates(event: icalendar.Event, n: int) -> list[dt.date]:
    """The first ``n`` days ``event`` falls on, expanded the way RFC 5545 reads its RRULE."""
    start = event.decoded("DTSTART")
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=dt.datetime.combine(start, dt.time()))
    return [d.date() for d in rule[:n]]


def test_series_due_at_the_end_of_a_month_come_back_every_month() -> None:
    """Without this, a monthly milestone due on the 31st vanished from every shorter month."""
    w = Rehearsal()
    w.stage("timeline")
    w.do(FAC, c.SaveMilestone, title="Month closes", owner="Ana", due="2027-01-31", cadence="monthly")
    w.do(FAC, c.SaveMilestone, title="Newsletter", owner="Ana", due="2027-01-30", cadence="monthly")
    w.do(FAC, c.SaveMilestone, title="Board pack", owner="Ana", due="2026-12-31", cadence="quarterly")
    w.do(FAC, c.SaveMilestone, title="Webinar", owner="Ana", due="2027-01-15", cadence="monthly")
    w.do(FAC, c.ScheduleCheckin, date="2027-01-29", cadence="monthly")
    events = _calendar(w.state)
    assert _dates(events["Month closes"], 4) == [dt.date(2027, 1, 31), dt.date(2027, 2, 28), dt.date(2027, 3, 31),
                                                 dt.date(2027, 4, 30)]  # fmt: skip
    assert _dates(events["Newsletter"], 3) == [dt.date(2027, 1, 30), dt.date(2027, 2, 28), dt.date(2027, 3, 30)]
    assert _dates(events["Board pack"], 3) == [dt.date(2026, 12, 31), dt.date(2027, 3, 31), dt.date(2027, 6, 30)]
    assert _dates(events["Webinar"], 2) == [dt.date(2027, 1, 15), dt.date(2027, 2, 15)]
    checkins = next(ev for title, ev in events.items() if title.startswith("Check-in"))
    assert _dates(checkins, 2) == [dt.date(2027, 1, 29), dt.date(2027, 2, 28)]


def test_a_milestone_made_in_a_checkin_has_its_own_calendar_uid_kept_by_later_exports() -> None:
    """Without this, a check-in's new milestone took the UID of a workshop milestone and replaced it in calendars."""
    workshop = _workshop().state
    check = Rehearsal(continues=workshop)
    check.stage("recalibrate")
    while check.state.seq <= max(int(m) for m in workshop.milestones):  # a position equal to a carried id
        check.do(FAC, c.SaveMilestone, title=f"Step {check.state.seq}", owner="Ben", due="2027-03-01")
    uids = {title: str(ev["UID"]) for title, ev in _calendar(check.state).items()}
    assert len(set(uids.values())) == len(uids)
    before = {title: str(ev["UID"]) for title, ev in _calendar(workshop).items()}
    assert all(uids[title] == uid for title, uid in before.items())  # the workshop's UIDs are unchanged
    later = {title: str(ev["UID"]) for title, ev in _calendar(Rehearsal(continues=check.state).state).items()}
    assert later == uids


def test_negative_figures_stay_numbers_in_the_csv_and_text_stays_defused() -> None:
    """Without this, a KPI falling below zero was written '-3.5, which a spreadsheet reads as text."""
    w = Rehearsal()
    w.stage("review")
    w.do(FAC, c.DefineKpi, name="Churn change", unit="%", baseline=-3.5, target=-1, baseline_period="=Q3")
    rows = [line for line in render(w.state, "csv").splitlines() if line.startswith("kpi,")]
    assert rows[0].split(",")[14:17] == ["-3.5", "%", "'=Q3"]
    assert rows[1].split(",")[14] == "-1"


def test_a_target_of_zero_and_a_single_next_checkin_read_as_people_would_say_them() -> None:
    """Without this, the chart of a KPI going down to zero lost its target, and one check-in read "then once"."""
    from client.widgets.progress import progress

    w = Rehearsal()
    w.stage("review")
    w.do(FAC, c.DefineKpi, name="Open defects", baseline=12, baseline_period="Q3", target=0, target_date="2027-06-30")
    w.do(FAC, c.ScheduleCheckin, date="2027-01-15", cadence="once")
    shown = progress(w.state).plain
    assert "→ target 2027-06-30" in shown and "Next check-in: 2027-01-15." in shown and "then" not in shown
    assert "Next check-in: 2027-01-15.\n" in render(w.state, "md")


def test_a_figure_recorded_again_for_its_period_corrects_it_everywhere() -> None:
    """Without this, a corrected December figure became the KPI's latest and December showed twice."""
    w = Rehearsal()
    w.stage("review")
    w.do(FAC, c.DefineKpi, name="Leads", baseline=20, baseline_period="Q3", target=30, target_date="2027-06-30")
    (kpi,) = w.state.kpis
    for value, period in ((22, "December 2026"), (25, "January 2027"), (21, "december  2026")):
        w.do(FAC, c.RecordActual, kpi=kpi, value=value, period=period)
    assert len(w.state.measurements) == 3  # the log keeps every figure given
    assert [(p.label, p.value) for p in series(w.state, w.state.kpis[kpi])] == [
        ("Q3", 20),
        ("december  2026", 21),
        ("January 2027", 25),
    ]
    assert share_of_the_way(w.state, w.state.kpis[kpi]) == 0.5
    assert [row.split(",")[14] for row in render(w.state, "csv").splitlines() if ",actual," in row] == ["21", "25"]
    assert "line [20, 21, 25]" in render(w.state, "md")


def test_an_owner_picked_from_the_workshop_room_reports_on_the_milestone_at_the_checkin() -> None:
    """Without this, the owner picked from the room could not report at a check-in, where their seat is new."""
    w = Rehearsal()
    w.stage("timeline")
    w.do(FAC, c.SaveMilestone, title="First webinar", owner="Ana", owner_id=ANA.id, due="2027-01-29")
    (webinar,) = w.state.milestones
    ana_again, ben_again = Actor(id="a2", seal_key=b"a2"), Actor(id="b2", seal_key=b"b2")
    check = Rehearsal(people=((FAC, "Fay"), (ana_again, "Ana"), (ben_again, "Ben")), continues=w.state)
    assert check.state.milestones[webinar].owner_id is None  # it named a seat of the workshop
    check.stage("milestones")
    check.refuse(ben_again, c.SetMilestoneStatus, milestone=webinar, status="done")
    check.do(ana_again, c.SetMilestoneStatus, milestone=webinar, status="on_track", note="Speaker booked")
    assert check.state.milestones[webinar].status == "on_track"
