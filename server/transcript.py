"""Provides reading a session back from the event log, for export after the server stopped."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from msgspec.structs import replace

from server.store import connect
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


def load_session(db: Path, session: str) -> State | None:
    """Fold the log of ``session`` (id or join code) into its full state."""
    conn = connect(db)
    try:
        row = conn.execute("SELECT id FROM sessions WHERE id = ? OR code = ?", (session, session.upper())).fetchone()
        return None if row is None else _replay_session(conn, row[0])
    finally:
        conn.close()


def list_sessions(db: Path) -> list[SessionInfo]:
    """Every session in the log, oldest first."""
    conn = connect(db)
    try:
        rows = conn.execute("SELECT id, code, created FROM sessions ORDER BY created").fetchall()
        out = []
        for sid, code, created in rows:
            state = _replay_session(conn, sid)
            previous = state.chain[-1] if state.chain else ""
            out.append(SessionInfo(sid, code, created, state.goal, state.seq, state.kind, previous))
        return out
    finally:
        conn.close()


def _replay_session(conn: sqlite3.Connection, session: str) -> State:
    rows = conn.execute("SELECT seq, body FROM events WHERE session = ? ORDER BY seq", (session,))
    state = replay((seq, event_decoder.decode(body)) for seq, body in rows)
    if not state.started_at:  # a log from before the first event kept the time: the sessions row has it
        created = conn.execute("SELECT created FROM sessions WHERE id = ?", (session,)).fetchone()
        state = replace(state, started_at=created[0] if created else 0.0)
    return state
