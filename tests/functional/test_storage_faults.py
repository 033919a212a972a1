"""Real storage faults mid-workshop: a full filesystem and an I/O error, with participants connected.

While the store cannot write, nothing is acknowledged and nothing is lost: every post stays
with its sender's client, marked as not saved and sent again with backoff; nobody's stream
skips a number and nobody is disconnected. When space returns the same posts are stored, once
each, and the log has no hole.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from client.connection import Connection, Credentials, create_session
from tests.conftest import start_server, stop_server
from tests.processes import kill, serve
from workshop import commands as c

IDEAS = 3
FAST = dict(ping_interval=1.0, ping_timeout=5.0, reconnect_max_delay=0.5)


def stored_seqs(db: Path) -> list[int]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return [row[0] for row in conn.execute("SELECT seq FROM events ORDER BY seq")]


async def _posts_survive(url: str, db: Path, fault: Callable[[], None], recover: Callable[[], None]) -> None:
    """Post while the store works, while it fails, and after it recovers; check what everyone holds."""
    created = await create_session(url, goal="30 new leads a month")
    fac = Connection(Credentials(url=url, session=created.session, secret=created.secret), **FAST)
    ana = Connection(Credentials(url=url, code=created.code, name="Ana"), **FAST)
    ben = Connection(Credentials(url=url, code=created.code, name="Ben"), **FAST)
    conns = (fac, ana, ben)
    applied: list[int] = []
    try:
        for conn in conns:
            await conn.start()
        ben.on_change(lambda: applied.append(ben.state.seq) if ben.state and applied[-1:] != [ben.state.seq] else None)
        await fac.do(c.SetStage, index=IDEAS)
        await ana.wait_for(lambda s: s.stage_index == IDEAS)
        before = [await ana.do(c.PostIdea, category="start", text=f"Before the fault {i}") for i in range(3)]

        fault()
        during = [ana.send_nowait(c.PostIdea(id=ana.new_id(), category="stop", text=f"During {i} " + "x" * 400))
                  for i in range(8)]  # fmt: skip
        # Told plainly, and kept: the app shows "not saved, retrying" while these wait.
        await ana.wait_for(lambda s: ana.unsaved >= 1, timeout=20)
        assert not any(f.done() for f in during), "a post was acknowledged although it was not stored"
        recover()
        try:
            async with asyncio.timeout(30):
                seqs = [await f for f in during]
        except TimeoutError:
            raise AssertionError("the posts kept while the store failed were not stored after it recovered") from None
        after = await ben.do(c.PostIdea, category="continue", text="After the fault")

        await fac.wait_for(lambda s: s.seq >= after)
        await ben.wait_for(lambda s: s.seq >= after)
        texts = [i.text for i in fac.state.ideas.values()]
        assert sorted(texts) == sorted(
            [f"Before the fault {i}" for i in range(3)]
            + [f"During {i} " + "x" * 400 for i in range(8)]
            + ["After the fault"]
        ), "an idea is missing or stored twice"
        assert {str(s) for s in [*before, *seqs, after]} == set(fac.state.ideas)
        assert stored_seqs(db) == list(range(1, fac.state.seq + 1)), "the log has a hole"
        assert ana.unsaved == 0
        for conn in conns:
            assert conn.reconnects == 0, "a storage fault cut someone off"
        assert applied == list(range(applied[0], fac.state.seq + 1)), "Ben's stream skipped or repeated an event"
    finally:
        for conn in conns:
            await conn.close()


@pytest.fixture
def small_filesystem(tmp_path: Path):
    """A 3 MiB tmpfs mounted for the test (needs root; skipped with the reason otherwise)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {done.stderr.decode().strip() or 'mount failed'}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_a_full_filesystem_loses_nothing_and_leaves_no_hole(small_filesystem: Path) -> None:
    """Without this, a full disk mid-workshop would leave a hole that strands participants, or lose ideas."""
    db = small_filesystem / "w.db"
    live = await start_server(db)
    ballast = small_filesystem / "ballast"

    def fill() -> None:
        free = os.statvfs(small_filesystem)
        ballast.write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 8 * 1024))

    try:
        await _posts_survive(live.url, db, fault=fill, recover=ballast.unlink)
    finally:
        await stop_server(live)


async def test_an_io_error_from_the_store_loses_nothing_and_leaves_no_hole(tmp_path: Path) -> None:
    """Without this, a failing disk under `workshop serve` would lose acknowledged ideas or loop reconnects."""
    db = tmp_path / "w.db"
    proc, port = await serve(db)
    unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)

    def fail_writes() -> None:
        # Any write past this offset now fails in the server process with EFBIG: an I/O error.
        limit = max(p.stat().st_size for p in tmp_path.iterdir() if p.name.startswith("w.db")) // 2
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    def restore() -> None:
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, unlimited)

    try:
        await _posts_survive(f"ws://127.0.0.1:{port}", db, fault=fail_writes, recover=restore)
    finally:
        await kill(proc)


async def test_a_server_behind_on_its_writes_says_busy_and_loses_nothing(tmp_path: Path) -> None:
    """Without this, a server whose disk stalled (or that was offered more than it can commit)
    took in every command meanwhile, holding them in memory with their acks ever later."""
    from server.limits import Limits

    live = await start_server(tmp_path / "w.db", Limits(unsaved_seconds=0.0))  # any wait is too long
    try:
        fac, code = await live.facilitator()
        ana = await live.participant(code, "Ana")
        await fac.do(c.SetStage, index=IDEAS)
        await ana.wait_for(lambda s: s.stage_index == IDEAS)
        log = sqlite3.connect(live.db, isolation_level=None)
        log.execute("BEGIN EXCLUSIVE")  # a stalled disk: nothing can be committed
        posts = [ana.send_nowait(c.PostIdea(id=ana.new_id(), category="start", text=f"Idea {i}")) for i in range(6)]
        await ana.wait_for(lambda s: ana.unsaved >= 5)  # the first taken in and waiting; the rest told "busy"
        assert live.app.store.unsaved == 1 and not any(p.done() for p in posts)
        log.execute("COMMIT")
        log.close()
        seqs = await asyncio.wait_for(asyncio.gather(*posts), 30)  # the busy ones sent again by the client
        final = await fac.wait_for(lambda s: len(s.ideas) == 6)
        assert sorted(i.text for i in final.ideas.values()) == [f"Idea {i}" for i in range(6)]  # each once
        assert stored_seqs(live.db) == list(range(1, max(seqs) + 1))  # and no hole
        assert live.app.store.unsaved == 0 and ana.unsaved == 0
    finally:
        await stop_server(live)
