"""The transcript exporters, checked on states built the way the server builds them."""

from __future__ import annotations

import csv
import io
import json
import re

import msgspec
import pytest
from msgspec.structs import replace

from tests import rehearsal
from tests.rehearsal import ANA, BEN, FAC
from workshop import commands as c
from workshop.audience import view_state
from workshop.export import load_json, render
from workshop.export.mdtext import inline
from workshop.export.scrub import for_export
from workshop.ideas import numbers
from workshop.rules import Actor
from workshop.state import SmartSheet, State

SECRET_NAME = "Zebedee"  # the author of the anonymous idea: must never appear in any export
ZED = Actor(id="z", seal_key=b"z-key")


class Room(rehearsal.Rehearsal):
    """The shared driver, with Zebedee in the room."""

    def __init__(self, goal: str = "30 new leads a month") -> None:
        super().__init__(goal, people=(*rehearsal.PEOPLE, (ZED, SECRET_NAME)))


HOSTILE = [
    "[x](javascript:alert(1))",
    "<script>alert(1)</script>",
    "# heading",
    "=cmd|' /C calc'!A0",
]


TEAM = SmartSheet(
    specific="Thirty qualified leads a month from the webinar series",
    measurable="Leads in the CRM; baseline 12",
    achievable="Two people, one webinar a fortnight",
    relevant="Sales asked for pipeline",
    time_bound="By 2026-06-30",
)


def full_room() -> tuple[Room, dict[str, str]]:
    """A whole workshop: KPIs, SMART sheets, ideas (one anonymous, one merged, one withdrawn), votes, timeline."""
    r = Room()
    r.do(FAC, c.SetKpi, name="Leads per month", value="12")
    r.stage("smart")
    r.do(ANA, c.SubmitSmart, sheet=SmartSheet(specific="More webinars", measurable="30 leads"))
    r.do(FAC, c.AdoptGoal, sheet=TEAM)
    r.stage("stop_start_continue")
    ids = {
        "webinar": str(r.do(ANA, c.PostIdea, category="start", text="Run a monthly webinar")),
        "cold": str(r.do(BEN, c.PostIdea, category="stop", text="Cold calling lists")),
        "anon": str(r.do(ZED, c.PostIdea, category="stop", text="Stop the weekly status meeting", anonymous=True)),
        "dup": str(r.do(BEN, c.PostIdea, category="start", text="Webinars every month")),
        "gone": str(r.do(ANA, c.PostIdea, category="continue", text="Withdrawn thought")),
    }
    r.do(ANA, c.WithdrawIdea, idea=ids["gone"])
    r.do(FAC, c.MergeIdeas, source=ids["dup"], target=ids["webinar"])
    r.stage("vote")
    r.do(ANA, c.Vote, idea=ids["webinar"])
    r.do(ANA, c.Vote, idea=ids["webinar"])
    r.do(BEN, c.Vote, idea=ids["webinar"])
    r.do(BEN, c.Vote, idea=ids["anon"])
    r.do(FAC, c.RevealVotes)
    r.stage("timeline")
    r.do(FAC, c.SaveMilestone, title="Second webinar", owner="Ben", due="2026-05-15", cadence="monthly")
    r.do(FAC, c.SaveMilestone, title="First webinar", owner="Ana", due="2026-04-01", idea_ids=(ids["webinar"],))
    r.do(ANA, c.RespondTimeline, agree=True)
    r.do(BEN, c.RespondTimeline, agree=False, comment="April is too soon")
    r.do(FAC, c.FinaliseTimeline)
    return r, ids


def test_markdown_reads_as_the_record_of_the_workshop() -> None:
    """Without this, the team would leave the workshop with no readable record of what it decided."""
    r, ids = full_room()
    n = {k: numbers(r.state)[v] for k, v in ids.items()}
    md = render(r.state, "md")
    assert md.startswith("# Workshop: 30 new leads a month\n")
    assert "Every idea is welcome." in md
    for name in ("Fay", "Ana", "Ben"):
        assert f"- {name}" in md
    assert "- **Leads per month:** 12" in md
    assert "- **Specific:** Thirty qualified leads a month from the webinar series" in md
    assert "- **Time-bound:** By 2026-06-30" in md  # words as typed: no escaped dashes
    assert "### Sheet of Ana" in md and "More webinars" in md
    # the top ideas, ranked, then every idea by stage and category with its number
    assert "## Top ideas\n\n1. **3 dots**: Run a monthly webinar" in md
    assert md.index("## Top ideas") < md.index("### Stop / Start / Continue") < md.index("#### stop")
    assert md.index("#### stop") < md.index("#### start")
    assert f"- **{n['webinar']}** Run a monthly webinar (Ana; 3 dots)" in md
    assert f"  - **{n['dup']}** Webinars every month (Ben; merged here)" in md
    assert f"**{n['anon']}** Stop the weekly status meeting (anonymous; 1 dot)" in md
    assert "Withdrawn thought" not in md
    assert "never whose dots went where" in md
    # timeline sorted by due date, with owner, cadence and linked idea
    first, second = md.index("First webinar"), md.index("Second webinar")
    assert first < second
    assert "- **2026-04-01**: First webinar" in md
    assert "  - Owner: Ana" in md and "  - Cadence: monthly" in md
    assert f"  - From idea {n['webinar']}: Run a monthly webinar" in md
    assert "Status: finalised." in md
    assert "- Ana: agreed" in md
    assert "- Ben: concern: April is too soon" in md
    assert f"- {SECRET_NAME}: no response" in md
    assert "Fay: no response" not in md  # the facilitator is not asked to agree with themselves


