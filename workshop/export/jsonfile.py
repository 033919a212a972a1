"""Provides the JSON transcript: the whole session state, versioned, that a tool can reload.

It holds what :func:`workshop.export.scrub.for_export` keeps (no anonymous author, no seal, no
ballot unless voting was open; ideas numbered as the room saw them) and says in ``votes`` whether
the votes were hidden, revealed or open. Version 3 added KPIs with numbers, measurements, milestone
status and check-in chains; version 1 (raw log ids, ballots included) and 2 files still load.
"""

from __future__ import annotations

from typing import Any

import msgspec

from workshop.export.scrub import for_export
from workshop.state import State

FORMAT = "workshop-transcript"
VERSION = 3
READABLE = (1, 2, 3)


def votes_status(state: State) -> str:
    if state.open_voting:
        return "open"
    return "hidden" if state.revealed is None else "revealed"


def render_json(state: State) -> str:
    record = {
        "format": FORMAT,
        "version": VERSION,
        "votes": votes_status(state),
        "state": msgspec.to_builtins(for_export(state)),
    }
    return msgspec.json.format(msgspec.json.encode(record), indent=2).decode() + "\n"


def load_json(text: str | bytes) -> State:
    """Reload a transcript written by :func:`render_json`; raise ``ValueError`` if it is not one."""
    try:
        record: Any = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not a JSON transcript: {exc}") from exc
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    if record.get("version") not in READABLE:
        raise ValueError(f"transcript version {record.get('version')!r} is not supported (expected one of {READABLE})")
    state = record.get("state")
    if record["version"] < 3 and isinstance(state, dict) and isinstance(state.get("kpis"), dict):
        # Versions 1 and 2 kept a KPI as a name and one free-text value.
        state["kpis"] = {n: {"id": n, "name": n, "note": v} for n, v in state["kpis"].items() if isinstance(v, str)}
    try:
        return msgspec.convert(state, State)
    except msgspec.ValidationError as exc:
        raise ValueError(f"transcript state is not valid: {exc}") from exc
