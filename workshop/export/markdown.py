"""Provides the Markdown transcript: a readable record of what the room said and agreed.

It is written for the person it is forwarded to: people's words appear as they typed them (see
:mod:`workshop.export.mdtext` for the little that must be escaped), ideas carry the numbers the
room used, and the top ideas come ranked once the votes are revealed. It keeps the room's
secrets (:func:`workshop.export.scrub.for_export`): no anonymous author, and no ballot.
"""

from __future__ import annotations

import datetime as dt

from workshop.agenda import GROUND_RULES, SMART_FIELDS
from workshop.export.mdtext import block, inline
from workshop.export.scrub import for_export
from workshop.ideas import board_order, categories_shown, ranked
from workshop.progress import (
    Point,
    by_period,
    describe,
    latest,
    measurements,
    milestone_progress,
    next_checkin,
    number,
    series,
    share_of_the_way,
)
from workshop.state import STATUS_LABELS, Idea, Kpi, Milestone, Participant, Response, SmartSheet, State, log_order


def stage_titles(state: State) -> dict[str, str]:
    return {s.key: s.title for s in state.agenda}


def _dots(n: int) -> str:
    return f"{n} dot" if n == 1 else f"{n} dots"


def votes_note(state: State) -> str:
    """One sentence on what the transcript says about votes, and why."""
    if state.open_voting:
        how = "Voting was open: everyone could see who placed which dot."
    else:
        how = "Voting was secret: the transcript shows totals, never whose dots went where."
    if state.revealed is None:
        return f"{how} The votes were not revealed, so no counts are shown."
    return f"{how} Totals as revealed."


def _quoted(text: str) -> str:
    """Text inside a Mermaid string: no quote or newline can end it early."""
    return " ".join(text.replace('"', "'").split())


def cell(text: str) -> str:
    """Text inside a Markdown table cell: a pipe would end the cell."""
    return inline(text).replace("|", "\\|")


