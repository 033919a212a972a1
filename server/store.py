"""Provides the event store: an append-only SQLite log per session, with group commit.

Writes go through one writer thread that commits everything queued at that moment in one
transaction (WAL, ``synchronous=FULL``), so a burst of submissions costs one fsync rather
than one each, and the event loop never blocks on the disk. A write's future resolves only
after its transaction has committed: callers acknowledge after that, never before.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    epoch TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    session TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at REAL NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (session, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
    session TEXT NOT NULL,
    participant TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    PRIMARY KEY (session, participant)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS commands (
    session TEXT NOT NULL,
    actor TEXT NOT NULL,
    id TEXT NOT NULL,
    digest TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (session, actor, id)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: str
    code: str
    secret_hash: str
    epoch: str


@dataclass(slots=True)
class Write:
    """Everything one accepted command makes durable, in one transaction with its peers."""

    session: str
    events: list[tuple[int, float, bytes]] = field(default_factory=list)
    command: tuple[str, str, str, int] | None = None  # actor, id, digest, seq
    member: tuple[str, str] | None = None  # participant, token hash
    new_session: SessionRow | None = None
    created: float = 0.0


def connect(path: str | Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)
    return db


class EventStore:
    """The log of every session on this server, read at start-up, appended while running."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db = connect(self.path)
        self._queue: list[tuple[Write, asyncio.Future[None], asyncio.AbstractEventLoop]] = []
        self._cv = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="event-store-writer", daemon=True)
        self._thread.start()
        self.commits = 0  # transactions, for the benchmark's group-commit figure

    # -- reading (start-up and export) ---------------------------------------------------

    def sessions(self) -> list[SessionRow]:
        rows = self._db.execute("SELECT id, code, secret_hash, epoch FROM sessions").fetchall()
        return [SessionRow(*r) for r in rows]

    def events(self, session: str, after: int = 0) -> Iterator[tuple[int, float, bytes]]:
        cur = self._db.execute(
            "SELECT seq, at, body FROM events WHERE session = ? AND seq > ? ORDER BY seq",
            (session, after),
        )
        yield from cur

    def members(self, session: str) -> dict[str, str]:
        rows = self._db.execute("SELECT token_hash, participant FROM members WHERE session = ?", (session,))
        return dict(rows.fetchall())

    def commands(self, session: str) -> dict[tuple[str, str], tuple[str, int]]:
        rows = self._db.execute("SELECT actor, id, digest, seq FROM commands WHERE session = ?", (session,))
        return {(a, i): (d, s) for a, i, d, s in rows.fetchall()}

    # -- writing ---------------------------------------------------------------------------

    def append(self, write: Write) -> asyncio.Future[None]:
        """Queue ``write``; the future resolves once it is committed (or fails with why not)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._cv:
            if self._closing:
                raise RuntimeError("event store is closed")
            self._queue.append((write, fut, loop))
            self._cv.notify()
        return fut

    def close(self) -> None:
        with self._cv:
            self._closing = True
            self._cv.notify()
        self._thread.join()
        self._db.close()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closing:
                    self._cv.wait()
                batch, self._queue = self._queue, []
                if not batch and self._closing:
                    return
            error: BaseException | None = None
            try:
                self._commit([w for w, _, _ in batch])
            except BaseException as exc:
                error = exc
            for _, fut, loop in batch:
                loop.call_soon_threadsafe(_settle, fut, error)

    def _commit(self, writes: list[Write]) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for w in writes:
                if w.new_session is not None:
                    s = w.new_session
                    db.execute(
                        "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                        (s.id, s.code, s.secret_hash, s.epoch, w.created),
                    )
                if w.member is not None:
                    db.execute("INSERT INTO members VALUES (?, ?, ?)", (w.session, *w.member))
                if w.events:
                    db.executemany(
                        "INSERT INTO events VALUES (?, ?, ?, ?)",
                        [(w.session, seq, at, body) for seq, at, body in w.events],
                    )
                if w.command is not None:
                    db.execute("INSERT INTO commands VALUES (?, ?, ?, ?, ?)", (w.session, *w.command))
            db.execute("COMMIT")
            self.commits += 1
        except BaseException:
            db.execute("ROLLBACK")
            raise


def _settle(fut: asyncio.Future[None], error: BaseException | None) -> None:
    if fut.done():
        return
    if error is None:
        fut.set_result(None)
    else:
        fut.set_exception(error)
