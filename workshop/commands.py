"""Provides the commands a client may send, as tagged msgspec Structs with bounded fields.

Every command carries a client-made ``id`` so that a command retried after a dropped
connection is applied once. Field types are concrete (no ``Any``) so the decoder alone
refuses wrong shapes before any rule runs.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from workshop.state import Cadence, MilestoneStatus, Role, SmartSheet

CommandId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
# Generous wire bounds; the human-facing limits (with clearer errors) live in the rules.
Text = Annotated[str, msgspec.Meta(max_length=4000)]


class Command(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", forbid_unknown_fields=True):
    id: CommandId


# -- facilitator -------------------------------------------------------------------------


class SetGoal(Command, tag="set_goal"):
    goal: Text


class SetStage(Command, tag="set_stage"):
    index: Annotated[int, msgspec.Meta(ge=0, le=1000)]


class StartTimer(Command, tag="start_timer"):
    seconds: Annotated[int, msgspec.Meta(ge=0, le=24 * 3600)]


class SetBudget(Command, tag="set_budget"):
    budget: Annotated[int, msgspec.Meta(ge=1, le=100)]


class SetKpi(Command, tag="set_kpi"):
    name: Text
    value: Text


Number = Annotated[float, msgspec.Meta(ge=-1e12, le=1e12)]
Date = Annotated[str, msgspec.Meta(max_length=10)]


class DefineKpi(Command, tag="define_kpi"):
    """Add a KPI (``kpi`` empty) or change the one it names; every field is sent whole."""

    name: Text
    kpi: Annotated[str, msgspec.Meta(max_length=64)] = ""
    unit: Text = ""
    baseline: Number | None = None
    baseline_period: Text = ""
    target: Number | None = None
    target_date: Date = ""
    owner: Text = ""


class ScheduleCheckin(Command, tag="schedule_checkin"):
    """The date of the next check-in, and how often they recur."""

    date: Date
    cadence: Cadence = "monthly"


class RevealVotes(Command, tag="reveal_votes"):
    pass


class SetVoting(Command, tag="set_voting"):
    """Open voting shows everyone who voted for what; only possible before the first dot."""

    open: bool


class MergeIdeas(Command, tag="merge_ideas"):
    source: Ref
    target: Ref


class AdoptGoal(Command, tag="adopt_goal"):
    sheet: SmartSheet


class SaveMilestone(Command, tag="save_milestone"):
    """Add a milestone (``milestone`` empty) or replace the one it names."""

    title: Text
    owner: Text
    due: Annotated[str, msgspec.Meta(max_length=10)]
    milestone: Annotated[str, msgspec.Meta(max_length=64)] = ""
    cadence: Cadence = "once"
    idea_ids: Annotated[tuple[Ref, ...], msgspec.Meta(max_length=50)] = ()
    owner_id: Annotated[str, msgspec.Meta(max_length=64)] = ""  # when the owner was picked from the room
    parent: Annotated[str, msgspec.Meta(max_length=64)] = ""  # the milestone this one breaks down


class RemoveMilestone(Command, tag="remove_milestone"):
    milestone: Ref


class FinaliseTimeline(Command, tag="finalise_timeline"):
    pass


class SetRole(Command, tag="set_role"):
    """Make a participant a co-facilitator, or a facilitator a participant again."""

    participant: Ref
    role: Role


class HandOver(Command, tag="hand_over"):
    """Give the session to ``participant``: they become facilitator, the sender a participant."""

    participant: Ref


class RemoveParticipant(Command, tag="remove_participant"):
    participant: Ref


# -- anyone ------------------------------------------------------------------------------


class PostIdea(Command, tag="post_idea"):
    category: Annotated[str, msgspec.Meta(max_length=64)]
    text: Text
    anonymous: bool = False


class EditIdea(Command, tag="edit_idea"):
    idea: Ref
    text: Text


class WithdrawIdea(Command, tag="withdraw_idea"):
    idea: Ref


class Vote(Command, tag="vote"):
    idea: Ref
    delta: Literal[1, -1] = 1


class SubmitSmart(Command, tag="submit_smart"):
    sheet: SmartSheet


class RespondTimeline(Command, tag="respond_timeline"):
    agree: bool
    comment: Text = ""


class RecordActual(Command, tag="record_actual"):
    """A KPI's actual figure for a period (the facilitator or the KPI's owner)."""

    kpi: Ref
    value: Number
    period: Text


class SetMilestoneStatus(Command, tag="set_milestone_status"):
    """How a milestone stands (the facilitator or the milestone's owner), with a short note."""

    milestone: Ref
    status: MilestoneStatus
    note: Text = ""


class MarkDone(Command, tag="mark_done"):
    done: bool = True


FACILITATOR_ONLY: frozenset[type[Command]] = frozenset(
    {
        SetGoal,
        SetStage,
        StartTimer,
        SetBudget,
        SetKpi,
        DefineKpi,
        ScheduleCheckin,
        RevealVotes,
        SetVoting,
        MergeIdeas,
        AdoptGoal,
        SaveMilestone,
        RemoveMilestone,
        FinaliseTimeline,
        SetRole,
        HandOver,
        RemoveParticipant,
    }
)

AnyCommand = (
    SetGoal
    | SetStage
    | StartTimer
    | SetBudget
    | SetKpi
    | DefineKpi
    | ScheduleCheckin
    | RecordActual
    | SetMilestoneStatus
    | RevealVotes
    | SetVoting
    | MergeIdeas
    | AdoptGoal
    | SaveMilestone
    | RemoveMilestone
    | FinaliseTimeline
    | PostIdea
    | EditIdea
    | WithdrawIdea
    | Vote
    | SubmitSmart
    | RespondTimeline
    | MarkDone
    | SetRole
    | HandOver
    | RemoveParticipant
)
