"""Provides the event store: an append-only SQLite log per session, with group commit.

Writes go through one writer thread that commits everything queued at that moment in one
transaction (WAL, ``synchronous=FULL``), so a burst of submissions costs one fsync rather
than one each, and the event loop never blocks on the disk. A write's future resolves only
after its transaction has committed: callers acknowledge after that, never before.

The log never has a hole: a write whose first event is not the session's next sequence number
is refused (``Gap``), so when a commit fails (a full disk, an I/O error) nothing decided on top
of it can land after it. Reads (loading a session, a long resume) use their own connections, so
they run in a worker thread beside the writer.

Nothing here names who sent a command: the ``commands`` table, which lets a retried command be
applied once, is keyed by digests only the sender's credential can make (see
``server.credentials.command_key``), so an anonymous idea's row cannot be traced to its author.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_VERSION = 2
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
    key TEXT NOT NULL,
    digest TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (session, key)
) WITHOUT ROWID;
"""


class LogUnavailable(RuntimeError):
    """The log cannot be opened by this install (a newer schema, a missing driver); the message says what to do."""


class Gap(Exception):
    """A write that would not follow the session's last stored event; it was not written."""


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: str
    code: str
    secret_hash: str
    epoch: str
    created: float = 0.0


@dataclass(slots=True)
class Write:
    """Everything one accepted command makes durable, in one transaction with its peers."""

    session: str
    events: list[tuple[int, float, bytes]] = field(default_factory=list)
    command: tuple[str, str, int] | None = None  # key, digest, seq
    member: tuple[str, str] | None = None  # participant, token hash
    new_session: SessionRow | None = None


@dataclass(slots=True)
class Loaded:
    """One session as stored: what a room is rebuilt from."""

    row: SessionRow
    events: list[tuple[int, float, bytes]]
    members: dict[str, str]  # token hash -> participant
    commands: dict[str, tuple[str, int]]  # key -> (digest, seq)


def connect(path: str | Path, *, durable: bool = True) -> sqlite3.Connection:
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)  # `--db ~/workshops/q1.db` on a first run
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
    db.execute("PRAGMA secure_delete=ON")  # what is deleted (a migration) is overwritten, not left in free pages
    _migrate(db)
    return db


