"""The event store on its own: group commit, no holes, and what a failed write leaves behind."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from server.store import EventStore, Gap, SessionRow, Write


def _write(seq: int, *, new: bool = False) -> Write:
    row = SessionRow(id="s", code="ABCDE-FGHJK", secret_hash="h", epoch="e") if new else None
    return Write(session="s", events=[(seq, 0.0, b"{}")], new_session=row)


async def test_a_write_that_would_leave_a_hole_is_refused_alone(tmp_path: Path) -> None:
    """Without this, an event decided on top of a failed commit could land after a gap nobody can fill."""
    store = EventStore(tmp_path / "w.db", durable=False)
    try:
        await store.append(_write(1, new=True))
        hole, follows = store.append(_write(3)), store.append(_write(2))  # one transaction, two fates
        with pytest.raises(Gap):
            await hole
        await follows
        assert [seq for seq, _at, _body in store.events("s", 0, 10)] == [1, 2]
        with pytest.raises(Gap):  # a seq already taken is no follow-up either
            await store.append(_write(2))
        await store.append(_write(3))
        assert [seq for seq, _at, _body in store.events("s", 0, 10)] == [1, 2, 3]
    finally:
        await asyncio.to_thread(store.close)


async def test_rows_another_server_wrote_fail_only_the_write_that_collides(postgres_url: str) -> None:
    """Two servers on one PostgreSQL log: a batch is written in one pipelined go, but a write that
    collides with the other server's rows (it took the session meanwhile) must fail alone, and
    the rest of its batch be committed."""
    import psycopg

    from server.pgstore import PgEventStore

    a, b = PgEventStore(postgres_url), PgEventStore(postgres_url)
    try:
        await a.append(_write(1, new=True))
        await a.append(_write(2))
        await b.append(Write(session="s", events=[(3, 0.0, b'{"by":"b"}')]))  # b serves "s" now
        t = SessionRow(id="t", code="BCDEF-GHJKM", secret_hash="h", epoch="e")
        collides = a.append(_write(3))  # a still believes 2 is the last event of "s"
        other = a.append(Write(session="t", events=[(1, 0.0, b"{}")], new_session=t))
        with pytest.raises(psycopg.errors.UniqueViolation):
            await collides
        await other
        assert [seq for seq, _at, _body in a.events("t", 0, 10)] == [1]
        assert [body for _seq, _at, body in a.events("s", 0, 10)] == [b"{}", b"{}", b'{"by":"b"}']
    finally:
        await asyncio.gather(asyncio.to_thread(a.close), asyncio.to_thread(b.close))
