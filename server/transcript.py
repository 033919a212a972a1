"""Provides reading a session back from the event log, for export after the server stopped."""

from __future__ import annotations

from pathlib import Path

from server.store import connect
from workshop.protocol import event_decoder
from workshop.reducer import replay
from workshop.state import State


def load_session(db: Path, session: str) -> State | None:
    """Fold the log of ``session`` (id or join code) into its full state."""
    conn = connect(db)
    try:
        row = conn.execute("SELECT id FROM sessions WHERE id = ? OR code = ?", (session, session.upper())).fetchone()
        if row is None:
            return None
        rows = conn.execute("SELECT seq, body FROM events WHERE session = ? ORDER BY seq", (row[0],))
        return replay((seq, event_decoder.decode(body)) for seq, body in rows)
    finally:
        conn.close()


def list_sessions(db: Path) -> list[tuple[str, str, str, int]]:
    conn = connect(db)
    try:
        out = []
        for sid, code in conn.execute("SELECT id, code FROM sessions ORDER BY created"):
            state = load_session(db, sid)
            out.append((sid, code, state.goal if state else "", state.seq if state else 0))
        return out
    finally:
        conn.close()