def _migrate(db: sqlite3.Connection) -> None:
    """Bring an older log up to this schema; a log written by a newer release is refused."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise LogUnavailable(f"this log was written by a newer workshop (schema {version}); update workshop")
    if version == SCHEMA_VERSION:
        return
    columns = {row[1] for row in db.execute("PRAGMA table_info(commands)")}
    if "actor" in columns:
        # Release 0.1 keyed retried commands by participant id, which tied each anonymous idea
        # (an idea's id is its seq) to its author. Those rows cannot be re-keyed without the
        # credentials, so they go, and the file is rewritten so no copy of them survives.
        db.execute("DROP TABLE commands")
    db.executescript(SCHEMA)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    if "actor" in columns:
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def is_postgres(db: object) -> bool:
    """Whether ``db`` names a PostgreSQL database (``postgresql://...``) rather than a SQLite file."""
    return str(db).startswith(("postgresql://", "postgres://"))


def open_store(db: str | Path, *, durable: bool = True) -> EventStore:
    """The log at ``db``: a SQLite file (the default), or PostgreSQL for ``postgresql://`` URLs."""
    if is_postgres(db):
        try:
            from server.pgstore import PgEventStore  # psycopg only where PostgreSQL is used
        except ImportError:
            raise LogUnavailable("a PostgreSQL log needs psycopg: pip install 'workshop[postgres]'") from None
        return PgEventStore(str(db), durable=durable)  # type: ignore[return-value]
    return EventStore(db, durable=durable)


class LogWriter:
    """The group commit both logs share: one writer thread commits all that is queued in one transaction.

    A write's future resolves only after its transaction committed (or failed, saying why); each
    waiting event loop is woken once per transaction. Subclasses say how to commit a batch
    (``_commit``), how to find a session's last stored seq (``_last_seq``) and how to close.
    """

    def _start_writer(self) -> None:
        # A C queue: the writer sleeps in one blocking get() with the GIL released, and the
        # event loop hands it a write without taking a Python-level lock.
        self._queue: queue.SimpleQueue[tuple[Write, asyncio.Future[None], asyncio.AbstractEventLoop] | None]
        self._queue = queue.SimpleQueue()
        self._closing = False
        self._high: dict[str, int] = {}  # session -> last committed seq (writer thread only)
        self._thread = threading.Thread(target=self._run, name="event-store-writer", daemon=True)
        self._thread.start()
        self.commits = 0  # transactions, for the benchmark's group-commit figure
        self._waiting: collections.deque[float] = collections.deque()  # append times of unsettled writes

    def append(self, write: Write) -> asyncio.Future[None]:
        """Queue ``write``; the future resolves once it is committed (or fails with why not)."""
        if self._closing:
            raise RuntimeError("event store is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiting.append(time.monotonic())
        fut.add_done_callback(self._settled)
        self._queue.put((write, fut, loop))
        return fut

    def _settled(self, _fut: asyncio.Future[None]) -> None:
        self._waiting.popleft()  # writes settle in the order they were queued

    @property
    def unsaved(self) -> int:
        """Writes queued and not yet committed (or failed)."""
        return len(self._waiting)

    def behind(self) -> float:
        """Seconds the oldest write not yet committed has waited (0 when none is waiting)."""
        return time.monotonic() - self._waiting[0] if self._waiting else 0.0

    def close(self) -> None:
        self._closing = True
        self._queue.put(None)  # after every write queued before it
        self._thread.join()
        self._close_connections()

    def _close_connections(self) -> None:
        raise NotImplementedError

    def _commit(self, writes: list[Write]) -> list[BaseException | None]:
        raise NotImplementedError

    def _last_seq(self, session: str) -> int:
        raise NotImplementedError

    def _run(self) -> None:
        closing = False
        while not closing:
            item = self._queue.get()
            batch = []
            while item is not None:
                batch.append(item)
                try:
                    item = self._queue.get_nowait()  # everything queued meanwhile joins this transaction
                except queue.Empty:
                    break
            closing = item is None
            if batch:
                self._write(batch)

    def _write(self, batch: list[tuple[Write, asyncio.Future[None], asyncio.AbstractEventLoop]]) -> None:
        try:
            errors = self._commit([w for w, _, _ in batch])
        except BaseException as exc:  # the transaction as a whole: full disk, I/O error, database gone
            errors = [exc] * len(batch)
        # One wake-up of each waiting loop per transaction, not one per write.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[None], BaseException | None]]] = {}
        for (_, fut, loop), error in zip(batch, errors, strict=True):
            by_loop.setdefault(loop, []).append((fut, error))
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody is waiting any more
                loop.call_soon_threadsafe(_settle_all, settled)

    def _check(self, w: Write, high: dict[str, int]) -> None:
        """Refuse a write whose first event would not follow the session's last stored one."""
        if not w.events:
            return
        if w.session not in high:
            high[w.session] = self._last_seq(w.session)
        first = w.events[0][0]
        if first != high[w.session] + 1:
            raise Gap(f"session {w.session}: event {first} would not follow {high[w.session]}")


class EventStore(LogWriter):
    """The log of every session on this server: appended by one writer, read on demand."""

    def __init__(self, path: str | Path, *, durable: bool = True) -> None:
        self.path = str(path)
        self.durable = durable
        self._db = connect(self.path, durable=durable)
        self._start_writer()

    # -- reading (in any thread: each read has its own connection) --------------------------

    @contextlib.contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            yield db
        finally:
            db.close()

    def session_by_code(self, code: str) -> str | None:
        with self.reader() as db:
            row = db.execute("SELECT id FROM sessions WHERE code = ?", (code,)).fetchone()
        return None if row is None else row[0]

    # -- ownership: one process serves a session at a time ------------------------------------

    public_url = ""  # how clients reach this process (a shared log tells other servers' clients)
    shared = False  # a SQLite file belongs to one process: there are never other servers to tell of

    def claim(self, session: str) -> str | None:
        """Serve ``session`` from this process: ``None`` if it may, else the URL of the process that does.

        A SQLite file belongs to one process, so it always may.
        """
        return None

    def release(self, session: str) -> None:
        """This process no longer serves ``session`` (it left memory)."""

    def serve_as(self, url: str) -> None:
        """Clients reach this process at ``url``: where a shared log's other servers send them."""
        self.public_url = url

    def peers(self) -> list[str]:
        """The other live servers sharing this log; a SQLite file belongs to one process, so none."""
        return []

    def sessions(self) -> list[SessionRow]:
        """Every session in the log, oldest first."""
        with self.reader() as db:
            rows = db.execute("SELECT id, code, secret_hash, epoch, created FROM sessions ORDER BY created").fetchall()
        return [SessionRow(*row) for row in rows]

    def load(self, session: str) -> Loaded | None:
        """Everything stored for ``session``, read in one snapshot of the log."""
        with self.reader() as db:
            db.execute("BEGIN")
            row = db.execute(
                "SELECT id, code, secret_hash, epoch, created FROM sessions WHERE id = ?", (session,)
            ).fetchone()
            if row is None:
                return None
            events = db.execute(
                "SELECT seq, at, body FROM events WHERE session = ? ORDER BY seq", (session,)
            ).fetchall()
            members = db.execute("SELECT token_hash, participant FROM members WHERE session = ?", (session,))
            commands = db.execute("SELECT key, digest, seq FROM commands WHERE session = ?", (session,))
            loaded = Loaded(
                row=SessionRow(*row),
                events=events,
                members=dict(members.fetchall()),
                commands={k: (d, s) for k, d, s in commands.fetchall()},
            )
            db.execute("COMMIT")
        return loaded

    def events(self, session: str, after: int, upto: int) -> list[tuple[int, float, bytes]]:
        """The stored events of ``session`` with ``after < seq <= upto``, in order."""
        with self.reader() as db:
            return db.execute(
                "SELECT seq, at, body FROM events WHERE session = ? AND seq > ? AND seq <= ? ORDER BY seq",
                (session, after, upto),
            ).fetchall()

    # -- writing ---------------------------------------------------------------------------

    def _close_connections(self) -> None:
        self._db.close()

    def _commit(self, writes: list[Write]) -> list[BaseException | None]:
        """Commit ``writes`` in one transaction; a write that cannot follow the log fails alone."""
        db = self._db
        high = dict(self._high)
        errors: list[BaseException | None] = []
        # A savepoint per write lets one write fail alone; a transaction of one write is its own.
        alone = len(writes) == 1
        db.execute("BEGIN IMMEDIATE")
        try:
            for w in writes:
                try:
                    self._check(w, high)
                except Gap as gap:
                    errors.append(gap)
                    continue
                if not alone:
                    db.execute("SAVEPOINT one")
                try:
                    self._insert(w)
                except sqlite3.IntegrityError as exc:  # this write only (a duplicate key)
                    if alone:
                        db.execute("ROLLBACK")
                        return [exc]
                    db.execute("ROLLBACK TO one")
                    db.execute("RELEASE one")
                    errors.append(exc)
                    continue
                if not alone:
                    db.execute("RELEASE one")
                if w.events:
                    high[w.session] = w.events[-1][0]
                errors.append(None)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._high = high
        self.commits += 1
        return errors

    def _last_seq(self, session: str) -> int:
        return self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE session = ?", (session,)).fetchone()[0]

    def _insert(self, w: Write) -> None:
        db = self._db
        if w.new_session is not None:
            s = w.new_session
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", (s.id, s.code, s.secret_hash, s.epoch, s.created))
        if w.member is not None:
            db.execute("INSERT INTO members VALUES (?, ?, ?)", (w.session, *w.member))
        if w.events:
            db.executemany(
                "INSERT INTO events VALUES (?, ?, ?, ?)", [(w.session, seq, at, body) for seq, at, body in w.events]
            )
        if w.command is not None:
            db.execute("INSERT INTO commands VALUES (?, ?, ?, ?)", (w.session, *w.command))


def _settle_all(settled: list[tuple[asyncio.Future[None], BaseException | None]]) -> None:
    """Resolve a transaction's futures in commit order (rooms publish in that order)."""
    for fut, error in settled:
        if fut.done():
            continue
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)
