"""Provides ``decide``: the one place the workshop's rules live.

``decide`` checks a command against the state and the actor and returns the events it
causes, or a :class:`Rejection` saying why not. It never changes anything itself; the
server persists what it returns and everyone folds it in with :func:`workshop.reducer.apply`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import msgspec
from msgspec.structs import replace

from workshop import commands as c
from workshop import events as e
from workshop.agenda import SMART_FIELDS, AgendaError, Stage, validate_agenda
from workshop.state import Idea, Kpi, Measurement, Milestone, Participant, Role, SmartSheet, State, item_id
from workshop.text import problem

LIMITS = {
    "goal": 200,
    "idea": 500,
    "comment": 500,
    "smart": 300,
    "title": 120,
    "owner": 60,
    "kpi_name": 60,
    "kpi_value": 200,
    "unit": 20,
    "period": 40,
    "note": 200,
    "name": 40,
}


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who sends a command, as the server knows it (never as the message claims).

    Their role is not here: it is the session's (``State.role_of``), so a handover or a
    removal applies to every connection of theirs at once.
    """

    id: str
    # Secret only this actor's client holds; it proves authorship of anonymous ideas.
    seal_key: bytes = b""


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    message: str


def seal(key: bytes, idea_id: str) -> str:
    """A digest that lets the holder of ``key`` (and nobody else) claim an anonymous idea."""
    return hmac.new(key, idea_id.encode(), hashlib.sha256).hexdigest()


def owns(actor: Actor, idea: Idea) -> bool:
    if idea.author is not None:
        return idea.author == actor.id
    if idea.seal is None or not actor.seal_key:
        return False
    return hmac.compare_digest(idea.seal, seal(actor.seal_key, idea.id))


def _bad(message: str) -> Rejection:
    return Rejection(code="invalid", message=message)


def _text(value: str, key: str, what: str, *, newline: bool = False) -> Rejection | None:
    msg = problem(value, limit=LIMITS[key], what=what, allow_newline=newline)
    return _bad(msg) if msg else None


def _wrong_stage(state: State, doing: str) -> Rejection:
    return Rejection(
        code="wrong_stage",
        message=f"{doing} is not possible in the current stage: {state.stage.title}",
    )


def _sheet_problem(sheet: SmartSheet, *, require_all: bool) -> Rejection | None:
    filled = 0
    for key, label, _hint in SMART_FIELDS:
        value = getattr(sheet, key)
        if not value.strip():
            continue
        filled += 1
        if err := _text(value, "smart", label, newline=True):
            return err
    if filled == 0 or (require_all and filled < len(SMART_FIELDS)):
        need = "all five SMART fields" if require_all else "at least one SMART field"
        return _bad(f"fill in {need}")
    return None


def _date_problem(due: str) -> Rejection | None:
    try:
        dt.date.fromisoformat(due)
    except ValueError:
        return _bad(f"due date {due!r} is not a date like 2026-03-31")
    if len(due) != 10:
        return _bad(f"due date {due!r} is not a date like 2026-03-31")
    return None


