"""Property tests: the decoder never raises, and the reducer's log, audiences and replay agree."""

from __future__ import annotations

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workshop import commands as c
from workshop import events as e
from workshop.agenda import DEFAULT_STAGES
from workshop.audience import public_view, view_event, view_state
from workshop.protocol import Create, Error, Hello, decode_inbound, encode, event_decoder
from workshop.reducer import apply, replay
from workshop.rules import Actor, Rejection, decide, decide_create, decide_join
from workshop.state import SmartSheet, State

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ACTORS = (
    Actor(id="f", role="facilitator", seal_key=b"f" * 32),
    Actor(id="a", role="participant", seal_key=b"a" * 32),
    Actor(id="b", role="participant", seal_key=b"b" * 32),
)
TAGS = [cls.__struct_config__.tag for cls in (*c.FACILITATOR_ONLY, c.PostIdea, c.Vote, c.MarkDone, Hello, Create)]


# -- the decoder ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
tagged = st.builds(
    lambda tag, fields: {**fields, "type": tag},
    st.sampled_from([*TAGS, "nope", ""]),
    st.dictionaries(st.sampled_from(["id", "text", "category", "idea", "index", "delta", "x"]), json_values),
)


@SETTINGS
@given(st.binary(max_size=300) | tagged.map(msgspec.json.encode))
def test_decode_inbound_never_raises(data: bytes) -> None:
    """Without this, one odd frame could raise inside a connection handler and cut someone off."""
    msg = decode_inbound(data)
    assert isinstance(msg, Error | Hello | Create | c.Command)
    if isinstance(msg, Error):
        assert msg.code == "malformed" and msg.message
    else:
        assert decode_inbound(encode(msg)) == msg  # a valid message survives the round trip


# -- the reducer ----------------------------------------------------------------------------------

GOOD = ["Webinars", "Cold calls", "two\nlines"]
BAD = ["", "  ", "x" * 501, "bell\x07", "rtl\u202e"]


class Step(msgspec.Struct, frozen=True):
    """One drawn step; ``build`` turns it into a command that fits the state most of the time."""

    actor: Actor
    kind: str
    pick: int  # chooses an idea, a stage, a milestone, a number
    other: int
    good: bool  # valid text and category, or deliberately not
    flag: bool

    def build(self, state: State) -> c.Command:
        text = GOOD[self.pick % len(GOOD)] if self.good else BAD[self.pick % len(BAD)]
        ideas = sorted(state.ideas, key=int) or ["1"]
        idea = ideas[self.pick % len(ideas)] if self.good else str(self.pick)
        target = ideas[self.other % len(ideas)]
        cats = state.stage.categories or ("stop",)
        milestones = sorted(state.milestones) or ["1"]
        sheet = SmartSheet(specific=text, measurable="30", achievable="yes", relevant="yes", time_bound=text)
        x = "x"
        match self.kind:
            case "stage":  # mostly forward, often straight to the vote, sometimes anywhere (or nowhere)
                forward = 7 if self.flag else (state.stage_index + 1) % len(state.agenda)
                return c.SetStage(id=x, index=forward if self.good else self.pick % (len(state.agenda) + 1))
            case "post":
                cat = cats[self.other % len(cats)] if self.good or self.flag else "nope"
                return c.PostIdea(id=x, category=cat, text=text, anonymous=self.flag)
            case "vote":
                return c.Vote(id=x, idea=idea, delta=-1 if self.flag and self.other % 3 == 0 else 1)
            case "edit":
                return c.EditIdea(id=x, idea=idea, text=text)
            case "withdraw":
                return c.WithdrawIdea(id=x, idea=idea)
            case "merge":
                return c.MergeIdeas(id=x, source=idea, target=target)
            case "reveal" if state.stage.kind == "vote":  # elsewhere it would only close voting early
                return c.RevealVotes(id=x)
            case "budget":
                return c.SetBudget(id=x, budget=1 + self.pick % 4)
            case "goal":
                return c.SetGoal(id=x, goal=text)
            case "kpi":
                return c.SetKpi(id=x, name="Reach", value=text)
            case "timer":
                return c.StartTimer(id=x, seconds=self.pick % 600)
            case "smart":
                return c.SubmitSmart(id=x, sheet=sheet)
            case "adopt":
                return c.AdoptGoal(id=x, sheet=sheet)
            case "milestone":
                mid = milestones[self.other % len(milestones)] if self.flag else ""
                due = "2026-03-31" if self.good else "2026-02-30"
                return c.SaveMilestone(id=x, title=text, owner="Ana", due=due, milestone=mid, idea_ids=(target,))
            case "unmilestone":
                return c.RemoveMilestone(id=x, milestone=milestones[self.pick % len(milestones)])
            case "respond":
                return c.RespondTimeline(id=x, agree=self.flag, comment=text if self.good else "")
            case "finalise":
                return c.FinaliseTimeline(id=x)
        return c.MarkDone(id=x, done=self.flag)


