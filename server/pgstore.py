"""Provides the PostgreSQL event store: the same append-only log as the SQLite one, for a shared service.

``workshop serve --db postgresql://...`` keeps every session in PostgreSQL instead of a file:
the same tables keyed by (session, seq), the same group commit (one writer thread commits all
that is queued in one transaction; a write's future resolves only after COMMIT), the same
refusal of a write that would leave a hole (``Gap``). psycopg 3 is used, synchronously, in that
writer thread and in reader threads, exactly where the SQLite store uses ``sqlite3``: the design
(a writer thread that never blocks the event loop) stays one design for both logs; asyncpg would
have asked for a second, async one.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator

import psycopg

from server.store import Gap, Loaded, LogWriter, SessionRow, Write

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    epoch TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    session TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    body BYTEA NOT NULL,
    PRIMARY KEY (session, seq)
);
CREATE TABLE IF NOT EXISTS members (
    session TEXT NOT NULL,
    participant TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    PRIMARY KEY (session, participant)
);
CREATE TABLE IF NOT EXISTS owners (
    session TEXT PRIMARY KEY,
    url TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS servers (
    url TEXT PRIMARY KEY,
    key INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS commands (
    session TEXT NOT NULL,
    key TEXT NOT NULL,
    digest TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (session, key)
);
"""


# A live server holds the two-key advisory lock (SERVER_LOCKS, its url's key) on its lease
# connection: PostgreSQL itself says which servers are alive, as it says who owns a session.
# Two-key locks are their own space (objsubid 2 in pg_locks): they never meet a session's.
SERVER_LOCKS = 20261205
ALIVE = """EXISTS (
    SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid = %(space)s::oid AND l.objid = s.key::oid
)"""
PEERS = f"SELECT s.url FROM servers s WHERE s.url <> %(me)s AND {ALIVE} ORDER BY s.url"
# A server takes its lock before it writes its row, so a row with no lock is a dead server's.
FORGET_DEAD = f"DELETE FROM servers s WHERE s.url <> %(me)s AND NOT {ALIVE}"