def decide(state: State, actor: Actor, cmd: c.Command, now: float) -> list[e.EventBody] | Rejection:
    """Return the events ``cmd`` causes, or why it is refused; ``now`` is the server's clock."""
    role = state.role_of(actor.id)
    if role is None:
        removed = actor.id in state.participants
        message = "a facilitator removed you from this session" if removed else "you have not joined this session"
        return Rejection(code="forbidden", message=message)
    if type(cmd) in c.FACILITATOR_ONLY and role != "facilitator":
        return Rejection(code="forbidden", message="only the facilitator can do that")
    next_id = str(state.seq + 1)
    stage = state.stage
    match cmd:
        case c.SetGoal(goal=goal):
            return _text(goal, "goal", "goal") or [e.GoalSet(goal=goal)]
        case c.SetStage(index=index):
            if index >= len(state.agenda):
                return _bad(f"the agenda has {len(state.agenda)} stages; there is no stage {index + 1}")
            return [e.StageSet(index=index), e.TimerSet(ends_at=None)]
        case c.StartTimer(seconds=seconds):
            return [e.TimerSet(ends_at=now + seconds if seconds else None)]
        case c.SetBudget(budget=budget):
            if state.dots_placed:
                return Rejection(code="conflict", message="votes have been cast; the budget can no longer change")
            return [e.BudgetSet(budget=budget)]
        case c.SetVoting(open=is_open):
            if state.dots_placed or state.revealed is not None:
                return Rejection(
                    code="conflict", message="dots are already placed; open or secret voting is chosen before the first"
                )
            return [e.VotingSet(open=is_open)]
        case c.SetKpi(name=name, value=value):
            return (
                _text(name, "kpi_name", "KPI name")
                or _text(value, "kpi_value", "KPI value")
                or [e.KpiSet(name=name, value=value)]
            )
        case c.DefineKpi():
            return _define_kpi(state, cmd)
        case c.RecordActual(kpi=kid, value=value, period=period):
            if stage.kind not in ("numbers", "review"):
                return _wrong_stage(state, "Recording a KPI's actual")
            kpi = state.kpis.get(kid)
            if kpi is None:
                return Rejection(code="not_found", message=f"no KPI {kid}")
            if role != "facilitator" and not _owns(state, actor, kpi.owner):
                return Rejection(code="forbidden", message=f"only the facilitator or {kpi.owner or 'its owner'} can")
            if err := _text(period, "period", "period"):
                return err
            measurement = Measurement(kpi=kid, value=value, period=period, at=now, session=state.session)
            return [e.KpiMeasured(measurement=measurement)]
        case c.SetMilestoneStatus(milestone=mid, status=status, note=note):
            if stage.kind not in ("milestones", "timeline"):
                return _wrong_stage(state, "Reporting a milestone's status")
            m = state.milestones.get(mid)
            if m is None:
                return Rejection(code="not_found", message=f"no milestone {mid}")
            if role != "facilitator" and not _owns(state, actor, m.owner, m.owner_id):
                return Rejection(code="forbidden", message=f"only the facilitator or {m.owner} can report on it")
            if note and (err := _text(note, "note", "note")):
                return err
            return [e.MilestoneStatusSet(milestone=mid, status=status, note=note)]
        case c.ScheduleCheckin(date=date, cadence=cadence):
            return _date_problem(date) or [e.CheckinScheduled(date=date, cadence=cadence)]
        case c.RevealVotes():
            if state.revealed is not None:
                return Rejection(code="conflict", message="votes are already revealed")
            live = {i.id for i in state.live_ideas()}
            totals = {k: v for k, v in state.totals().items() if k in live and v}
            return [e.VotesRevealed(totals=totals)]
        case c.MergeIdeas(source=source, target=target):
            src, dst = state.ideas.get(source), state.ideas.get(target)
            if src is None or dst is None or not src.live or not dst.live:
                return Rejection(code="not_found", message="both ideas must exist and be live to merge")
            if source == target:
                return _bad("an idea cannot be merged into itself")
            if state.revealed is not None:
                return Rejection(code="conflict", message="votes are revealed; ideas can no longer be merged")
            return [e.IdeasMerged(source=source, target=target)]
        case c.AdoptGoal(sheet=sheet):
            if sheet.kpi and sheet.kpi not in state.kpis:
                return Rejection(code="not_found", message=f"no KPI {sheet.kpi} to measure the goal by")
            return _sheet_problem(sheet, require_all=True) or [e.GoalAdopted(sheet=sheet)]
        case c.SaveMilestone():
            return _save_milestone(state, cmd)
        case c.RemoveMilestone(milestone=mid):
            if err := _timeline_open(state, "Removing a milestone"):
                return err
            if mid not in state.milestones:
                return Rejection(code="not_found", message=f"no milestone {mid}")
            return [e.MilestoneRemoved(milestone=mid)]
        case c.FinaliseTimeline():
            if err := _timeline_open(state, "Finalising the timeline"):
                return err
            if not state.milestones:
                return _bad("add at least one milestone before finalising")
            return [e.TimelineFinalised()]
        case c.PostIdea(category=category, text=text, anonymous=anonymous):
            if not stage.categories:
                return _wrong_stage(state, "Posting an idea")
            if category not in stage.categories:
                return _bad(f"category must be one of: {', '.join(stage.categories)}")
            if err := _text(text, "idea", "idea", newline=True):
                return err
            idea = Idea(
                id=next_id,
                stage=stage.key,
                category=category,
                text=text,
                author=None if anonymous else actor.id,
                anonymous=anonymous,
                seal=seal(actor.seal_key, next_id) if anonymous else None,
                posted_at=now,
            )
            return [e.IdeaPosted(idea=idea)]
        case c.EditIdea(idea=iid, text=text):
            idea = state.ideas.get(iid)
            if err := _own_live(actor, idea, iid):
                return err
            return _text(text, "idea", "idea", newline=True) or [e.IdeaEdited(idea=iid, text=text)]
        case c.WithdrawIdea(idea=iid):
            idea = state.ideas.get(iid)
            if err := _own_live(actor, idea, iid):
                return err
            if state.dots_placed and state.revealed is None:
                # Handing the dots on it back would tell the room whose they were (see
                # docs/security.md); the idea can still be edited, and merged by the facilitator.
                return Rejection(
                    code="conflict",
                    message="dots are on the board, so ideas stay until the votes are revealed; you can still edit it",
                )
            return [e.IdeaWithdrawn(idea=iid)]
        case c.Vote(idea=iid, delta=delta):
            if stage.kind != "vote":
                return _wrong_stage(state, "Voting")
            if state.revealed is not None:
                return Rejection(code="conflict", message="votes are revealed; voting is closed")
            idea = state.ideas.get(iid)
            if idea is None or not idea.live:
                return Rejection(code="not_found", message=f"no idea {iid} to vote on")
            mine = state.ballots.get(actor.id, {}).get(iid, 0)
            if delta > 0 and state.dots_left(actor.id) <= 0:
                return Rejection(code="no_dots", message=f"all {state.budget} of your dots are placed")
            if delta < 0 and mine <= 0:
                return Rejection(code="conflict", message="you have no dot on that idea to take back")
            return [e.VoteCast(voter=actor.id, idea=iid, delta=delta, open=state.open_voting)]
        case c.SubmitSmart(sheet=sheet):
            if stage.kind != "smart":
                return _wrong_stage(state, "Filling in the SMART sheet")
            return _sheet_problem(sheet, require_all=False) or [e.SmartSubmitted(participant=actor.id, sheet=sheet)]
        case c.RespondTimeline(agree=agree, comment=comment):
            if err := _timeline_open(state, "Responding to the timeline"):
                return err
            if not state.milestones:
                return Rejection(code="conflict", message="there is no timeline to respond to yet")
            if comment and (err := _text(comment, "comment", "comment", newline=True)):
                return err
            if not agree and not comment.strip():
                return _bad("say what the concern is in a comment")
            return [e.TimelineResponded(participant=actor.id, agree=agree, comment=comment)]
        case c.MarkDone(done=done):
            return [e.DoneMarked(participant=actor.id, stage=stage.key, done=done)]
        case c.SetRole(participant=pid, role=new_role):
            if state.role_of(pid) is None:
                return Rejection(code="not_found", message="no such participant in this session")
            if state.role_of(pid) == new_role:
                return Rejection(code="conflict", message=f"{state.participants[pid].name} is already a {new_role}")
            if new_role == "participant" and len(state.facilitators()) == 1:
                return Rejection(code="conflict", message="a session needs a facilitator; hand it over instead")
            return [e.RoleSet(participant=pid, role=new_role)]
        case c.HandOver(participant=pid):
            if state.role_of(pid) is None or pid == actor.id:
                return Rejection(code="not_found", message="hand over to someone else in this session")
            events: list[e.EventBody] = []
            if state.role_of(pid) != "facilitator":
                events.append(e.RoleSet(participant=pid, role="facilitator"))
            return [*events, e.RoleSet(participant=actor.id, role="participant")]
        case c.RemoveParticipant(participant=pid):
            if state.role_of(pid) is None:
                return Rejection(code="not_found", message="no such participant in this session")
            if pid == actor.id:
                return Rejection(code="conflict", message="you cannot remove yourself; hand the session over first")
            if state.role_of(pid) == "facilitator":
                return Rejection(code="conflict", message="make them a participant before removing them")
            return [e.ParticipantRemoved(participant=pid)]
    return _bad(f"unknown command {type(cmd).__name__}")


