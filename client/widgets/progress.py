"""Provides the progress view: each KPI drawn as a small line chart, and the milestones done.

The chart is drawn here in Braille cells (2x4 dots per character) rather than with a plotting
library: about forty lines, no dependency, and it renders the same in every terminal, over SSH
and in the browser door, at any width. The actuals are a solid line (baseline first), the
straight way from baseline to target a dotted one, with the figures printed beside it.
"""

from __future__ import annotations

from rich.text import Text

from client.widgets.plain import plain
from workshop.progress import Point, describe, milestone_progress, next_checkin, number, series, share_of_the_way
from workshop.state import STATUS_LABELS, Kpi, State

BRAILLE = 0x2800
DOT = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row][column] within a cell


class Canvas:
    """A grid of Braille cells; ``plot(x, y)`` in dots, (0, 0) bottom left."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells = [[0] * width for _ in range(height)]

    def plot(self, x: int, y: int) -> None:
        if 0 <= x < self.width * 2 and 0 <= y < self.height * 4:
            row = self.height - 1 - y // 4
            self.cells[row][x // 2] |= DOT[3 - y % 4][x % 2]

    def line(self, x0: int, y0: int, x1: int, y1: int, dotted: bool = False) -> None:
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in range(steps + 1):
            if not dotted or i % 3 == 0:
                self.plot(round(x0 + (x1 - x0) * i / steps), round(y0 + (y1 - y0) * i / steps))


def chart(kpi: Kpi, points: list[Point], width: int = 40, height: int = 4) -> list[Text]:
    """Lines of a chart of ``points`` (baseline and actuals) and the way to the target."""
    values = [p.value for p in points] + ([kpi.target] if kpi.target is not None else [])
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    slots = len(points) + (1 if kpi.target is not None else 0)

    def xy(i: int, value: float) -> tuple[int, int]:
        x = round(i * (width * 2 - 1) / max(slots - 1, 1))
        return x, round((value - low) / span * (height * 4 - 1))

    actual, way = Canvas(width, height), Canvas(width, height)
    for i in range(1, len(points)):
        actual.line(*xy(i - 1, points[i - 1].value), *xy(i, points[i].value))
    if len(points) == 1:
        actual.plot(*xy(0, points[0].value))
    if kpi.target is not None and points:
        way.line(*xy(0, points[0].value), *xy(slots - 1, kpi.target), dotted=True)
    out = []
    for row in range(height):
        line = Text(end="")
        label = number(high) if row == 0 else number(low) if row == height - 1 else ""
        line.append(f"{label:>7} ", style="dim")
        for a, w in zip(actual.cells[row], way.cells[row], strict=True):
            line.append(chr(BRAILLE | a | w), style="bold cyan" if a else "dim")
        out.append(line)
    return out


def progress(state: State, width: int = 40) -> Text:
    """Every KPI (figures and chart) and the milestones: done of total, the ones at risk."""
    out = Text(end="")
    if not state.kpis:
        out.append("No KPIs yet: the facilitator records them in the Review stage (k).\n", style="dim")
    for kpi in state.kpis.values():
        out.append_text(plain(kpi.name, "bold"))
        out.append("  ")
        out.append_text(plain(describe(kpi)))
        share = share_of_the_way(state, kpi)
        if share is not None:
            out.append(f"  · {share:.0%} of the way", style="bold green" if share >= 0 else "bold red")
        out.append("\n")
        points = series(state, kpi)
        if points and (kpi.target is not None or len(points) > 1):
            for line in chart(kpi, points, width=width):
                out.append_text(line)
                out.append("\n")
            to_target = f"  → target {kpi.target_date}" if kpi.target is not None else ""  # a target of 0 too
            labels = "  ".join(p.label for p in points) + to_target
            out.append(" " * 8)
            out.append_text(plain(labels, "dim"))
            out.append("\n")
        out.append("\n")
    done = milestone_progress(state)
    if done.total:
        out.append(f"Milestones: {done.done} of {done.total} done", style="bold")
        out.append(f"  {'█' * done.done}{'░' * (done.total - done.done)}\n", style="green")
        for m in state.timeline():
            if m.status != "not_started":
                style = {"at_risk": "bold red", "done": "green", "on_track": "cyan"}[m.status]
                out.append(f"  {STATUS_LABELS[m.status]:<11} ", style=style)
                out.append_text(plain(m.title))
                if m.status_note:
                    out.append(" — ")
                    out.append_text(plain(m.status_note, "italic"))
                out.append("\n")
    if state.next_checkin:
        out.append(f"\n{next_checkin(state)}", style="bold")
    return out
