"""The Markdown transcript of one whole workshop, word for word, as the person it is forwarded to reads it.

The expected file is ``tests/golden/workshop.md``; read it as that person would before changing
it. ``WORKSHOP_UPDATE_GOLDEN=1 pytest tests/unit/test_markdown_golden.py`` rewrites it.
"""

from __future__ import annotations

import os
from pathlib import Path

from msgspec.structs import replace

from tests.rehearsal import ANA, BEN, FAC, Rehearsal
from workshop import commands as c
from workshop.export.markdown import render_markdown
from workshop.state import SmartSheet

GOLDEN = Path(__file__).parent.parent / "golden" / "workshop.md"


def whole_workshop() -> Rehearsal:
    r = Rehearsal(goal="Grow qualified marketing leads from 20 to 30 a month (MQL->SQL)")
    r.state = replace(r.state, started_at=1795608000.0)  # Wednesday 25 November 2026, 12:00 UTC
    r.stage("review")
    r.do(FAC, c.SetKpi, name="Reach", value="12,000 visits a month (from the 0.2 release's free-text KPIs)")
    r.do(FAC, c.DefineKpi, name="Qualified leads", unit="MQL/month", baseline=20, baseline_period="Q3 2026",
         target=30, target_date="2027-06-30", owner="Ana")  # fmt: skip
    r.stage("smart")
    sheet = SmartSheet(
        specific="30 qualified leads a month from webinars",
        measurable="MQL->SQL rate, monthly",
        achievable="",
        relevant="Sales asked for it: pipeline is 40% short.",
        time_bound="By 2027-06-30",
    )
    r.do(ANA, c.SubmitSmart, sheet=sheet)
    r.do(FAC, c.AdoptGoal, sheet=replace(sheet, achievable="Two webinars a month, with the team we have"))
    r.stage("stop_start_continue")
    webinars = r.do(ANA, c.PostIdea, category="start", text="Start partner webinars with our top 3 resellers")
    r.do(BEN, c.PostIdea, category="stop", text="Stop buying *cold* lists [they never convert]")
    r.do(BEN, c.PostIdea, category="continue", text="Keep the monthly newsletter_v2 # it works", anonymous=True)
    r.stage("vote")
    r.do(ANA, c.Vote, idea=str(webinars), delta=1)
    r.do(BEN, c.Vote, idea=str(webinars), delta=1)
    r.do(FAC, c.RevealVotes)
    r.stage("timeline")
    first = r.do(
        FAC, c.SaveMilestone, title="First partner webinar", owner="Ana", due="2027-01-08", idea_ids=(str(webinars),)
    )
    r.do(FAC, c.SaveMilestone, title="Lead scoring live", owner="Ben", due="2027-02-28", cadence="monthly")
    r.do(ANA, c.RespondTimeline, agree=True)
    concern = "Lead scoring by Feb 28 is unrealistic: the CRM\nmigration ends in March."
    r.do(BEN, c.RespondTimeline, agree=False, comment=concern)
    milestone = next(m for m in r.state.milestones.values() if m.title == "Lead scoring live")
    r.do(FAC, c.SaveMilestone, milestone=milestone.id, title="Lead scoring live", owner="Ben", due="2027-04-15")
    r.do(ANA, c.RespondTimeline, agree=True)
    r.do(BEN, c.RespondTimeline, agree=True, comment="April works.")
    r.do(FAC, c.FinaliseTimeline)
    assert first
    return r


def test_the_markdown_transcript_reads_as_written() -> None:
    """Without this, a manager would get escapes, lose a concern, or miss the date and the top ideas."""
    text = render_markdown(whole_workshop().state)
    if os.environ.get("WORKSHOP_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