def _own_live(actor: Actor, idea: Idea | None, iid: str) -> Rejection | None:
    if idea is None or not idea.live:
        return Rejection(code="not_found", message=f"no idea {iid}")
    if not owns(actor, idea):
        return Rejection(code="forbidden", message="only the author can change an idea")
    return None


def _timeline_open(state: State, doing: str) -> Rejection | None:
    if state.stage.kind != "timeline":
        return _wrong_stage(state, doing)
    if state.finalised:
        return Rejection(code="conflict", message="the timeline is finalised")
    return None


def _save_milestone(state: State, cmd: c.SaveMilestone) -> list[e.EventBody] | Rejection:
    if err := _timeline_open(state, "Editing the timeline"):
        return err
    if cmd.milestone and cmd.milestone not in state.milestones:
        return Rejection(code="not_found", message=f"no milestone {cmd.milestone}")
    if err := (
        _text(cmd.title, "title", "milestone title") or _text(cmd.owner, "owner", "owner") or _date_problem(cmd.due)
    ):
        return err
    for iid in cmd.idea_ids:
        if iid not in state.ideas:
            return Rejection(code="not_found", message=f"no idea {iid} to link")
    if cmd.owner_id and state.role_of(cmd.owner_id) is None:
        return Rejection(code="not_found", message="the owner is not in this session")
    mid = cmd.milestone or item_id(state, state.seq + 1)
    if cmd.parent and (cmd.parent not in state.milestones or cmd.parent == mid or _descends(state, cmd.parent, mid)):
        return _bad("the parent must be another milestone of this timeline, not one of its own parts")
    old = state.milestones.get(mid)
    milestone = Milestone(
        id=mid,
        title=cmd.title,
        owner=cmd.owner,
        due=cmd.due,
        cadence=cmd.cadence,
        idea_ids=tuple(dict.fromkeys(cmd.idea_ids)),
        owner_id=cmd.owner_id or None,
        parent=cmd.parent or None,
        status=old.status if old else "not_started",  # reported by its owner, not by an edit
        status_note=old.status_note if old else "",
    )
    return [e.MilestoneSaved(milestone=milestone)]


