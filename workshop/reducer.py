"""Provides ``apply``: folds one event into a state. Server and clients run this same code.

It trusts its input (``decide`` already checked it) and never fails on an event it can
see only part of: a replica receives redacted events and must fold them just the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from msgspec.structs import replace

from workshop import events as e
from workshop.state import Kpi, Response, Round, State


def apply(state: State, event: e.EventBody, seq: int | None = None) -> State:
    """Return the state after ``event``; ``seq`` is the log position it was stored at."""
    state = _fold(state, event)
    return replace(state, seq=seq) if seq is not None else state


def replay(events: Iterable[tuple[int, e.EventBody]], state: State | None = None) -> State:
    """Fold a stored log, ``(seq, event)`` pairs in order, into a state."""
    state = state or State()
    for seq, event in events:
        state = apply(state, event, seq)
    return state


def _close_round(s: State, changed: str) -> State:
    """Start a new agreement round; the answers of this one (if any) go to ``rounds``."""
    if not s.responses:
        return s
    return replace(s, rounds=(*s.rounds, Round(responses=s.responses, changed=changed)), responses={})


def _fold(s: State, ev: e.EventBody) -> State:
    match ev:
        case e.SessionCreated(session=session, goal=goal, agenda=agenda, started_at=started_at, kind=kind):
            return replace(s, session=session, goal=goal, agenda=tuple(agenda), started_at=started_at, kind=kind)
        case e.CarriedOver() as c:
            return replace(
                s, chain=c.chain, goal=c.goal, team_goal=c.team_goal, kpis={k.id: k for k in c.kpis},
                measurements=c.measurements,
                # Idea links and owners' seats name the previous session's ideas and seats; logs
                # written before they were left behind still carry them (see rules.decide_create).
                milestones={m.id: replace(m, idea_ids=(), owner_id=None) for m in c.milestones},
                next_checkin=c.next_checkin, checkin_cadence=c.checkin_cadence,
            )  # fmt: skip
        case e.KpiDefined(kpi=kpi):
            return replace(s, kpis={**s.kpis, kpi.id: kpi})
        case e.KpiMeasured(measurement=m):
            return replace(s, measurements=(*s.measurements, m))
        case e.MilestoneStatusSet(milestone=mid, status=status, note=note) if mid in s.milestones:
            m = replace(s.milestones[mid], status=status, status_note=note)
            return replace(s, milestones={**s.milestones, mid: m})
        case e.CheckinScheduled(date=date, cadence=cadence):
            return replace(s, next_checkin=date, checkin_cadence=cadence)
        case e.Joined(participant=p):
            return replace(s, participants={**s.participants, p.id: p})
        case e.GoalSet(goal=goal):
            return replace(s, goal=goal)
        case e.StageSet(index=index):
            return replace(s, stage_index=index)
        case e.TimerSet(ends_at=ends_at):
            return replace(s, timer_ends_at=ends_at)
        case e.BudgetSet(budget=budget):
            return replace(s, budget=budget)
        case e.KpiSet(name=name, value=value):
            old = s.kpis.get(name)
            kpi = replace(old, note=value) if old is not None else Kpi(id=name, name=name, note=value)
            return replace(s, kpis={**s.kpis, name: kpi})
        case e.IdeaPosted(idea=idea):
            return replace(s, ideas={**s.ideas, idea.id: idea})
        case e.IdeaEdited(idea=iid, text=text):
            return _with_idea(s, iid, text=text)
        case e.IdeaWithdrawn(idea=iid):
            return _with_idea(s, iid, withdrawn=True)
        case e.IdeasMerged(source=source, target=target):
            s = _with_idea(s, source, merged_into=target)
            return _carry_dots(s, source, target)
        case e.VoteCast(voter=voter, idea=idea, delta=delta):
            s = replace(s, dots_placed=s.dots_placed + delta)
            if voter is None or idea is None:  # someone's dot: the room total moves, nothing more
                return s
            ballot = dict(s.ballots.get(voter, {}))
            ballot[idea] = ballot.get(idea, 0) + delta
            if ballot[idea] <= 0:
                del ballot[idea]
            return replace(s, ballots={**s.ballots, voter: ballot})
        case e.VotingSet(open=is_open):
            return replace(s, open_voting=is_open)
        case e.VotesRevealed(totals=totals):
            return replace(s, revealed=dict(totals))
        case e.SmartSubmitted(participant=pid, sheet=sheet):
            return replace(s, smart={**s.smart, pid: sheet})
        case e.GoalAdopted(sheet=sheet):
            return replace(s, team_goal=sheet)
        case e.MilestoneSaved(milestone=m):
            # A changed timeline is a new proposal: earlier agreement no longer holds, but is kept.
            verb = "edited" if m.id in s.milestones else "added"
            s = _close_round(s, f'milestone "{m.title}" {verb}')
            return replace(s, milestones={**s.milestones, m.id: m})
        case e.MilestoneRemoved(milestone=mid):
            gone = s.milestones.get(mid)
            s = _close_round(s, f'milestone "{gone.title if gone else mid}" removed')
            ms = {k: v for k, v in s.milestones.items() if k != mid}
            return replace(s, milestones=ms)
        case e.TimelineResponded(participant=pid, agree=agree, comment=comment):
            return replace(s, responses={**s.responses, pid: Response(agree=agree, comment=comment)})
        case e.TimelineFinalised():
            return replace(s, finalised=True)
        case e.RoleSet(participant=pid, role=role) if pid in s.participants:
            p = replace(s.participants[pid], role=role)
            return replace(s, participants={**s.participants, pid: p})
        case e.ParticipantRemoved(participant=pid) if pid in s.participants:
            p = replace(s.participants[pid], removed=True)
            return replace(s, participants={**s.participants, pid: p})
        case e.DoneMarked(participant=pid, stage=key, done=done):
            marks = dict(s.done)
            if done:
                marks[pid] = key
            elif marks.get(pid) == key:
                del marks[pid]
            return replace(s, done=marks)
    return s


def _with_idea(s: State, iid: str, **changes: object) -> State:
    idea = s.ideas.get(iid)
    if idea is None:
        return s
    return replace(s, ideas={**s.ideas, iid: replace(idea, **changes)})


def _carry_dots(s: State, source: str, target: str) -> State:
    """Move every dot on a merged idea to the card it was merged into."""
    ballots: dict[str, dict[str, int]] = {}
    for voter, ballot in s.ballots.items():
        n = ballot.get(source, 0)
        if n:
            ballot = {k: v for k, v in ballot.items() if k != source}
            ballot[target] = ballot.get(target, 0) + n
        ballots[voter] = ballot
    return replace(s, ballots=ballots)