class PgEventStore(LogWriter):
    """The log of every session in one PostgreSQL database: appended by one writer, read on demand."""

    shared = True  # other servers may serve this log: their URLs are read and told to clients

    def __init__(self, url: str, *, durable: bool = True) -> None:
        self.path = url
        self.durable = durable
        self._db = psycopg.connect(url, autocommit=True)
        if not durable:
            self._db.execute("SET synchronous_commit = off")
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(20261125)")  # two servers creating the tables at once
            self._db.execute(SCHEMA)
        # Ownership of sessions: session-level advisory locks held on this connection. PostgreSQL
        # drops them the moment this process's connection goes (a crash, a kill -9), so another
        # server takes a dead one's sessions over on the next client that comes back.
        self._lease = psycopg.connect(url, autocommit=True)
        self._lease_lock = threading.Lock()
        self.public_url = ""
        self._start_writer()

    # -- ownership ---------------------------------------------------------------------------

    @staticmethod
    def _key(session: str) -> int:
        return int(hashlib.sha256(session.encode()).hexdigest()[:15], 16)

    def claim(self, session: str) -> str | None:
        with self._lease_lock:
            got = self._lease.execute("SELECT pg_try_advisory_lock(%s)", (self._key(session),)).fetchone()
            if got and got[0]:
                self._lease.execute(
                    "INSERT INTO owners VALUES (%s, %s) ON CONFLICT (session) DO UPDATE SET url = EXCLUDED.url",
                    (session, self.public_url),
                )
                return None
            row = self._lease.execute("SELECT url FROM owners WHERE session = %s", (session,)).fetchone()
        return row[0] if row else ""

    def release(self, session: str) -> None:
        with self._lease_lock:
            self._lease.execute("SELECT pg_advisory_unlock(%s)", (self._key(session),))

    # -- the other servers: told to clients so that they find another when theirs dies ------------

    def serve_as(self, url: str) -> None:
        """Say, in the database, that this process is alive and reached at ``url``."""
        self.public_url = url
        key = int(hashlib.sha256(url.encode()).hexdigest()[:7], 16)  # an int4 >= 0: oid-safe in pg_locks
        with self._lease_lock:
            self._lease.execute("SELECT pg_try_advisory_lock(%s, %s)", (SERVER_LOCKS, key))
            self._lease.execute(
                "INSERT INTO servers VALUES (%s, %s) ON CONFLICT (url) DO UPDATE SET key = EXCLUDED.key", (url, key)
            )
            self._lease.execute(FORGET_DEAD, {"me": url, "space": SERVER_LOCKS})

    def peers(self) -> list[str]:
        """The URLs of the other servers alive on this database now (a dead one's lock went with it)."""
        with self.reader() as db:
            return [row[0] for row in db.execute(PEERS, {"me": self.public_url, "space": SERVER_LOCKS})]

    # -- reading ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def reader(self) -> Iterator[psycopg.Connection]:
        db = psycopg.connect(self.path, autocommit=True)
        try:
            yield db
        finally:
            db.close()

    def session_by_code(self, code: str) -> str | None:
        with self.reader() as db:
            row = db.execute("SELECT id FROM sessions WHERE code = %s", (code,)).fetchone()
        return None if row is None else row[0]

    def sessions(self) -> list[SessionRow]:
        with self.reader() as db:
            rows = db.execute("SELECT id, code, secret_hash, epoch, created FROM sessions ORDER BY created").fetchall()
        return [SessionRow(*row) for row in rows]

    def load(self, session: str) -> Loaded | None:
        """Everything stored for ``session``, read in one snapshot (REPEATABLE READ)."""
        with self.reader() as db, db.transaction():
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            row = db.execute(
                "SELECT id, code, secret_hash, epoch, created FROM sessions WHERE id = %s", (session,)
            ).fetchone()
            if row is None:
                return None
            events = db.execute(
                "SELECT seq, at, body FROM events WHERE session = %s ORDER BY seq", (session,)
            ).fetchall()
            members = db.execute("SELECT token_hash, participant FROM members WHERE session = %s", (session,))
            commands = db.execute("SELECT key, digest, seq FROM commands WHERE session = %s", (session,))
            return Loaded(
                row=SessionRow(*row),
                events=[(seq, at, bytes(body)) for seq, at, body in events],
                members=dict(members.fetchall()),
                commands={k: (d, s) for k, d, s in commands.fetchall()},
            )

    def events(self, session: str, after: int, upto: int) -> list[tuple[int, float, bytes]]:
        with self.reader() as db:
            rows = db.execute(
                "SELECT seq, at, body FROM events WHERE session = %s AND seq > %s AND seq <= %s ORDER BY seq",
                (session, after, upto),
            ).fetchall()
        return [(seq, at, bytes(body)) for seq, at, body in rows]

    # -- writing ---------------------------------------------------------------------------

    def _close_connections(self) -> None:
        self._db.close()
        self._lease.close()

    def _commit(self, writes: list[Write]) -> list[BaseException | None]:
        """All of ``writes`` in one transaction, pipelined: one round trip, not four per write.

        Each statement over the network hands the GIL back and forth with the event loop; at a
        few thousand posts a second those waits, not PostgreSQL, set the pace (one server fell
        from 2,000 to 900 posts/s when offered 4,000). A duplicate key (rows written by another
        server that took the session meanwhile) fails the whole batch; then it is written again
        one savepoint per write, so that only the writes that collide fail.
        """
        try:
            # Everything is sent at once; the results (COMMIT's too, and any error) come back
            # when the pipeline closes, so nothing below counts as written before then.
            with self._db.pipeline():
                errors, high = self._transaction(writes, savepoints=False)
        except psycopg.errors.UniqueViolation:
            errors, high = self._transaction(writes, savepoints=True)
        self._high = high
        self.commits += 1
        return errors

    def _transaction(
        self, writes: list[Write], *, savepoints: bool
    ) -> tuple[list[BaseException | None], dict[str, int]]:
        """Each write's fate (``None``: written), and each session's last seq once this commits."""
        db = self._db
        high = dict(self._high)
        errors: list[BaseException | None] = []
        with db.transaction():
            for w in writes:
                try:
                    self._check(w, high)
                except Gap as gap:
                    errors.append(gap)
                    continue
                try:
                    with db.transaction() if savepoints else contextlib.nullcontext():
                        self._insert(w)  # in a savepoint, a duplicate key fails this write only
                except psycopg.errors.UniqueViolation as exc:
                    if not savepoints:
                        raise
                    errors.append(exc)
                    continue
                if w.events:
                    high[w.session] = w.events[-1][0]
                errors.append(None)
        return errors, high

    def _last_seq(self, session: str) -> int:
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE session = %s", (session,)).fetchone()
        return row[0] if row else 0

    def _insert(self, w: Write) -> None:
        db = self._db
        if w.new_session is not None:
            s = w.new_session
            db.execute(
                "INSERT INTO sessions VALUES (%s, %s, %s, %s, %s)", (s.id, s.code, s.secret_hash, s.epoch, s.created)
            )
        if w.member is not None:
            db.execute("INSERT INTO members VALUES (%s, %s, %s)", (w.session, *w.member))
        if w.events:
            with db.cursor() as cur:
                cur.executemany(
                    "INSERT INTO events VALUES (%s, %s, %s, %s)",
                    [(w.session, seq, at, body) for seq, at, body in w.events],
                )
        if w.command is not None:
            db.execute("INSERT INTO commands VALUES (%s, %s, %s, %s)", (w.session, *w.command))