# The common moves are listed several times so that ideas are posted and voted on in most runs.
KINDS = ["stage"] * 3 + ["post"] * 4 + ["vote"] * 4 + [
    "edit", "withdraw", "merge", "reveal", "budget", "goal", "kpi", "timer", "smart", "adopt",
    "milestone", "milestone", "unmilestone", "respond", "respond", "finalise", "done",
]  # fmt: skip
steps = st.lists(
    st.builds(
        Step,
        st.sampled_from(ACTORS),
        st.sampled_from(KINDS),
        st.integers(0, 40),
        st.integers(0, 40),
        st.integers(0, 4).map(bool),  # mostly good
        st.booleans(),
    ),
    min_size=20,
    max_size=80,
)


def run(steps: list[Step]) -> tuple[State, list[tuple[int, e.EventBody]]]:
    """Run the steps as the server does: decide on the live state, apply each event as it is logged."""
    state, log = State(), []

    def append(events: list[e.EventBody]) -> None:
        nonlocal state
        for event in events:
            seq = state.seq + 1
            # What the log holds is what survives encoding.
            stored = event_decoder.decode(msgspec.json.encode(event))
            log.append((seq, stored))
            state = apply(state, event, seq)

    append(decide_create("s", "30 leads", DEFAULT_STAGES))
    for actor in ACTORS:
        append(decide_join(state, actor.id, actor.id.upper(), actor.role))
    for step in steps:
        result = decide(state, step.actor, step.build(state), now=1000.0)
        if not isinstance(result, Rejection):
            append(result)
    return state, log


@SETTINGS
@given(steps)
def test_replaying_the_log_gives_the_live_state(steps: list[Step]) -> None:
    """Without this, a restarted server or an export would show a different workshop than the live one."""
    live, log = run(steps)
    assert replay(log) == live
    assert [seq for seq, _ in log] == list(range(1, live.seq + 1))


@SETTINGS
@given(steps)
def test_anonymous_authors_never_leave_the_server(steps: list[Step]) -> None:
    """Without this, the anonymous cue card would tell the room who wrote the uncomfortable idea."""
    _, log = run(steps)
    for _, event in log:
        if isinstance(event, e.IdeaPosted) and event.idea.anonymous:
            assert event.idea.author is None, "the log itself names an anonymous author"
            public = public_view(event)
            assert public.idea.author is None and public.idea.seal is None
            for viewer in ACTORS:
                seen = view_event(event, viewer)
                assert seen.idea.seal is None
                assert seen.idea.author in (None, viewer.id)


@SETTINGS
@given(steps)
def test_replicas_never_hold_others_ballots_and_match_the_server(steps: list[Step]) -> None:
    """Without this, a participant's terminal would know where others put their dots before the reveal."""
    live, log = run(steps)
    for viewer in ACTORS:
        view = view_state(live, viewer)
        assert set(view.ballots) <= {viewer.id}
        # The replica folded from what the viewer was sent is the server's state through its audience.
        replica = replay((seq, view_event(event, viewer)) for seq, event in log)
        assert view_state(replica, viewer) == view
        assert set(replica.ballots) <= {viewer.id}
        for _, event in log:
            if isinstance(event, e.VoteCast) and event.voter != viewer.id:
                assert view_event(event, viewer).idea is None
