"""The goal lives after the workshop: a workshop, then two check-ins, over real sockets.

Each check-in carries the goal, the KPIs with their numbers, the milestones and the next check-in
date; actuals pile up across the chain; owners report on their own milestones; every session's
log replays to its live state on its own; the calendar reads back with ``icalendar``; and a log
written by release 0.2 still loads, resumes and exports.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import icalendar
import pytest
from msgspec.structs import replace

from client.connection import CommandError, Connection, Credentials, JoinRefused, create_session
from server.transcript import load_session
from tests.conftest import LiveServer, start_server, stop_server
from workshop import commands as c
from workshop.agenda import CHECKIN_STAGES
from workshop.export import TRANSCRIPTS, load_json, render
from workshop.state import SmartSheet

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STAGE = {s.key: i for i, s in enumerate(CHECKIN_STAGES)}
SHEET = SmartSheet(specific="30 qualified leads a month", measurable="Qualified leads", achievable="Two webinars",
                   relevant="Pipeline", time_bound="By 2027-06-30")  # fmt: skip


async def _checkin(live: LiveServer, previous: Connection) -> tuple[Connection, str]:
    """The facilitator of ``previous`` opens a check-in continuing it."""
    created = await create_session(
        live.url, name="Fay", continues=previous.creds.session, continues_secret=previous.creds.secret
    )
    fay = Connection(Credentials(url=live.url, session=created.session, secret=created.secret))
    await fay.start()
    live.clients.append(fay)
    return fay, created.code


async def _workshop(live: LiveServer) -> tuple[Connection, str]:
    fay, code = await live.facilitator(goal="30 new leads a month")
    ana = await live.participant(code, "Ana")
    await fay.do(c.SetStage, index=1)
    leads = str(await fay.do(c.DefineKpi, name="Qualified leads", unit="leads/month", baseline=20,
                             baseline_period="Q3 2026", target=30, target_date="2027-06-30", owner="Ana"))  # fmt: skip
    await fay.do(c.SetStage, index=2)
    await fay.do(c.AdoptGoal, sheet=SHEET)
    await fay.do(c.SetStage, index=8)
    year = str(await fay.do(c.SaveMilestone, title="Pipeline at 30 a month", owner="Fay", due="2027-06-30"))
    await fay.do(c.SaveMilestone, title="First partner webinar", owner="Ana", owner_id=ana.you, due="2027-01-29",
                 parent=year)  # fmt: skip
    await fay.do(c.SaveMilestone, title="Webinar series", owner="Ana", due="2027-02-26", cadence="monthly",
                 parent=year)  # fmt: skip
    await fay.do(c.ScheduleCheckin, date="2027-01-15", cadence="monthly")
    await ana.do(c.RespondTimeline, agree=True)
    await fay.do(c.FinaliseTimeline)
    assert leads in fay.state.kpis
    return fay, code


async def test_a_workshop_and_two_checkins_carry_the_goal_and_its_numbers(
    live: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without this, the action items and the numbers would stop at the end of the meeting."""
    fay0, _ = await _workshop(live)
    first = fay0.state

    fay1, code1 = await _checkin(live, fay0)
    carried = fay1.state
    assert carried.kind == "checkin" and carried.chain == (first.session,)
    assert carried.goal == first.goal and carried.team_goal == first.team_goal
    assert carried.kpis == first.kpis
    # Idea links and seats picked from the room belong to the workshop; the rest is carried as it was.
    assert carried.milestones == {k: replace(m, idea_ids=(), owner_id=None) for k, m in first.milestones.items()}
    assert carried.next_checkin == "2027-01-15" and not carried.finalised
    assert [s.key for s in carried.agenda] == list(STAGE)
    (leads,) = carried.kpis

    ana = await live.participant(code1, "Ana")
    ben = await live.participant(code1, "Ben")
    await fay1.do(c.RecordActual, kpi=leads, value=22, period="December 2026")
    await ana.do(c.RecordActual, kpi=leads, value=23, period="January 2027")  # she owns the KPI
    with pytest.raises(CommandError) as refused:
        await ben.do(c.RecordActual, kpi=leads, value=99, period="January 2027")
    assert refused.value.code == "forbidden"
    await fay1.do(c.SetStage, index=STAGE["milestones"])
    webinar = next(m for m in carried.milestones.values() if m.title == "First partner webinar")
    series = next(m for m in carried.milestones.values() if m.title == "Webinar series")
    with pytest.raises(CommandError):  # her seat in the workshop is not her seat here: the owner is by name
        await ben.do(c.SetMilestoneStatus, milestone=series.id, status="done")
    await ana.do(c.SetMilestoneStatus, milestone=series.id, status="at_risk", note="No speaker for February yet")
    # Picked from the workshop's room, she reports from her new seat; Ben may not.
    with pytest.raises(CommandError):
        await ben.do(c.SetMilestoneStatus, milestone=webinar.id, status="at_risk")
    await ana.do(c.SetMilestoneStatus, milestone=webinar.id, status="done", note="82 registrations")
    await fay1.do(c.SetStage, index=STAGE["challenges"])
    await ben.do(c.PostIdea, category="challenge", text="Sales does not call back within a day", anonymous=True)
    await fay1.do(c.SetStage, index=STAGE["recalibrate"])
    await fay1.do(c.SaveMilestone, milestone=series.id, title="Webinar series", owner="Ana", due="2027-03-26",
                  cadence="monthly", parent=series.parent or "")  # fmt: skip
    await fay1.do(c.ScheduleCheckin, date="2027-02-12", cadence="monthly")
    await fay1.do(c.SetStage, index=STAGE["agree"])
    await ana.do(c.RespondTimeline, agree=True)
    await ben.do(c.RespondTimeline, agree=True)
    await fay1.do(c.FinaliseTimeline)
    second = await fay1.wait_for(lambda s: s.finalised)
    edited = second.milestones[series.id]
    assert edited.status == "at_risk" and edited.due == "2027-03-26"  # an edit keeps the owner's report

    fay2, _ = await _checkin(live, fay1)
    third = fay2.state
    assert third.chain == (first.session, second.session)
    assert [(m.period, m.value) for m in third.measurements] == [("December 2026", 22), ("January 2027", 23)]
    await fay2.do(c.RecordActual, kpi=leads, value=26, period="February 2027")
    final = await fay2.wait_for(lambda s: len(s.measurements) == 3)
    assert final.milestones[webinar.id].status == "done"

    # Each log on its own replays to what the room had: a check-in's needs none of the others.
    for state in (fay0.state, fay1.state, fay2.state):
        assert load_session(live.db, state.session) == live.app.rooms[state.session].published

    md = render(final, "md")
    assert "| Qualified leads | 20 leads/month (Q3 2026) | 30 leads/month by 2027-06-30 | 26 leads/month" in md
    assert "60% of the way" in md and "xychart-beta" in md and "line [20, 22, 23, 26]" in md
    assert "This is check-in 2 of the workshop" in md and "at risk: Webinar series" in md
    kpi_rows = [line for line in render(final, "csv").splitlines() if line.startswith("kpi,")]
    assert len(kpi_rows) == 5  # baseline, three actuals, target
    reloaded = load_json(render(final, "json"))
    assert reloaded.measurements == final.measurements and reloaded.kpis == final.kpis
    assert reloaded.milestones[series.id].status == "at_risk" and reloaded.chain == final.chain

    # The chain, as `workshop sessions` shows it.
    from cli.main import main

    assert main(["sessions", "--db", str(live.db)]) == 0
    listed = [line.split("events")[1].split()[:3] for line in capsys.readouterr().out.splitlines()]
    assert listed == [["workshop", "30", "new"], ["->", "check-in", "1"], ["->", "check-in", "2"]]


