"""Provides the CSV transcript: a row per idea, milestone and KPI figure (and per ballot entry under open voting).

``kpi`` rows give each KPI's baseline, every actual recorded across the check-ins, and its
target, one row per figure (``status`` says which, ``period`` when, ``due`` the target date).

Ideas carry the numbers the room used, in board order (:mod:`workshop.ideas`); ``votes`` is
filled only after the reveal, and ``vote`` rows appear only when the facilitator chose open voting
(:func:`workshop.export.scrub.for_export`). Every cell is cleaned of control characters, and a
cell a spreadsheet could read as a formula (starting with ``= + - @``, tab or carriage return) is
prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io

from workshop.export.markdown import stage_titles
from workshop.export.scrub import for_export
from workshop.ideas import board_order
from workshop.progress import measurements, number
from workshop.state import State, log_order
from workshop.text import printable

COLUMNS = (
    "kind", "stage", "category", "idea_id", "text", "author", "anonymous", "votes", "status", "voter", "dots",
    "owner", "due", "cadence", "value", "unit", "period", "parent", "note",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str | int:
    """A value safe to put in a spreadsheet cell.

    A figure (a KPI's -3.5 % change) is written as the number it is: only text can be a formula,
    and a ``'`` before a negative figure would make the spreadsheet read it as text.
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return number(value)
    text = printable(str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(state: State) -> str:
    state = for_export(state)
    counts = state.revealed
    titles = stage_titles(state)
    names = {pid: p.name for pid, p in state.participants.items()}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)

    def row(**values: object) -> None:
        writer.writerow([cell(values.get(c, "")) for c in COLUMNS])

    for idea in board_order(state):
        if idea.withdrawn:
            status = "withdrawn"
        elif idea.merged_into is not None:
            status = f"merged_into:{idea.merged_into}"
        else:
            status = "live"
        author = "anonymous" if idea.anonymous or idea.author is None else names.get(idea.author, idea.author)
        row(
            kind="idea", stage=titles.get(idea.stage, idea.stage), category=idea.category, idea_id=idea.id,
            text=idea.text, author=author, anonymous=idea.anonymous,
            votes=counts.get(idea.id, 0) if counts is not None else "", status=status,
        )  # fmt: skip
    for voter, ballot in state.ballots.items():  # empty unless voting was open
        for iid, dots in sorted(ballot.items(), key=lambda kv: log_order(kv[0])):
            idea = state.ideas.get(iid)
            row(
                kind="vote", stage=titles.get(idea.stage, idea.stage) if idea else "",
                category=idea.category if idea else "", idea_id=iid, voter=names.get(voter, voter), dots=dots,
            )  # fmt: skip
    # The timeline: a milestone's linked ideas go in idea_id; status is its reported one once
    # reported, else whether the timeline was finalised.
    agreed = "finalised" if state.finalised else "draft"
    for m in state.timeline():
        parent = state.milestones[m.parent].title if m.parent and m.parent in state.milestones else ""
        row(kind="milestone", idea_id=" ".join(m.idea_ids), text=m.title, owner=m.owner, due=m.due, cadence=m.cadence,
            status=m.status if m.status != "not_started" else agreed, note=m.status_note, parent=parent)  # fmt: skip
    for k in state.kpis.values():
        if k.baseline is not None:
            row(kind="kpi", text=k.name, status="baseline", value=k.baseline, unit=k.unit,
                period=k.baseline_period, owner=k.owner)  # fmt: skip
        elif k.note:
            row(kind="kpi", text=k.name, status="noted", note=k.note, owner=k.owner)
        for m in measurements(state, k.id):
            row(kind="kpi", text=k.name, status="actual", value=m.value, unit=k.unit, period=m.period,
                owner=k.owner)  # fmt: skip
        if k.target is not None:
            row(kind="kpi", text=k.name, status="target", value=k.target, unit=k.unit, due=k.target_date,
                owner=k.owner)  # fmt: skip
    return out.getvalue()
