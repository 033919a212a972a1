"""Provides the Markdown transcript: a readable record of what the room said and agreed.

All text that came from people (goal, names, ideas, comments, even agenda titles) is
escaped so that it renders as the words typed, never as links, HTML or headings, and it is
cleaned of control characters. There is no date in it: the core has no clock of its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from workshop.agenda import GROUND_RULES, SMART_FIELDS
from workshop.state import Idea, SmartSheet, State, log_order
from workshop.text import printable

# Every character with a meaning in CommonMark/GFM inline or block syntax.
_SPECIAL = frozenset("\\`*_{}[]<>()#+-.!|~=&$^")


def escape(text: str) -> str:
    """``text`` on one line, with every Markdown-significant character backslash-escaped."""
    return " ".join(_escape_line(line) for line in _lines(text))


def escape_block(text: str, indent: str) -> str:
    """``text`` keeping its line breaks as hard breaks, indented to stay in its list item."""
    return ("\\\n" + indent).join(_escape_line(line) for line in _lines(text))


def _lines(text: str) -> list[str]:
    lines = [" ".join(line.split()) for line in printable(text).split("\n")]
    return [line for line in lines if line] or [""]


def _escape_line(line: str) -> str:
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in line)


def stage_titles(state: State) -> dict[str, str]:
    return {s.key: s.title for s in state.agenda}


def idea_order(state: State, ideas: Iterable[Idea]) -> list[Idea]:
    """Ideas in agenda order, then their stage's category order, then posting order."""
    stage_pos = {s.key: i for i, s in enumerate(state.agenda)}
    cat_pos = {(s.key, cat): i for s in state.agenda for i, cat in enumerate(s.categories)}
    return sorted(
        ideas,
        key=lambda i: (
            stage_pos.get(i.stage, len(stage_pos)),
            i.stage,
            cat_pos.get((i.stage, i.category), 1 << 30),
            i.category,
            log_order(i.id),
        ),
    )


def _dots(n: int) -> str:
    return f"{n} dot" if n == 1 else f"{n} dots"


class _Writer:
    def __init__(self, state: State) -> None:
        self.s = state
        self.out: list[str] = []
        self.names = {pid: p.name for pid, p in state.participants.items()}
        self.counts = state.revealed if state.revealed is not None else state.totals()

    def line(self, text: str = "") -> None:
        self.out.append(text)

    def name(self, pid: str) -> str:
        return escape(self.names.get(pid, pid))

    def section(self, title: str) -> None:
        if self.out and self.out[-1]:
            self.line()
        self.line(f"## {title}")
        self.line()

    # -- sections ------------------------------------------------------------------------

    def header(self) -> None:
        goal = self.s.goal.strip()
        self.line(f"# Workshop: {escape(goal)}" if goal else "# Workshop transcript")
        self.line()
        if goal:
            self.line(f"**Goal:** {escape(goal)}")
            self.line()

    def ground_rules(self) -> None:
        self.section("Ground rules")
        for rule in GROUND_RULES:
            self.line(f"- {escape(rule)}")

    def participants(self) -> None:
        self.section("Participants")
        if not self.s.participants:
            self.line("_No one joined._")
        for p in self.s.participants.values():
            role = " (facilitator)" if p.role == "facilitator" else ""
            self.line(f"- {escape(p.name)}{role}")

    def kpis(self) -> None:
        self.section("Baseline KPIs")
        if not self.s.kpis:
            self.line("_None recorded._")
        for name, value in self.s.kpis.items():
            self.line(f"- **{escape(name)}:** {escape(value)}")

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
            shown = escape_block(value, "  ") if value.strip() else "_(empty)_"
            self.line(f"- **{label}:** {shown}")

    def ideas(self) -> None:
        self.section("Ideas")
        state_note = "revealed" if self.s.revealed is not None else "not revealed; counts as far as known"
        self.line(f"Votes: {state_note}.")
        visible = {i.id: i for i in self.s.ideas.values() if not i.withdrawn}
        children: dict[str, list[Idea]] = {}
        top: list[Idea] = []
        for idea in idea_order(self.s, visible.values()):
            if idea.merged_into is not None and idea.merged_into in visible:
                children.setdefault(idea.merged_into, []).append(idea)
            else:
                top.append(idea)
        if not top:
            self.line()
            self.line("_No ideas were posted._")
        titles = stage_titles(self.s)
        group: tuple[str, str] | None = None
        for idea in top:
            if group is None or group[0] != idea.stage:
                self.line()
                self.line(f"### {escape(titles.get(idea.stage, idea.stage))}")
            if group != (idea.stage, idea.category):
                self.line()
                self.line(f"#### {escape(idea.category or 'uncategorised')}")
                self.line()
            group = (idea.stage, idea.category)
            self.idea(idea, children, 0)

    def idea(self, idea: Idea, children: dict[str, list[Idea]], depth: int) -> None:
        indent = "  " * depth
        who = "anonymous" if idea.anonymous or idea.author is None else self.name(idea.author)
        text = escape_block(idea.text, indent + "  ")
        if depth == 0 and idea.merged_into is None:
            tail = f" ({who}; {_dots(self.counts.get(idea.id, 0))})"
        elif idea.merged_into is not None and depth == 0:
            tail = f" ({who}; merged into #{escape(idea.merged_into)})"
        else:
            tail = f" ({who}; merged here)"
        self.line(f"{indent}- #{escape(idea.id)} {text}{tail}")
        for child in children.get(idea.id, ()):
            self.idea(child, children, depth + 1)

    def timeline(self) -> None:
        self.section("Timeline")
        self.line("Status: finalised." if self.s.finalised else "Status: not finalised.")
        self.line()
        if not self.s.milestones:
            self.line("_No milestones._")
        milestones = self.s.timeline()
        for m in milestones:
            self.line(f"- **{escape(m.due)}**: {escape(m.title)}")
            self.line(f"  - Owner: {escape(m.owner)}")
            self.line(f"  - Cadence: {m.cadence}")
            for iid in m.idea_ids:
                idea = self.s.ideas.get(iid)
                text = escape(idea.text) if idea else "(unknown idea)"
                self.line(f"  - Idea #{escape(iid)}: {text}")

    def agreement(self) -> None:
        self.section("Agreement")
        if not self.s.participants:
            self.line("_No one joined._")
        for pid, p in self.s.participants.items():
            r = self.s.responses.get(pid)
            if r is None:
                said = "no response"
            elif r.agree:
                said = "agreed"
            else:
                said = "concern"
            comment = f": {escape_block(r.comment, '  ')}" if r is not None and r.comment.strip() else ""
            self.line(f"- {escape(p.name)}: {said}{comment}")


def render_markdown(state: State) -> str:
    w = _Writer(state)
    w.header()
    w.ground_rules()
    w.participants()
    w.kpis()
    w.smart()
    w.ideas()
    w.timeline()
    w.agreement()
    return "\n".join(w.out).rstrip("\n") + "\n"
