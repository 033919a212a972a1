"""Provides the agenda: the stages of a workshop as data, the SMART default, and TOML loading.

A stage's ``kind`` decides which commands it allows; its categories are the labels an idea
posted in it may carry (a stage with no categories takes no ideas).
"""

from __future__ import annotations

import tomllib
from typing import Literal

import msgspec

StageKind = Literal["intro", "review", "smart", "ideas", "vote", "timeline", "wrapup", "numbers", "milestones"]


class Stage(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    title: str
    kind: StageKind
    prompt: str
    categories: tuple[str, ...] = ()
    minutes: int = 0


GROUND_RULES = (
    "Every idea is welcome.",
    "No repercussions for anything said or written here.",
    "Anyone may post anonymously: the written cue card for those who prefer not to speak up.",
)

SMART_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("specific", "Specific", "What exactly will be achieved, by whom, for which audience?"),
    ("measurable", "Measurable", "Which number tells us we got there (and its baseline)?"),
    ("achievable", "Achievable", "Why is it within reach with the people and budget we have?"),
    ("relevant", "Relevant", "How does it serve the overall goal and the business?"),
    ("time_bound", "Time-bound", "By which date, with which checkpoints on the way?"),
)

DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage(
        key="goal",
        title="Goal",
        kind="intro",
        prompt="Here is the goal we are working toward today, and the ground rules.",
        minutes=5,
    ),
    Stage(
        key="review",
        title="Review",
        kind="review",
        prompt=(
            "What were last period's numbers? Reach, engagement, conversion: what stands out? "
            "Post an observation, or propose a KPI to measure the goal by; the facilitator records KPIs."
        ),
        categories=("observation", "proposed KPI"),
        minutes=10,
    ),
    Stage(
        key="smart",
        title="SMART sheet",
        kind="smart",
        prompt="Fill in the five SMART fields; then we settle one team goal.",
        minutes=15,
    ),
    Stage(
        key="stop_start_continue",
        title="Stop / Start / Continue",
        kind="ideas",
        prompt="What are we doing now that you would stop, start, or continue?",
        categories=("stop", "start", "continue"),
        minutes=10,
    ),
    Stage(
        key="six_months",
        title="Six months on",
        kind="ideas",
        prompt="Imagine we hit the target: do we have processes in place to handle it?",
        categories=("in place", "missing"),
        minutes=10,
    ),
    Stage(
        key="new_ways",
        title="New ways",
        kind="ideas",
        prompt="How could we work toward this that we aren't doing now?",
        categories=("idea",),
        minutes=10,
    ),
    Stage(
        key="why",
        title="Why",
        kind="ideas",
        prompt="Why do we want this? What are the benefits to us?",
        categories=("benefit",),
        minutes=5,
    ),
    Stage(
        key="vote",
        title="Vote",
        kind="vote",
        prompt="Place your dots on the ideas that would move us most. Results stay hidden until revealed.",
        minutes=5,
    ),
    Stage(
        key="timeline",
        title="Timeline",
        kind="timeline",
        prompt="Top ideas become actions and milestones. Agree, or raise a concern.",
        minutes=15,
    ),
    Stage(
        key="afterwards",
        title="Afterwards",
        kind="wrapup",
        prompt=(
            "Thank you. The facilitator exports the transcript, and anyone may save their own copy (F9); "
            "we check progress at the next check-in."
        ),
        minutes=0,
    ),
)


CHECKIN_STAGES: tuple[Stage, ...] = (
    Stage(
        key="numbers",
        title="Numbers",
        kind="numbers",
        prompt="Where are we? Each KPI's actual for the period, against its baseline and target.",
        minutes=10,
    ),
    Stage(
        key="milestones",
        title="Milestones",
        kind="milestones",
        prompt="Each owner reports: not started, on track, at risk or done, with a short note.",
        minutes=10,
    ),
    Stage(
        key="wins",
        title="Wins",
        kind="ideas",
        prompt="What went well since the last meeting? Celebrate it.",
        categories=("win",),
        minutes=5,
    ),
    Stage(
        key="challenges",
        title="Challenges",
        kind="ideas",
        prompt="What is in the way? Anonymous is welcome.",
        categories=("challenge",),
        minutes=10,
    ),
    Stage(
        key="recalibrate",
        title="Recalibrate",
        kind="timeline",
        prompt="Edit or add milestones, and set the date of the next check-in.",
        minutes=10,
    ),
    Stage(
        key="agree",
        title="Agree",
        kind="timeline",
        prompt="Agree with the recalibrated timeline, or raise a concern.",
        minutes=5,
    ),
)


class AgendaError(ValueError):
    """An agenda file that cannot be run, with a message a facilitator can act on."""


class _AgendaFile(msgspec.Struct, forbid_unknown_fields=True):
    stage: list[Stage]


def load_agenda(source: str) -> tuple[Stage, ...]:
    """Parse a TOML agenda (``[[stage]]`` tables with the fields of :class:`Stage`)."""
    try:
        raw = tomllib.loads(source)
        parsed = msgspec.convert(raw, _AgendaFile)
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise AgendaError(f"agenda is not valid: {exc}") from exc
    stages = tuple(parsed.stage)
    validate_agenda(stages)
    return stages


def validate_agenda(stages: tuple[Stage, ...]) -> None:
    """Refuse an agenda that no session could run."""
    if not stages:
        raise AgendaError("agenda has no stages")
    if len(stages) > 50:
        raise AgendaError("agenda has more than 50 stages")
    keys = [s.key for s in stages]
    if len(set(keys)) != len(keys):
        raise AgendaError("agenda stage keys must be unique")
    for s in stages:
        if not s.key or not s.title or len(s.prompt) > 1000 or len(s.categories) > 10:
            raise AgendaError(
                f"stage {s.key!r} needs a key and a title, a prompt under 1000 characters and at most 10 categories"
            )
