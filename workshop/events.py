"""Provides the events: the facts a session's log is made of, as tagged msgspec Structs.

Tags are explicit so that renaming a class never changes the wire or the stored log.
"""

from __future__ import annotations

import msgspec

from workshop.agenda import Stage
from workshop.state import (
    Cadence,
    Idea,
    Kpi,
    Measurement,
    Milestone,
    MilestoneStatus,
    Participant,
    SessionKind,
    SmartSheet,
)


class EventBody(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    pass


class SessionCreated(EventBody, tag="session_created"):
    session: str
    goal: str
    agenda: tuple[Stage, ...]
    started_at: float = 0.0  # absent from logs written before it was kept
    kind: SessionKind = "workshop"


class Joined(EventBody, tag="joined"):
    participant: Participant


class GoalSet(EventBody, tag="goal_set"):
    goal: str


class StageSet(EventBody, tag="stage_set"):
    index: int


class TimerSet(EventBody, tag="timer_set"):
    ends_at: float | None


class BudgetSet(EventBody, tag="budget_set"):
    budget: int


class KpiSet(EventBody, tag="kpi_set"):
    """Release 0.2's KPI: a name and one free-text value. Still folded (as a KPI with a note), no longer made."""

    name: str
    value: str


class KpiDefined(EventBody, tag="kpi_defined"):
    """A KPI added or changed, whole: name, unit, baseline and its period, target and its date, owner."""

    kpi: Kpi


class KpiMeasured(EventBody, tag="kpi_measured"):
    """An actual figure of a KPI for a period, recorded at a check-in."""

    measurement: Measurement


class MilestoneStatusSet(EventBody, tag="milestone_status_set"):
    milestone: str
    status: MilestoneStatus
    note: str = ""


class CheckinScheduled(EventBody, tag="checkin_scheduled"):
    """The date of the next check-in, and how often check-ins recur after it."""

    date: str
    cadence: Cadence = "monthly"


class CarriedOver(EventBody, tag="carried_over"):
    """What a check-in continues: the previous session's goal, numbers and timeline, as they stood.

    The second event of a check-in's log, so that the log alone (without the earlier
    sessions') replays to the same state.
    """

    chain: tuple[str, ...]
    goal: str
    team_goal: SmartSheet | None
    kpis: tuple[Kpi, ...]
    measurements: tuple[Measurement, ...]
    milestones: tuple[Milestone, ...]
    next_checkin: str = ""
    checkin_cadence: Cadence = "monthly"


class IdeaPosted(EventBody, tag="idea_posted"):
    idea: Idea


class IdeaEdited(EventBody, tag="idea_edited"):
    idea: str
    text: str


class IdeaWithdrawn(EventBody, tag="idea_withdrawn"):
    idea: str


class IdeasMerged(EventBody, tag="ideas_merged"):
    source: str
    target: str


class VoteCast(EventBody, tag="vote_cast"):
    """A dot placed (+1) or taken back (-1).

    In secret voting (the default) everyone but the voter receives it with ``voter`` and
    ``idea`` removed: the room learns that a dot moved, never whose or where.
    """

    voter: str | None
    delta: int
    idea: str | None = None
    open: bool = False  # cast under open voting: everyone may see the whole of it


class VotingSet(EventBody, tag="voting_set"):
    """The facilitator chose open (everyone sees who voted for what) or secret voting."""

    open: bool


class VotesRevealed(EventBody, tag="votes_revealed"):
    totals: dict[str, int]


class SmartSubmitted(EventBody, tag="smart_submitted"):
    participant: str
    sheet: SmartSheet


class GoalAdopted(EventBody, tag="goal_adopted"):
    sheet: SmartSheet


class MilestoneSaved(EventBody, tag="milestone_saved"):
    milestone: Milestone


class MilestoneRemoved(EventBody, tag="milestone_removed"):
    milestone: str


class TimelineResponded(EventBody, tag="timeline_responded"):
    participant: str
    agree: bool
    comment: str = ""


class TimelineFinalised(EventBody, tag="timeline_finalised"):
    pass


class RoleSet(EventBody, tag="role_set"):
    """A participant became a facilitator, or a facilitator a participant; the server enforces it at once."""

    participant: str
    role: str


class ParticipantRemoved(EventBody, tag="participant_removed"):
    """A facilitator removed someone (joined by mistake, say): their ideas stay, their credential stops working."""

    participant: str


class DoneMarked(EventBody, tag="done_marked"):
    participant: str
    stage: str
    done: bool


Event = (
    SessionCreated
    | Joined
    | GoalSet
    | StageSet
    | TimerSet
    | BudgetSet
    | KpiSet
    | KpiDefined
    | KpiMeasured
    | MilestoneStatusSet
    | CheckinScheduled
    | CarriedOver
    | IdeaPosted
    | IdeaEdited
    | IdeaWithdrawn
    | IdeasMerged
    | VoteCast
    | VotingSet
    | VotesRevealed
    | SmartSubmitted
    | GoalAdopted
    | MilestoneSaved
    | MilestoneRemoved
    | TimelineResponded
    | TimelineFinalised
    | DoneMarked
    | RoleSet
    | ParticipantRemoved
)
