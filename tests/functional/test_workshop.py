"""A complete SMART workshop over a real server on 127.0.0.1: one facilitator, three participants."""

from __future__ import annotations

import sqlite3

import msgspec
import pytest

from client.connection import CommandError
from server.transcript import load_session
from tests.rawtap import RawTap
from workshop import commands as c
from workshop.agenda import DEFAULT_STAGES
from workshop.export import render
from workshop.protocol import Hello
from workshop.state import SmartSheet

STAGE = {s.key: i for i, s in enumerate(DEFAULT_STAGES)}
ANON_TEXT = "Stop the weekly cold-call blitz"

SHEET = SmartSheet(
    specific="Inbound leads from LinkedIn campaigns for the mid-market segment",
    measurable="30 qualified leads a month, from 12 today",
    achievable="Two campaigns a month with the current team of four",
    relevant="Pipeline is the bottleneck for next year's revenue plan",
    time_bound="By 2027-06-30, reviewed monthly",
)


async def test_complete_workshop(live, until, tmp_path) -> None:
    """Without this, a team could not run the SMART workshop end to end and trust its record."""
    fac, code = await live.facilitator()
    ana = await live.participant(code, "Ana")
    ben = await live.participant(code, "Ben")
    cy = await live.participant(code, "Cy")
    people = [ana, ben, cy]
    session = fac.creds.session

    # Everyone but Ana also gets a raw tap, to check what the wire carried to them.
    taps = [await RawTap.open(live.url, Hello(session=session, token=p.creds.token)) for p in (ben, cy)]
    taps.append(await RawTap.open(live.url, Hello(session=session, secret=fac.creds.secret)))

    # 1 Goal and 2 Review: KPIs are set, an observation is posted.
    await fac.do(c.SetKpi, name="Reach", value="48,000 impressions")
    await fac.do(c.SetStage, index=STAGE["review"])
    for p in people:
        await until(p, lambda s: s.stage.key == "review")
    with pytest.raises(CommandError) as wrong:
        await ana.do(c.Vote, idea="1")
    assert wrong.value.code == "wrong_stage" and "Review" in wrong.value.message
    await ben.do(c.PostIdea, category="observation", text="Engagement fell in Q3")

    # 3 SMART sheet: each fills it, the facilitator adopts one team goal.
    await fac.do(c.SetStage, index=STAGE["smart"])
    await until(ana, lambda s: s.stage.kind == "smart")
    for p in people:
        await p.do(c.SubmitSmart, sheet=SHEET)
    await fac.do(c.AdoptGoal, sheet=SHEET)

    # 4-7 idea stages; Ana posts anonymously, Ben posts a duplicate that gets merged.
    await fac.do(c.SetStage, index=STAGE["stop_start_continue"])
    await until(cy, lambda s: s.stage.key == "stop_start_continue")
    anon_seq = await ana.do(c.PostIdea, category="stop", text=ANON_TEXT, anonymous=True)
    keep = await ben.do(c.PostIdea, category="start", text="Start a monthly webinar")
    dup = await cy.do(c.PostIdea, category="start", text="Monthly webinars!")
    cont = await cy.do(c.PostIdea, category="continue", text="Continue the newsletter")
    anon_id, keep_id, dup_id, cont_id = str(anon_seq), str(keep), str(dup), str(cont)
    own = await until(ana, lambda s: anon_id in s.ideas)
    assert own.ideas[anon_id].author == ana.you  # the author knows it is theirs
    await ana.do(c.EditIdea, idea=anon_id, text=ANON_TEXT + " (all of it)")
    with pytest.raises(CommandError):
        await ben.do(c.EditIdea, idea=anon_id, text="hijacked")
    for key, cat, text in (
        ("six_months", "missing", "No lead-routing process yet"),
        ("new_ways", "idea", "Partner co-marketing"),
        ("why", "benefit", "Predictable pipeline"),
    ):
        await fac.do(c.SetStage, index=STAGE[key])
        await until(ben, lambda s, k=key: s.stage.key == k)
        await ben.do(c.PostIdea, category=cat, text=text)
        await ben.do(c.MarkDone)
    await until(fac, lambda s: s.done_count() == 1)
    await fac.do(c.MergeIdeas, source=dup_id, target=keep_id)

    # 8 Vote: budget 3, several dots on one idea, a retraction, hidden until revealed.
    await fac.do(c.SetStage, index=STAGE["vote"])
    await until(ana, lambda s: s.stage.kind == "vote")
    for _ in range(3):
        await ana.do(c.Vote, idea=keep_id)
    with pytest.raises(CommandError) as broke:
        await ana.do(c.Vote, idea=cont_id)
    assert broke.value.code == "no_dots"
    await ana.do(c.Vote, idea=keep_id, delta=-1)
    await ana.do(c.Vote, idea=anon_id)
    await ben.do(c.Vote, idea=anon_id)
    await ben.do(c.Vote, idea=cont_id)
    last = await cy.do(c.Vote, idea=anon_id)
    for p in (ben, cy, fac):
        s = await until(p, lambda s: s.seq >= last)
        assert s.revealed is None
        assert set(s.ballots) <= {p.you}  # nobody sees another's dots
    assert ben.state.dots_placed == 6  # ...but everyone sees the room's progress
    assert ben.state.dots_left(ben.you) == 1 and ana.state.dots_left(ana.you) == 0
    await fac.do(c.RevealVotes)
    totals = {keep_id: 2, anon_id: 3, cont_id: 1}
    for p in [*people, fac]:
        s = await until(p, lambda s: s.revealed is not None)
        assert s.revealed == totals

    # 9 Timeline: milestones, an agreement round with a concern, finalised.
    await fac.do(c.SetStage, index=STAGE["timeline"])
    await until(cy, lambda s: s.stage.kind == "timeline")
    await fac.do(
        c.SaveMilestone,
        title="Launch monthly webinar",
        owner="Ben",
        due="2027-01-31",
        cadence="monthly",
        idea_ids=(keep_id,),
    )
    await fac.do(c.SaveMilestone, title="Retire cold-call blitz", owner="Ana", due="2026-12-15", idea_ids=(anon_id,))
    await until(ana, lambda s: len(s.milestones) == 2)
    await ana.do(c.RespondTimeline, agree=True)
    await ben.do(c.RespondTimeline, agree=True)
    await cy.do(c.RespondTimeline, agree=False, comment="December is tight for the blitz")
    await fac.do(c.FinaliseTimeline)
    for p in [*people, fac]:
        s = await until(p, lambda s: s.finalised)
        assert sorted(m.title for m in s.milestones.values()) == ["Launch monthly webinar", "Retire cold-call blitz"]
        assert s.responses[cy.you].comment == "December is tight for the blitz"
    with pytest.raises(CommandError):
        await fac.do(c.SaveMilestone, title="Late", owner="X", due="2027-01-01")

    # A late joiner receives the whole current state.
    dee = await live.participant(code, "Dee")
    assert dee.state.finalised and dee.state.revealed == totals and dee.state.team_goal == SHEET
    assert dee.state.ideas[anon_id].author is None

    # Anonymity: Ana's id and name never reached anyone else, on any wire.
    final_seq = fac.state.seq
    for tap in taps:
        await tap.wait_for_seq(final_seq)
        assert any(ana.you.encode() in f for f in tap.frames)  # she is in the room...
        for f in tap.frames:
            if ANON_TEXT.encode() in f:
                assert ana.you.encode() not in f, f  # ...but never next to her anonymous idea
        await tap.close()

    # The exports from the log hold what was agreed, and never the anonymous author.
    state = load_session(live.db, session)
    md, js, csv = (render(state, f) for f in ("md", "json", "csv"))
    md = md.replace("\\", "")  # read the Markdown as a reader sees it, without its escapes
    for text in (md, js, csv):
        assert "Launch monthly webinar" in text and "Start a monthly webinar" in text
        assert ANON_TEXT in text
    assert "Ben" in md and "2027-01-31" in md and "December is tight for the blitz" in md
    assert SHEET.measurable in md
    assert "Retire cold-call blitz" in csv and "2027-01-31" in csv
    record = msgspec.json.decode(js)
    assert record["state"]["finalised"] is True
    for text in (md, js, csv):
        for line in text.splitlines():
            if ANON_TEXT in line:
                assert "Ana" not in line and ana.you not in line
    # ...and the log itself never stored who wrote it.
    db = sqlite3.connect(live.db)
    bodies = [row[0] for row in db.execute("SELECT body FROM events")]
    db.close()
    for body in bodies:
        if ANON_TEXT.encode() in body:
            assert ana.you.encode() not in body
