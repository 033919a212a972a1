"""Provides generated workshops: random command sequences that fit the state most of the time.

``draft`` runs them on the pure core exactly as the server would (decide on the live state,
apply each event as it is logged) and returns the concrete commands, each with its own id, so
that the same sequence can then be sent through the real server.
"""

from __future__ import annotations

import msgspec
from hypothesis import strategies as st
from msgspec.structs import replace

from tests.rehearsal import Rehearsal
from workshop import commands as c
from workshop import events as e
from workshop.agenda import DEFAULT_STAGES
from workshop.rules import Actor
from workshop.state import SmartSheet, State

ACTORS = (
    Actor(id="f", seal_key=b"f" * 32),
    Actor(id="a", seal_key=b"a" * 32),
    Actor(id="b", seal_key=b"b" * 32),
    Actor(id="c", seal_key=b"c" * 32),
)
NAMES = {"f": "Fay", "a": "Ana", "b": "Ben", "c": "Cy"}

GOOD = ["Webinars", "Cold calls", "two\nlines"]
BAD = ["", "  ", "x" * 501, "bell\x07", "rtl\u202e"]


FACILITATOR_KINDS = frozenset(
    {"stage", "merge", "reveal", "budget", "voting", "goal", "kpi", "timer", "adopt", "milestone", "unmilestone",
     "finalise"}
)  # fmt: skip
STAGES = (3, 4, 5, 6, 7, 7, 8, 2, 3, 7)  # where the facilitator goes: mostly idea stages and the vote


class Step(msgspec.Struct, frozen=True):
    """One drawn step; ``build`` turns it into a command that fits the state most of the time."""

    who: int  # mostly the right person for the kind of step; one time in eight the wrong one
    kind: str
    pick: int  # chooses an idea, a stage, a milestone, a number
    other: int
    good: bool  # valid text and category, or deliberately not
    flag: bool

    @property
    def actor(self) -> Actor:
        wrong = self.who % 8 == 7
        if (self.kind in FACILITATOR_KINDS) != wrong:
            return ACTORS[0]
        return ACTORS[1 + self.who % 3]

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
            case "stage":  # mostly to an idea stage or the vote, sometimes anywhere (or nowhere)
                index = STAGES[self.pick % len(STAGES)] if self.good else self.pick % (len(state.agenda) + 1)
                return c.SetStage(id=x, index=index)
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
            case "voting":
                return c.SetVoting(id=x, open=self.flag and self.other % 4 == 0)
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
# What people mostly do in each kind of stage; anything else can still happen in any stage.
LIKELY = {
    "ideas": ["post"] * 6 + ["edit", "withdraw", "merge", "done"],
    "vote": ["vote"] * 8 + ["withdraw", "merge", "reveal", "budget", "voting", "edit"],
    "timeline": ["milestone"] * 3 + ["respond"] * 3 + ["unmilestone", "finalise"],
    "smart": ["smart"] * 3 + ["adopt"],
}


def step(kinds: list[str]) -> st.SearchStrategy[Step]:
    return st.builds(
        Step,
        st.integers(0, 63),
        st.sampled_from(kinds),
        st.integers(0, 40),
        st.integers(0, 40),
        st.integers(0, 4).map(lambda n: n != 4),  # mostly good
        st.booleans(),
    )


def block(n: int) -> st.SearchStrategy[list[Step]]:
    """The facilitator opens stage ``STAGES[n]``; then people do what it is for, mostly."""
    kind = DEFAULT_STAGES[STAGES[n]].kind
    opening = Step(0, "stage", n, 0, True, False)
    return st.lists(step(LIKELY.get(kind, []) * 2 + KINDS), min_size=2, max_size=14).map(lambda rest: [opening, *rest])


steps = st.lists(st.integers(0, len(STAGES) - 1).flatmap(block), min_size=2, max_size=7).map(
    lambda blocks: [s for b in blocks for s in b]
)


Fixed = tuple[Actor, c.Command]


def draft(
    items: list[Step | Fixed],
) -> tuple[State, list[tuple[int, e.EventBody]], list[tuple[str, c.Command]]]:
    """Run the steps as the server does: decide on the live state, apply each event as it is logged.

    ``items`` are generated steps or fixed (actor, command) pairs. Returns the final state, the
    log, and every command sent, accepted or not, as (actor id, command with its own id).
    """
    session = Rehearsal("30 leads", tuple((a, NAMES[a.id]) for a in ACTORS))
    sent = []
    for n, item in enumerate(items):
        actor, cmd = item if isinstance(item, tuple) else (item.actor, item.build(session.state))
        cmd = replace(cmd, id=f"c{n}")
        sent.append((actor.id, cmd))
        session.send(actor, cmd)
    return session.state, session.log, sent
