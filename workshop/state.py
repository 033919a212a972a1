"""Provides the session state: frozen Structs that the reducer replaces, never mutates.

The same Structs are the server's full state and each client's replica; a replica is the
full state seen through its viewer's audience (see :mod:`workshop.audience`).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from workshop.agenda import DEFAULT_STAGES, Stage

Role = Literal["facilitator", "participant"]
Cadence = Literal["once", "weekly", "monthly", "quarterly"]
MilestoneStatus = Literal["not_started", "on_track", "at_risk", "done"]
SessionKind = Literal["workshop", "checkin"]
STATUS_LABELS: dict[str, str] = {
    "not_started": "not started", "on_track": "on track", "at_risk": "at risk", "done": "done",
}  # fmt: skip


def log_order(item_id: str) -> tuple[int, int, str]:
    """Sort key putting ids made from log positions ("9" before "10") in the order they arose.

    An id minted in a check-in (``"1.12"``, see :func:`item_id`) comes after the workshop's and
    the earlier check-ins' ids, whatever its position in its own log.
    """
    n, _, pos = item_id.rpartition(".")
    return (int(n) if n.isdigit() else 0, len(pos), pos)


def item_id(state: State, position: int) -> str:
    """The id of a milestone or KPI made at log ``position`` of ``state``'s session.

    A workshop's ids are its log positions. A check-in's log starts again at 1 while the
    milestones and KPIs it carries keep their ids, so its own are prefixed with its place in
    the chain (``"1.12"``: check-in 1, position 12): an id made here never replaces one carried.
    """
    return f"{len(state.chain)}.{position}" if state.chain else str(position)


def minted_in(state: State, item: str) -> tuple[str, str]:
    """The session that made ``item`` (an id from :func:`item_id`) and its position there.

    Ids that no session of ``state``'s chain made (a release 0.2 KPI is named by its name)
    belong to the chain's first session.
    """
    sessions = (*state.chain, state.session)
    n, _, pos = item.rpartition(".")
    if n.isdigit() and int(n) < len(sessions):
        return sessions[int(n)], pos
    return sessions[0], item


class Participant(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    role: Role = "participant"
    # Removed by a facilitator (joined by mistake, say): their ideas stay, they count for nothing more.
    removed: bool = False

    @property
    def active(self) -> bool:
        return not self.removed


class Idea(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    stage: str
    category: str
    text: str
    # None when the idea is anonymous (or in a replica that may not know the author).
    author: str | None = None
    anonymous: bool = False
    # Keyed digest proving authorship of an anonymous idea without naming the author.
    seal: str | None = None
    withdrawn: bool = False
    merged_into: str | None = None
    posted_at: float = 0.0

    @property
    def live(self) -> bool:
        return not self.withdrawn and self.merged_into is None


class SmartSheet(msgspec.Struct, frozen=True, kw_only=True):
    specific: str = ""
    measurable: str = ""
    achievable: str = ""
    relevant: str = ""
    time_bound: str = ""
    kpi: str = ""  # the KPI the Measurable field names, if any: the goal then reads baseline -> target


class Milestone(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    owner: str  # as people say it; ``owner_id`` when picked from the room
    due: str  # ISO date, YYYY-MM-DD
    cadence: Cadence = "once"
    idea_ids: tuple[str, ...] = ()
    owner_id: str | None = None
    parent: str | None = None  # the milestone this one breaks down (year -> quarter -> month -> week)
    status: MilestoneStatus = "not_started"
    status_note: str = ""


class Kpi(msgspec.Struct, frozen=True, kw_only=True):
    """A number the goal is measured by: where it was (baseline), where it should be, by when.

    Release 0.2 logs recorded a KPI as a name and one free-text value; such a KPI has only
    ``name`` and ``note``.
    """

    id: str
    name: str
    unit: str = ""
    baseline: float | None = None
    baseline_period: str = ""  # what the baseline covers, as people say it: "Q3 2026"
    target: float | None = None
    target_date: str = ""  # ISO date
    owner: str = ""
    note: str = ""


class Measurement(msgspec.Struct, frozen=True, kw_only=True):
    """One actual figure of a KPI, recorded at a check-in for a period."""

    kpi: str
    value: float
    period: str  # "January 2027"
    at: float  # when it was recorded (server clock)
    session: str = ""  # the session it was recorded in


class Response(msgspec.Struct, frozen=True, kw_only=True):
    agree: bool
    comment: str = ""


class Round(msgspec.Struct, frozen=True, kw_only=True):
    """A closed round of agreement: the answers given to a timeline that then changed, and what changed.

    Kept so that a concern is never lost: editing a milestone asks everyone again, but what
    they said about the earlier version stays in the state, the log and the transcript.
    """

    responses: dict[str, Response]
    changed: str  # what ended it, as people would say it: 'milestone "Webinar" edited'


class State(msgspec.Struct, frozen=True, kw_only=True):
    session: str = ""
    kind: SessionKind = "workshop"
    # The sessions this one continues, oldest first: a check-in carries the workshop's goal,
    # KPIs and milestones; ``chain[-1]`` is the session it was opened from.
    chain: tuple[str, ...] = ()
    next_checkin: str = ""  # ISO date of the next check-in, and how often they recur
    checkin_cadence: Cadence = "monthly"
    started_at: float = 0.0  # Unix time the session was created (0: a log from before this was kept)
    goal: str = ""
    agenda: tuple[Stage, ...] = DEFAULT_STAGES
    stage_index: int = 0
    participants: dict[str, Participant] = {}
    ideas: dict[str, Idea] = {}
    budget: int = 3
    # voter -> idea -> dots. The server holds every ballot; a replica holds only its viewer's,
    # before the reveal and after it (the reveal publishes totals, never ballots), unless the
    # facilitator chose open voting before the first dot.
    ballots: dict[str, dict[str, int]] = {}
    # Dots on the board, room-wide: voting progress that says neither whose dots nor where.
    dots_placed: int = 0
    open_voting: bool = False
    revealed: dict[str, int] | None = None
    smart: dict[str, SmartSheet] = {}
    team_goal: SmartSheet | None = None
    kpis: dict[str, Kpi] = {}
    measurements: tuple[Measurement, ...] = ()  # every actual ever recorded, across the chain, oldest first
    milestones: dict[str, Milestone] = {}
    responses: dict[str, Response] = {}  # the current round
    rounds: tuple[Round, ...] = ()  # earlier rounds, oldest first (only those someone answered in)
    finalised: bool = False
    done: dict[str, str] = {}  # participant -> key of the stage they marked done
    timer_ends_at: float | None = None
    seq: int = 0

    @property
    def stage(self) -> Stage:
        return self.agenda[self.stage_index]

    def people(self) -> list[Participant]:
        """The participants who count: not facilitators, not removed (votes, done marks, agreement)."""
        return [p for p in self.participants.values() if p.role == "participant" and not p.removed]

    def facilitators(self) -> list[Participant]:
        return [p for p in self.participants.values() if p.role == "facilitator" and not p.removed]

    def role_of(self, pid: str) -> Role | None:
        """``pid``'s role now, or ``None`` if they are not (or no longer) in the session."""
        p = self.participants.get(pid)
        return None if p is None or p.removed else p.role

    def done_count(self) -> int:
        key = self.stage.key
        counted = {p.id for p in self.people()}
        return sum(1 for pid, k in self.done.items() if k == key and pid in counted)

    def live_ideas(self) -> list[Idea]:
        return [i for i in self.ideas.values() if i.live]

    def dots_left(self, voter: str) -> int:
        """Dots ``voter`` may still place; known for any voter to the server, for yourself to a replica."""
        return self.budget - sum(self.ballots.get(voter, {}).values())

    def timeline(self) -> list[Milestone]:
        """Milestones by due date, then in the order they were added (ids are log positions)."""
        return sorted(self.milestones.values(), key=lambda m: (m.due, log_order(m.id)))

    @property
    def round_number(self) -> int:
        """The current agreement round, counted from 1 as people would."""
        return len(self.rounds) + 1

    def agreement(self) -> tuple[int, int]:
        """How many participants agreed and how many raised a concern in the current round."""
        counted = {p.id for p in self.people()}
        answers = [r for pid, r in self.responses.items() if pid in counted]
        agree = sum(1 for r in answers if r.agree)
        return agree, len(answers) - agree

    def totals(self) -> dict[str, int]:
        """Dots per idea from the ballots this state can see (all of them only on the server)."""
        out: dict[str, int] = {}
        for ballot in self.ballots.values():
            for idea, n in ballot.items():
                out[idea] = out.get(idea, 0) + n
        return out
