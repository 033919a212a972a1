"""Provides the JSON transcript: the whole session state, versioned, that a tool can reload.

Seals (which could let a key holder prove authorship of an anonymous idea) are removed, and
so is the author of any anonymous idea, whatever copy of the state is exported.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec.structs import replace

from workshop.state import State

FORMAT = "workshop-transcript"
VERSION = 1


def scrub(state: State) -> State:
    """``state`` with nothing that could name the author of an anonymous idea."""
    ideas = {
        iid: replace(idea, seal=None, author=None if idea.anonymous else idea.author)
        for iid, idea in state.ideas.items()
    }
    return replace(state, ideas=ideas)


def render_json(state: State) -> str:
    record = {"format": FORMAT, "version": VERSION, "state": msgspec.to_builtins(scrub(state))}
    return msgspec.json.format(msgspec.json.encode(record), indent=2).decode() + "\n"


def load_json(text: str | bytes) -> State:
    """Reload a transcript written by :func:`render_json`; raise ``ValueError`` if it is not one."""
    try:
        record: Any = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not a JSON transcript: {exc}") from exc
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    if record.get("version") != VERSION:
        raise ValueError(f"transcript version {record.get('version')!r} is not supported (expected {VERSION})")
    try:
        return msgspec.convert(record.get("state"), State)
    except msgspec.ValidationError as exc:
        raise ValueError(f"transcript state is not valid: {exc}") from exc
