"""Provides the demo room: three simulated participants who join and play along.

Each is a real :class:`Connection` over the same socket as everyone else, run as an asyncio
task in the host's process; they act when a stage opens, with a human-ish pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from client.connection import CommandError, Connection, Credentials
from workshop import commands as c
from workshop.state import SmartSheet, State

PEOPLE = ("Ana", "Bram", "Chidi")

SAMPLES = {
    "observation": [
        "Webinar sign-ups doubled but few converted",
        "Email open rate fell to 18%",
        "Most leads came from referrals",
    ],
    "stop": [
        "Stop cold-calling lists we bought",
        "Stop weekly status meetings without numbers",
        "Stop posting on three networks at once",
    ],
    "start": [
        "Start a monthly customer webinar",
        "Start asking every client for a referral",
        "Start a shared lead dashboard",
    ],
    "continue": [
        "Continue the case-study blog posts",
        "Continue the Friday follow-up calls",
        "Continue the partner newsletter",
    ],
    "in place": ["CRM can handle the volume", "Onboarding checklist exists", "We have a booking page"],
    "missing": [
        "Nobody owns lead qualification",
        "No reply template for inbound leads",
        "Sales has no capacity for 30 demos",
    ],
    "idea": [
        "Run a free audit offer on LinkedIn",
        "Co-host an event with a partner",
        "Add a chat widget to the pricing page",
    ],
    "benefit": ["Steadier revenue month to month", "We can hire the second designer", "Less stress at quarter end"],
}

SHEETS = (
    SmartSheet(
        specific="Marketing brings 30 qualified leads a month to sales",
        measurable="Leads tagged 'qualified' in the CRM; baseline 12",
        achievable="Two campaigns plus referrals, within current budget",
        relevant="Sales targets for next year need the pipeline",
        time_bound="By 30 June, checked monthly",
    ),
    SmartSheet(specific="Double inbound demo requests", measurable="Demo form submissions per month"),
    SmartSheet(specific="30 new leads a month from content", time_bound="Within two quarters"),
)


async def participant(url: str, code: str, name: str, n: int, pause: float = 1.5) -> None:
    """One simulated participant: join, then act on each stage until cancelled."""
    conn = Connection(Credentials(url=url, code=code, name=name))
    rng = random.Random(n)
    acted: set[tuple[str, str]] = set()
    try:
        await conn.start()
        while True:
            state = conn.state
            assert state is not None
            await _act(conn, state, n, rng, acted, pause)
            # Compare with the state acted on: whatever changed meanwhile is acted on next.
            await conn.wait_for(lambda s, seq=state.seq: s.seq != seq, timeout=None)
    finally:
        await conn.close()


async def _act(
    conn: Connection, state: State, n: int, rng: random.Random, acted: set[tuple[str, str]], pause: float
) -> None:
    stage, you = state.stage, conn.you

    async def do(kind: type[c.Command], **fields: object) -> None:
        await asyncio.sleep(pause * (0.5 + rng.random()))
        if conn.state is None or conn.state.stage.key != stage.key:
            return  # the room has moved on while we were "typing"
        with contextlib.suppress(CommandError):
            await conn.do(kind, **fields)

    step = (stage.key, stage.kind)
    if stage.categories and step not in acted:
        acted.add(step)
        for cat in stage.categories:
            ideas = SAMPLES.get(cat, [f"A thought about {cat}"])
            await do(c.PostIdea, category=cat, text=ideas[n % len(ideas)], anonymous=(n == 2))
    elif stage.kind == "smart" and you not in state.smart:
        await do(c.SubmitSmart, sheet=SHEETS[n % len(SHEETS)])
    elif stage.kind == "vote" and state.revealed is None and state.dots_left(you) > 0:
        ideas = state.live_ideas()
        if ideas:
            await do(c.Vote, idea=rng.choice(ideas).id, delta=1)
    elif stage.kind == "timeline" and state.milestones and not state.finalised and you not in state.responses:
        await do(c.RespondTimeline, agree=True, comment="")


def start_demo(url: str, code: str, pause: float = 1.5) -> list[asyncio.Task[None]]:
    """Start the three simulated participants; cancel the tasks to stop them."""
    return [asyncio.create_task(participant(url, code, name, n, pause)) for n, name in enumerate(PEOPLE)]


async def stop_demo(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