async def test_only_a_facilitator_of_a_session_opens_its_checkin(live: LiveServer) -> None:
    """Without this, anyone with a session id could copy a team's goal and numbers into a session of their own."""
    fay, code = await _workshop(live)
    ana = await live.participant(code, "Ana")
    for secret in ("x" * 43, ana.creds.token):
        with pytest.raises(JoinRefused):
            await create_session(live.url, continues=fay.creds.session, continues_secret=secret)


def _events(ics: str) -> list[icalendar.Event]:
    cal = icalendar.Calendar.from_ical(ics)
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    return list(cal.walk("VEVENT"))


async def test_the_calendar_reads_back_with_due_dates_and_recurring_checkins(live: LiveServer) -> None:
    """Without this, the milestones would stay in a file nobody's calendar shows."""
    fay0, _ = await _workshop(live)
    events = _events(render(fay0.state, "ics"))
    by_title = {str(ev["SUMMARY"]): ev for ev in events}
    webinar = by_title["First partner webinar"]
    assert webinar.decoded("DTSTART") == dt.date(2027, 1, 29) and webinar.decoded("DTEND") == dt.date(2027, 1, 30)
    assert "Owner: Ana" in str(webinar["DESCRIPTION"]) and "30 new leads a month" in str(webinar["DESCRIPTION"])
    assert by_title["Webinar series"]["RRULE"]["FREQ"] == ["MONTHLY"]
    checkins = next(ev for ev in events if str(ev["SUMMARY"]).startswith("Check-in"))
    assert checkins.decoded("DTSTART") == dt.date(2027, 1, 15) and checkins["RRULE"]["FREQ"] == ["MONTHLY"]
    # A later export (from the check-in) updates the same events: the UIDs do not change.
    fay1, _ = await _checkin(live, fay0)
    again = {str(ev["SUMMARY"]): str(ev["UID"]) for ev in _events(render(fay1.state, "ics"))}
    assert {t: str(ev["UID"]) for t, ev in by_title.items()} == again
    assert render(fay0.state, "ics") == render(fay0.state, "ics")  # the same state, the same file


async def test_a_release_0_2_log_loads_resumes_and_exports(tmp_path: Path) -> None:
    """Without this, the workshops run before KPIs had numbers could not be continued or exported."""
    import json

    db = tmp_path / "w.db"
    shutil.copy(FIXTURES / "release-0.2.db", db)
    info = json.loads((FIXTURES / "release-0.2.json").read_text())
    live = await start_server(db)
    try:
        fay = Connection(Credentials(url=live.url, session=info["session"], secret=info["secret"]))
        ana = Connection(Credentials(url=live.url, session=info["session"], token=info["people"]["Ana"]["token"]))
        for conn in (fay, ana):
            await conn.start()
            live.clients.append(conn)
        state = fay.state
        assert state.finalised and state.seq == info["seq"] and ana.you == info["people"]["Ana"]["id"]
        assert state.kpis["Conversion"].note == "2.1% of visits, Q3"
        assert len(state.rounds) == 1 and state.rounds[0].responses[info["people"]["Ben"]["id"]].comment
        check, _ = await _checkin(live, fay)  # and it can be continued
        assert check.state.kpis == state.kpis
        assert check.state.milestones == {k: replace(m, idea_ids=()) for k, m in state.milestones.items()}
    finally:
        await stop_server(live)
    reloaded = load_session(db, info["session"])
    assert reloaded is not None
    for fmt in TRANSCRIPTS:
        text = render(reloaded, fmt)
        assert "Start a monthly webinar" in text and "2.1% of visits, Q3" in text, fmt
    assert "First webinar" in render(reloaded, "ics")
