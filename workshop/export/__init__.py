"""Provides the transcript exporters: pure functions from a session :class:`State` to text.

``render(state, fmt)`` gives the transcript as Markdown (``md``), a reloadable JSON record
(``json``) or a spreadsheet of ideas, votes, milestones and KPI figures (``csv``); ``ics`` gives
the milestones and check-ins as a calendar. Nothing here touches a file.
"""

from __future__ import annotations

from collections.abc import Callable

from workshop.export.calendar import render_ics
from workshop.export.csvfile import render_csv
from workshop.export.jsonfile import load_json, render_json
from workshop.export.markdown import render_markdown
from workshop.state import State

RENDERERS: dict[str, Callable[[State], str]] = {
    "md": render_markdown,
    "json": render_json,
    "csv": render_csv,
    "ics": render_ics,
}
TRANSCRIPTS = ("md", "json", "csv")  # what the room said; ``ics`` is the calendar beside them
FORMATS = tuple(RENDERERS)


def render(state: State, fmt: str) -> str:
    """The transcript of ``state`` in ``fmt`` (one of :data:`FORMATS`)."""
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown transcript format {fmt!r}; choose one of: {', '.join(FORMATS)}") from None
    return renderer(state)


__all__ = [
    "FORMATS",
    "TRANSCRIPTS",
    "load_json",
    "render",
    "render_csv",
    "render_ics",
    "render_json",
    "render_markdown",
]