def _descends(state: State, mid: str, ancestor: str) -> bool:
    """Whether ``mid`` sits under ``ancestor`` (a parent chain may not loop)."""
    seen: set[str] = set()
    while mid in state.milestones and mid not in seen:
        seen.add(mid)
        parent = state.milestones[mid].parent
        if parent == ancestor:
            return True
        mid = parent or ""
    return False


def _owns(state: State, actor: Actor, owner: str, owner_id: str | None = None) -> bool:
    """Whether ``actor`` is the owner named: by id when picked from the room, else by name."""
    if owner_id:
        return owner_id == actor.id
    me = state.participants.get(actor.id)
    return me is not None and bool(owner) and me.name.casefold() == owner.strip().casefold()


def _define_kpi(state: State, cmd: c.DefineKpi) -> list[e.EventBody] | Rejection:
    if cmd.kpi and cmd.kpi not in state.kpis:
        return Rejection(code="not_found", message=f"no KPI {cmd.kpi}")
    problem = (
        _text(cmd.name, "kpi_name", "KPI name")
        or (cmd.unit and _text(cmd.unit, "unit", "unit"))
        or (cmd.baseline_period and _text(cmd.baseline_period, "period", "baseline period"))
        or (cmd.owner and _text(cmd.owner, "owner", "owner"))
        or (cmd.target_date and _date_problem(cmd.target_date))
    )
    if problem:
        return problem
    kid = cmd.kpi or item_id(state, state.seq + 1)
    old = state.kpis.get(kid)
    kpi = Kpi(
        id=kid, name=cmd.name, unit=cmd.unit, baseline=cmd.baseline, baseline_period=cmd.baseline_period,
        target=cmd.target, target_date=cmd.target_date, owner=cmd.owner, note=old.note if old else "",
    )  # fmt: skip
    return [e.KpiDefined(kpi=kpi)]


def decide_join(state: State, participant_id: str, name: str, role: Role) -> list[e.EventBody] | Rejection:
    """Admit a new participant (the server has already checked the join code or secret)."""
    if err := _text(name, "name", "name"):
        return err
    return [e.Joined(participant=Participant(id=participant_id, name=name, role=role))]


def decide_create(
    session: str, goal: str, agenda: tuple[Stage, ...], now: float = 0.0, continues: State | None = None
) -> list[e.EventBody] | Rejection:
    """The first event of every session's log."""
    if goal and (err := _text(goal, "goal", "goal")):
        return err
    try:
        validate_agenda(agenda)
    except AgendaError as exc:
        return _bad(str(exc))
    if continues is None:
        return [e.SessionCreated(session=session, goal=goal, agenda=agenda, started_at=now)]
    # A check-in: the previous session's goal, numbers and timeline as they stand, and a new
    # agreement round on the timeline (it is recalibrated here).
    carried = e.CarriedOver(
        chain=(*continues.chain, continues.session),
        goal=continues.goal,
        team_goal=continues.team_goal,
        kpis=tuple(continues.kpis.values()),
        measurements=continues.measurements,
        # A milestone's linked ideas are positions in the log of the session that linked them, and
        # an owner picked from the room is a seat there: here the same positions are other ideas
        # (a challenge posted today) and everyone has a new seat, so both stay behind; the owner
        # is then known by name, as one typed in.
        milestones=tuple(replace(m, idea_ids=(), owner_id=None) for m in continues.milestones.values()),
        next_checkin=continues.next_checkin,
        checkin_cadence=continues.checkin_cadence,
    )
    created = e.SessionCreated(session=session, goal=continues.goal, agenda=agenda, started_at=now, kind="checkin")
    return [created, carried]
