"""Make the screenshots in docs/tui.md: ``python docs/make_screenshots.py``.

A real server on 127.0.0.1, the host app and participant apps driven through a short workshop
at the sizes people use (80x24, and 60x20 for the smallest), saved as SVG next to this file.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from client.apps.host import host_app  # noqa: E402
from client.apps.participant import participant_app  # noqa: E402
from client.connection import Connection, Credentials, create_session  # noqa: E402
from tests.conftest import LiveServer, start_server, stop_server  # noqa: E402
from tests.functional.test_tui import go_to, online, open_session, reach  # noqa: E402
from workshop import commands as c  # noqa: E402

GOAL = "Grow qualified marketing leads from 20 to 30 a month by June"


async def main() -> None:
    live = await start_server(Path(tempfile.mkdtemp()) / "w.db")
    host, code = await open_session(live.url, goal=GOAL)
    ana = participant_app(Credentials(url=live.url, code=code, name="Ana"))
    ben = participant_app(Credentials(url=live.url, code=code, name="Ben"))
    async with host.run_test(size=(80, 24)) as hp, ana.run_test(size=(80, 24)) as ap, ben.run_test(size=(60, 20)) as bp:
        await online((hp, host), (ap, ana), (bp, ben))
        await go_to(hp, host, "stop_start_continue")
        ideas = [
            (ana, "start", "Start partner webinars with our top 3 resellers", False),
            (ben, "stop", "Stop buying cold lists: they never convert", True),
            (ana, "continue", "Keep the monthly newsletter, it brings half our MQLs", False),
            (ben, "start", "Start scoring leads with sales before handing them over", False),
        ]
        for app, category, text, anonymous in ideas:
            await app.conn.do(c.PostIdea, category=category, text=text, anonymous=anonymous)
        await host.conn.do(c.StartTimer, seconds=300)
        await reach(ana.conn, lambda s: len(s.ideas) == 4)
        await ap.press(*"Run a webinar with")
        await ap.press("down", "down")
        await hp.pause(0.5)
        host.save_screenshot("host.svg", str(HERE))
        ana.save_screenshot("participant.svg", str(HERE))
        ben.save_screenshot("participant-60x20.svg", str(HERE))

        await go_to(hp, host, "vote")
        state = host.conn.state
        webinars = next(i for i in state.ideas.values() if i.text.startswith("Start partner"))
        scoring = next(i for i in state.ideas.values() if i.text.startswith("Start scoring"))
        for app, votes in ((ana, (webinars, webinars, scoring)), (ben, (webinars, scoring, scoring))):
            for idea in votes:
                await app.conn.do(c.Vote, idea=idea.id, delta=1)
        await host.conn.do(c.RevealVotes)
        await reach(ana.conn, lambda s: s.revealed is not None)
        await hp.pause(0.5)
        host.save_screenshot("host-vote.svg", str(HERE))
        ana.save_screenshot("participant-vote.svg", str(HERE))

        await go_to(hp, host, "timeline")
        await host.conn.do(c.SaveMilestone, title="First partner webinar", owner="Ana", due="2027-01-08",
                           idea_ids=(webinars.id,))  # fmt: skip
        await host.conn.do(c.SaveMilestone, title="Lead scoring agreed with sales", owner="Ben", due="2027-02-28",
                           cadence="monthly", idea_ids=(scoring.id,))  # fmt: skip
        await ana.conn.do(c.RespondTimeline, agree=True)
        await ben.conn.do(c.RespondTimeline, agree=False, comment="February is tight: the CRM migration ends in March")
        await reach(host.conn, lambda s: len(s.responses) == 2)
        await hp.press("4")
        await hp.pause(0.5)
        host.save_screenshot("host-timeline.svg", str(HERE))
        ana.save_screenshot("participant-timeline.svg", str(HERE))
        await host.conn.do(c.ScheduleCheckin, date="2027-01-15", cadence="monthly")
        await host.conn.do(c.FinaliseTimeline)
        creds = host.conn.creds
    workshop = Connection(creds)  # the app closed its own connection when it ended
    await workshop.start()
    await checkin(live, workshop)
    await workshop.close()
    for app in (host, ana, ben):
        await app.conn.close()
    await stop_server(live)


async def checkin(live: LiveServer, workshop: Connection) -> None:
    """Two months on: a check-in with its numbers, at 80x24 for the host and 120x40 for a participant."""
    await workshop.do(c.SetStage, index=1)
    kpi = {"name": "Qualified leads", "unit": "leads/month", "baseline": 20, "baseline_period": "Q3 2026",
           "target": 30, "target_date": "2027-06-30", "owner": "Ana"}  # fmt: skip
    leads = str(await workshop.do(c.DefineKpi, **kpi))
    created = await create_session(live.url, name="Fay", continues=workshop.creds.session,
                                   continues_secret=workshop.creds.secret)  # fmt: skip
    creds = Credentials(url=live.url, session=created.session, secret=created.secret)
    host = host_app(creds, join_line=f"workshop join {live.url}/{created.code}")
    ana = participant_app(Credentials(url=live.url, code=created.code, name="Ana"))
    async with host.run_test(size=(80, 24)) as hp, ana.run_test(size=(120, 40)) as ap:
        await online((hp, host), (ap, ana))
        for value, period in ((22, "December 2026"), (23, "January 2027"), (26, "February 2027")):
            await host.conn.do(c.RecordActual, kpi=leads, value=value, period=period)
        await host.conn.do(c.SetStage, index=1)
        state = host.conn.state
        for m in state.timeline():
            if m.title.startswith("First"):
                await host.conn.do(c.SetMilestoneStatus, milestone=m.id, status="done", note="82 registrations")
            else:
                await host.conn.do(c.SetMilestoneStatus, milestone=m.id, status="at_risk", note="CRM migration late")
        await reach(ana.conn, lambda s: len(s.measurements) == 3 and s.stage_index == 1)
        await hp.press("5")
        await ap.press("f10")
        await hp.pause(0.5)
        host.save_screenshot("host-progress.svg", str(HERE))
        ana.save_screenshot("participant-progress.svg", str(HERE))
    for app in (host, ana):
        await app.conn.close()


if __name__ == "__main__":
    asyncio.run(main())
