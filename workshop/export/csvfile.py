"""Provides the CSV transcript: one row per idea and per milestone (and per ballot entry under open voting).

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
from workshop.state import State, log_order
from workshop.text import printable

COLUMNS = (
    "kind", "stage", "category", "idea_id", "text", "author", "anonymous", "votes", "status", "voter", "dots",
    "owner", "due", "cadence",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str | int:
    """A value safe to put in a spreadsheet cell."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return value
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
    # The agreed timeline: a milestone's linked ideas go in idea_id, its state in status.
    status = "finalised" if state.finalised else "draft"
    for m in state.timeline():
        row(kind="milestone", idea_id=" ".join(m.idea_ids), text=m.title, status=status, owner=m.owner, due=m.due,
            cadence=m.cadence)  # fmt: skip
    return out.getvalue()
