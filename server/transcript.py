"""Provides reading a session back from the event log, for export after the server stopped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from msgspec.structs import replace

from server.store import EventStore, open_store
from workshop.protocol import event_decoder
from workshop.reducer import replay
from workshop.state import State


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: str
    code: str
    created: float
    goal: str
    events: int
    kind: str = "workshop"
    continues: str = ""  # the session a check-in continues


def load_session(db: Path | str, session: str) -> State | None:
    """Fold the log of ``session`` (id or join code) into its full state; ``db`` is a file or a PostgreSQL URL."""
    store = open_store(db)
    try:
        sid = session if store.load(session) is not None else store.session_by_code(session.upper())
        return None if sid is None else _replay(store, sid)
    finally:
        store.close()


def list_sessions(db: Path | str) -> list[SessionInfo]:
    """Every session in the log, oldest first."""
    store = open_store(db)
    try:
        out = []
        for row in store.sessions():
            state = _replay(store, row.id)
            previous = state.chain[-1] if state.chain else ""
            out.append(SessionInfo(row.id, row.code, row.created, state.goal, state.seq, state.kind, previous))
        return out
    finally:
        store.close()


def _replay(store: EventStore, session: str) -> State:
    loaded = store.load(session)
    assert loaded is not None
    state = replay((seq, event_decoder.decode(body)) for seq, _at, body in loaded.events)
    if not state.started_at:  # a log from before the first event kept the time: the sessions row has it
        state = replace(state, started_at=loaded.row.created)
    return state