class _Writer:
    def __init__(self, state: State) -> None:
        self.s = state
        self.out: list[str] = []
        self.names = {pid: p.name for pid, p in state.participants.items()}
        self.counts = state.revealed or {}

    def line(self, text: str = "") -> None:
        self.out.append(text)

    def name(self, pid: str) -> str:
        return inline(self.names.get(pid, pid))

    def section(self, title: str) -> None:
        if self.out and self.out[-1]:
            self.line()
        self.line(f"## {title}")
        self.line()

    def author(self, idea: Idea) -> str:
        return "anonymous" if idea.anonymous or idea.author is None else self.name(idea.author)

    # -- sections ------------------------------------------------------------------------

    def header(self) -> None:
        goal = self.s.goal.strip()
        self.line(f"# Workshop: {inline(goal)}" if goal else "# Workshop transcript")
        self.line()
        if self.s.started_at:
            when = dt.datetime.fromtimestamp(self.s.started_at, dt.UTC)
            self.line(f"Held on {when:%A %-d %B %Y}, starting {when:%H:%M} UTC.")
            self.line()

    def ground_rules(self) -> None:
        self.section("Ground rules")
        for rule in GROUND_RULES:
            self.line(f"- {inline(rule)}")

    def participants(self) -> None:
        self.section("Participants")
        if not self.s.participants:
            self.line("_No one joined._")
        for p in self.s.participants.values():
            role = " (facilitator)" if p.role == "facilitator" else ""
            self.line(f"- {inline(p.name)}{role}")

    def kpis(self) -> None:
        """The goal in numbers: each KPI's baseline, target and every actual, and a chart of them."""
        self.section("KPIs")
        if not self.s.kpis:
            self.line("_None recorded._")
            return
        rows = [k for k in self.s.kpis.values() if k.baseline is not None or k.target is not None]
        for k in self.s.kpis.values():
            if k not in rows:
                self.line(f"- **{inline(k.name)}:** {inline(k.note)}")
        if not rows:
            return
        if len(rows) < len(self.s.kpis):
            self.line()
        self.line("| KPI | Baseline | Target | Latest | Owner |")
        self.line("| --- | ---: | ---: | ---: | --- |")
        for k in rows:
            unit = f" {cell(k.unit)}" if k.unit else ""
            base = f"{number(k.baseline)}{unit} ({cell(k.baseline_period)})" if k.baseline is not None else ""
            target = f"{number(k.target)}{unit}" + (f" by {k.target_date}" if k.target_date else "")
            now = latest(self.s, k)
            share = share_of_the_way(self.s, k)
            how_far = f" ({share:.0%} of the way)" if share is not None and measurements(self.s, k.id) else ""
            self.line(
                f"| {cell(k.name)} | {base} | {target if k.target is not None else ''} | "
                f"{number(now)}{unit if now is not None else ''}{how_far} | {cell(k.owner)} |"
            )
        for k in rows:
            points = series(self.s, k)
            for_each = measurements(self.s, k.id)
            if for_each:
                self.line()
                self.line(f"### {inline(k.name)}")
                self.line()
                for m in for_each:
                    self.line(f"- {inline(m.period)}: {number(m.value)}{' ' + inline(k.unit) if k.unit else ''}")
            if len(points) >= 1 and k.target is not None:
                self.line()
                self.chart(k, points)

    def chart(self, k: Kpi, points: list[Point]) -> None:
        """A Mermaid line chart (GitHub, GitLab and most Markdown viewers draw it): actuals and the way to target."""
        labels = [p.label for p in points] + [f"target {k.target_date}".strip()]
        start = points[0].value
        steps = len(labels) - 1
        assert k.target is not None
        way = [start + (k.target - start) * i / steps for i in range(len(labels))]
        self.line("```mermaid")
        self.line("xychart-beta")
        self.line(f'    title "{_quoted(k.name)}{" (" + _quoted(k.unit) + ")" if k.unit else ""}"')
        self.line("    x-axis [" + ", ".join(f'"{_quoted(label)}"' for label in labels) + "]")
        self.line("    line [" + ", ".join(number(p.value) for p in points) + "]")
        self.line("    line [" + ", ".join(number(round(v, 4)) for v in way) + "]")
        self.line("```")
        self.line()
        self.line("_First line: baseline and actuals; second: the straight way to the target._")

    def checkin(self) -> None:
        if self.s.kind != "checkin" and not self.s.next_checkin:
            return
        self.section("Check-ins")
        if self.s.kind == "checkin":
            self.line(f"This is check-in {len(self.s.chain)} of the workshop (session {self.s.chain[0]}).")
        progress = milestone_progress(self.s)
        if progress.total:
            risky = ", ".join(inline(m.title) for m in progress.at_risk)
            at_risk = f"; at risk: {risky}." if risky else "."
            self.line(f"Milestones: {progress.done} of {progress.total} done{at_risk}")
        if self.s.next_checkin:
            self.line(next_checkin(self.s))

    def smart(self) -> None:
        self.section("SMART goal")
        self.line("### Adopted team goal")
        self.line()
        if self.s.team_goal is None:
            self.line("_No team goal was adopted._")
        else:
            self.sheet(self.s.team_goal)
        for pid, sheet in self.s.smart.items():
            self.line()
            self.line(f"### Sheet of {self.name(pid)}")
            self.line()
            self.sheet(sheet)

    def sheet(self, sheet: SmartSheet) -> None:
        for key, label, _hint in SMART_FIELDS:
            value = getattr(sheet, key)
            shown = block(value, "  ") if value.strip() else "_(empty)_"
            if key == "measurable" and (kpi := self.s.kpis.get(sheet.kpi)) is not None:
                shown += f" ({inline(kpi.name)}: {inline(describe(kpi))})"
            self.line(f"- **{label}:** {shown}")

    def top_ideas(self) -> None:
        top = ranked(self.s)
        if not top:
            return
        self.section("Top ideas")
        titles = stage_titles(self.s)
        for n, (idea, dots) in enumerate(top, start=1):
            where = inline(titles.get(idea.stage, idea.stage))
            self.line(f"{n}. **{_dots(dots)}**: {inline(idea.text)} (idea {idea.id}, {where})")

    def ideas(self) -> None:
        self.section("Ideas")
        self.line(votes_note(self.s))
        visible = {i.id: i for i in self.s.ideas.values() if not i.withdrawn}
        children: dict[str, list[Idea]] = {}
        top: list[Idea] = []
        for idea in board_order(self.s, visible.values()):
            if idea.merged_into is not None and idea.merged_into in visible:
                children.setdefault(idea.merged_into, []).append(idea)
            else:
                top.append(idea)
        if not top:
            self.line()
            self.line("_No ideas were posted._")
        titles = stage_titles(self.s)
        used: dict[str, list[str]] = {}
        for idea in top:
            used.setdefault(idea.stage, []).append(idea.category)
        declared = {st.key: st.categories for st in self.s.agenda}
        headed = {key: len(categories_shown(declared.get(key, ()), cats)) > 1 for key, cats in used.items()}
        group: tuple[str, str] | None = None
        for idea in top:
            if group is None or group[0] != idea.stage:
                self.line()
                self.line(f"### {inline(titles.get(idea.stage, idea.stage))}")
            if group != (idea.stage, idea.category):
                self.line()
                if headed[idea.stage]:
                    self.line(f"#### {inline(idea.category or 'uncategorised')}")
                    self.line()
            group = (idea.stage, idea.category)
            self.idea(idea, children, 0)

    def idea(self, idea: Idea, children: dict[str, list[Idea]], depth: int) -> None:
        indent = "  " * depth
        text = block(idea.text, indent + "  ")
        if depth == 0 and idea.merged_into is None:
            dots = f"; {_dots(self.counts.get(idea.id, 0))}" if self.s.revealed is not None else ""
            tail = f" ({self.author(idea)}{dots})"
        elif depth == 0:
            tail = f" ({self.author(idea)}; merged into {idea.merged_into})"
        else:
            tail = f" ({self.author(idea)}; merged here)"
        self.line(f"{indent}- **{idea.id}** {text}{tail}")
        for child in children.get(idea.id, ()):
            self.idea(child, children, depth + 1)

    def ballots(self) -> None:
        """Only under open voting, which everyone saw chosen before the first dot."""
        if not self.s.open_voting or not any(self.s.ballots.values()):
            return
        self.section("Votes (open voting)")
        for pid, ballot in self.s.ballots.items():
            placed = ", ".join(f"{iid} ({n})" for iid, n in sorted(ballot.items(), key=lambda kv: log_order(kv[0])))
            self.line(f"- {self.name(pid)}: {placed or 'no dots'}")

    def timeline(self) -> None:
        """Milestones by quarter and month, a part under its parent, with status once reported."""
        self.section("Timeline")
        self.line("Status: finalised." if self.s.finalised else "Status: not finalised.")
        if not self.s.milestones:
            self.line()
            self.line("_No milestones._")
        for q, months in by_period(self.s):
            self.line()
            self.line(f"### {q}")
            for mo, milestones in months:
                self.line()
                self.line(f"#### {mo}")
                self.line()
                for m in milestones:
                    self.milestone(m)

    def milestone(self, m: Milestone) -> None:
        self.line(f"- **{inline(m.due)}**: {inline(m.title)}")
        self.line(f"  - Owner: {inline(m.owner)}")
        if m.cadence != "once":
            self.line(f"  - Cadence: {m.cadence}")
        if m.parent and (parent := self.s.milestones.get(m.parent)) is not None:
            self.line(f"  - Part of: {inline(parent.title)}")
        if m.status != "not_started" or m.status_note:
            note = f": {inline(m.status_note)}" if m.status_note else ""
            self.line(f"  - Status: {STATUS_LABELS[m.status]}{note}")
        for iid in m.idea_ids:
            idea = self.s.ideas.get(iid)
            text = inline(idea.text) if idea else "(unknown idea)"
            self.line(f"  - From idea {inline(iid)}: {text}")

    def agreement(self) -> None:
        """Every round, oldest first: a concern about an earlier version of the timeline is never lost.

        Only participants are asked; facilitators propose the timeline and are not listed.
        """
        self.section("Agreement")
        people = [p for p in self.s.participants.values() if p.role == "participant"]
        if not people:
            self.line("_No participants joined._")
            return
        rounds = self.s.rounds
        for n, past in enumerate(rounds, start=1):
            self.line(f"### Round {n} (ended: {inline(past.changed)})")
            self.line()
            self.responses(people, past.responses, answered_only=True)
            self.line()
        if rounds:
            state = "final timeline" if self.s.finalised else "current timeline"
            self.line(f"### Round {len(rounds) + 1} ({state})")
            self.line()
        self.responses(people, self.s.responses, answered_only=False)

    def responses(self, people: list[Participant], answers: dict[str, Response], answered_only: bool) -> None:
        for p in people:
            r = answers.get(p.id)
            if r is None and answered_only:
                continue
            said = "no response" if r is None else "agreed" if r.agree else "concern"
            comment = f": {block(r.comment, '  ')}" if r is not None and r.comment.strip() else ""
            self.line(f"- {inline(p.name)}: {said}{comment}")


def render_markdown(state: State) -> str:
    w = _Writer(for_export(state))
    w.header()
    w.ground_rules()
    w.participants()
    w.kpis()
    w.smart()
    w.top_ideas()
    w.ideas()
    w.ballots()
    w.timeline()
    w.checkin()
    w.agreement()
    return "\n".join(w.out).rstrip("\n") + "\n"