def test_a_stage_of_one_category_is_its_own_heading_in_the_transcript() -> None:
    """Without this, a one-category stage's ideas sat under "### New ways" and again under "#### idea"."""
    r = Room()
    r.stage("stop_start_continue")
    r.do(ANA, c.PostIdea, category="stop", text="Cold calling lists")
    r.stage("new_ways")
    r.do(BEN, c.PostIdea, category="idea", text="Partner with a trade magazine")
    md = render(r.state, "md")
    assert "### Stop / Start / Continue\n\n#### stop\n\n- **1** Cold calling lists" in md
    assert "### New ways\n\n- **2** Partner with a trade magazine" in md
    assert "#### idea" not in md


def test_ideas_are_numbered_in_board_order_not_posting_order() -> None:
    """Without this, an anonymous idea's place among turn-taking posts would point at its author."""
    r, ids = full_room()
    n = {k: numbers(r.state)[v] for k, v in ids.items()}
    # stop: "Cold calling lists", "Stop the weekly ..."; start: "Run a ...", "Webinars ..."; continue
    assert [n["cold"], n["anon"], n["webinar"], n["dup"], n["gone"]] == [1, 2, 3, 4, 5]
    rows = list(csv.DictReader(io.StringIO(render(r.state, "csv"))))
    # rows in board order: after the reveal, most dots first within each category
    assert [row["idea_id"] for row in rows if row["kind"] == "idea"] == ["2", "1", "3", "4", "5"]
    record = json.loads(render(r.state, "json"))
    assert sorted(record["state"]["ideas"]) == ["1", "2", "3", "4", "5"]
    assert record["state"]["ideas"][str(n["anon"])]["posted_at"] == 0.0


def test_anonymous_author_appears_in_no_format() -> None:
    """Without this, someone who posted anonymously would be named in the transcript."""
    r, ids = full_room()
    # Even the author's own replica (which knows the idea is theirs) must not name them.
    own = view_state(r.state, ZED)
    assert own.ideas[ids["anon"]].author == "z"
    for state in (r.state, own):
        # Drop the author from the participant list: their name is only findable through the idea.
        stripped = replace(state, participants={k: v for k, v in state.participants.items() if k != "z"})
        for fmt in ("md", "json", "csv"):
            out = render(stripped, fmt)
            assert SECRET_NAME not in out, fmt
            if fmt == "json":
                assert '"author": "z"' not in out
        assert r.state.ideas[ids["anon"]].seal is not None
        assert r.state.ideas[ids["anon"]].seal not in render(state, "json")


def test_hostile_text_cannot_inject_markdown() -> None:
    """Without this, one participant's text could plant links, HTML or headings in everyone's transcript."""
    r = Room(goal="<img src=x onerror=alert(1)>")
    r.stage("stop_start_continue")
    for text in HOSTILE:
        r.do(ANA, c.PostIdea, category="start", text=text)
    r.do(BEN, c.PostIdea, category="stop", text="line one\n# not a heading\n- not an item\n\n    not code")
    md = render(r.state, "md")
    # no "<" that could open HTML and no "[" that could open a link is left unescaped
    assert re.search(r"(?<!\\)<[A-Za-z/!?]", md) is None
    assert "\\[x](javascript:alert(1))" in md
    assert "\\<script>alert(1)\\</script>" in md
    assert "\\# heading" in md
    assert not any(line.startswith("# ") for line in md.splitlines()[1:])
    # a multi-line idea stays one list item: continuation lines are indented hard breaks
    assert "line one\\\n  \\# not a heading\\\n  \\- not an item\\\n  not code (Ben)" in md


def test_control_characters_are_stripped() -> None:
    """Without this, text from a foreign log could carry terminal escapes into a transcript someone cats."""
    assert inline("a\x1b[31mb\u202ec") == "a[31mbc"
    state = Room().state
    state = replace(state, goal="evil\x1b]0;title\x07 goal")
    assert "\x1b" not in render(state, "md") and "\x07" not in render(state, "csv")


def test_csv_has_one_row_per_idea_and_defuses_formulas() -> None:
    """Without this, a spreadsheet of the session would miss ideas, show ballots, or run a planted formula."""
    r, ids = full_room()
    n = {k: str(numbers(r.state)[v]) for k, v in ids.items()}
    r2 = Room()
    r2.stage("new_ways")
    for text in HOSTILE:
        r2.do(ANA, c.PostIdea, category="idea", text=text)
    r2.do(ANA, c.PostIdea, category="idea", text="@SUM(1+1)")
    r2.do(ANA, c.PostIdea, category="idea", text="+1")
    r2.do(ANA, c.PostIdea, category="idea", text="-1")
    rows = list(csv.DictReader(io.StringIO(render(r.state, "csv"))))
    ideas = {row["idea_id"]: row for row in rows if row["kind"] == "idea"}
    assert ideas[n["webinar"]]["votes"] == "3" and ideas[n["webinar"]]["author"] == "Ana"
    assert ideas[n["webinar"]]["stage"] == "Stop / Start / Continue"
    assert ideas[n["anon"]]["author"] == "anonymous" and ideas[n["anon"]]["anonymous"] == "yes"
    assert ideas[n["dup"]]["status"] == f"merged_into:{n['webinar']}"
    assert ideas[n["gone"]]["status"] == "withdrawn"
    assert [row for row in rows if row["kind"] == "vote"] == []  # secret voting: totals only
    texts = [row["text"] for row in csv.DictReader(io.StringIO(render(r2.state, "csv")))]
    assert "'=cmd|' /C calc'!A0" in texts
    assert {"'@SUM(1+1)", "'+1", "'-1"} <= set(texts)
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts)


def test_exports_hold_ballots_only_under_open_voting_and_counts_only_after_the_reveal() -> None:
    """Without this, a transcript mailed after the meeting would tell who voted for what."""
    r = Room()
    r.stage("new_ways")
    a = str(r.do(ANA, c.PostIdea, category="idea", text="Webinars"))
    b = str(r.do(BEN, c.PostIdea, category="idea", text="Podcasts"))
    r.stage("vote")
    r.do(ANA, c.Vote, idea=a)
    r.do(BEN, c.Vote, idea=b)
    secret = r.state
    for fmt in ("md", "json", "csv"):
        # The export cannot depend on the ballots: the same with them gone, or swapped.
        swapped = replace(secret, ballots={"a": {b: 1}, "b": {a: 1}})
        assert render(secret, fmt) == render(replace(secret, ballots={}), fmt) == render(swapped, fmt), fmt
    assert "no counts are shown" in render(secret, "md")
    assert json.loads(render(secret, "json"))["votes"] == "hidden"
    assert all(row["votes"] == "" for row in csv.DictReader(io.StringIO(render(secret, "csv"))))

    o = Room()
    o.stage("new_ways")
    x = str(o.do(ANA, c.PostIdea, category="idea", text="Webinars"))
    o.stage("vote")
    o.do(FAC, c.SetVoting, open=True)
    o.do(ANA, c.Vote, idea=x)
    rows = list(csv.DictReader(io.StringIO(render(o.state, "csv"))))
    assert [(row["voter"], row["dots"]) for row in rows if row["kind"] == "vote"] == [("Ana", "1")]
    assert "## Votes (open voting)" in render(o.state, "md") and "- Ana: 1 (1)" in render(o.state, "md")
    assert json.loads(render(o.state, "json"))["votes"] == "open"


def test_csv_has_no_vote_rows_without_ballots() -> None:
    """Without this, a spreadsheet would show empty vote rows for a session nobody voted in."""
    r = Room()
    r.stage("why")
    r.do(ANA, c.PostIdea, category="benefit", text="More revenue")
    rows = list(csv.DictReader(io.StringIO(render(r.state, "csv"))))
    assert [row["kind"] for row in rows] == ["idea"]


def test_json_round_trips_without_seals() -> None:
    """Without this, a tool could not reload a transcript, or the reload would carry authorship seals."""
    r, _ids = full_room()
    text = render(r.state, "json")
    record = json.loads(text)
    assert record["format"] == "workshop-transcript" and record["version"] == 3
    assert record["votes"] == "revealed"
    assert record["state"]["goal"] == "30 new leads a month"
    assert all(i["seal"] is None for i in record["state"]["ideas"].values())
    assert record["state"]["ballots"] == {}
    loaded = load_json(text)
    assert loaded == for_export(r.state)
    assert loaded.team_goal == TEAM and sorted(loaded.revealed.values()) == sorted(r.state.revealed.values())
    assert render(loaded, "json") == text


def test_load_json_refuses_other_files() -> None:
    """Without this, reloading a wrong file would give a silently empty or broken session."""
    with pytest.raises(ValueError):
        load_json("{}")
    with pytest.raises(ValueError):
        load_json(msgspec.json.encode({"format": "workshop-transcript", "version": 99, "state": {}}))
    with pytest.raises(ValueError):
        load_json("not json")


def test_unknown_format_is_refused() -> None:
    """Without this, a typo in --format would write an empty or wrong file instead of saying why."""
    with pytest.raises(ValueError, match="unknown transcript format"):
        render(State(), "pdf")


def test_empty_session_exports() -> None:
    """Without this, exporting a session that never got going would crash instead of giving a record."""
    for fmt in ("md", "json", "csv"):
        assert render(State(), fmt)
    assert "# Workshop transcript" in render(State(), "md")
