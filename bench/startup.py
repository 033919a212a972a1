"""Provides the start-up benchmark: how a server's start and idle memory grow with finished sessions.

A log that has served months of workshops and check-ins holds thousands of finished sessions.
Rooms load on first use, so neither the start nor the idle memory of ``workshop serve`` should
depend on how many there are. This builds logs of 0, 1,000 and 10,000 finished sessions (each a
whole workshop: 8 people, 20 ideas, votes, a finalised timeline; the events made by the real
rules), starts ``python -m cli serve`` on each, and reports the time until it listens, its memory
once idle, and the time to open one old session by its join code.

    python -m bench.startup                      # 0, 1000, 10000 sessions
    python -m bench.startup --sessions 0,2000

The last line is ``startup seconds@<N>=<s> rss_growth@<N>=<ratio> (against 0 sessions)``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import msgspec
from websockets.asyncio.client import connect

from server.credentials import normalise_code
from server.store import SCHEMA_VERSION
from server.store import connect as open_log
from workshop import commands as c
from workshop.agenda import DEFAULT_STAGES
from workshop.protocol import Hello, Welcome, encode, outbound_decoder
from workshop.reducer import apply
from workshop.rules import Actor, Rejection, decide, decide_create, decide_join
from workshop.state import State

PEOPLE = 8


def workshop_events(session: str) -> list[bytes]:
    """One whole workshop's events, made by the real rules, encoded as the log stores them."""
    fac = Actor(id=f"{session}-f", seal_key=b"f" * 32)
    people = [Actor(id=f"{session}-{n}", seal_key=bytes([n]) * 32) for n in range(PEOPLE)]
    state, out = State(), []

    def add(events: list | Rejection) -> None:
        nonlocal state
        assert not isinstance(events, Rejection), events
        for event in events:
            state = apply(state, event, state.seq + 1)
            out.append(msgspec.json.encode(event))

    def do(actor: Actor, cmd: c.Command) -> None:
        add(decide(state, actor, cmd, now=1.0))

    add(decide_create(session, "30 new leads a month", DEFAULT_STAGES))
    add(decide_join(state, fac.id, "Fay", "facilitator"))
    for n, person in enumerate(people):
        add(decide_join(state, person.id, f"Person {n}", "participant"))
    do(fac, c.SetStage(id="s", index=3))
    for n in range(20):
        do(people[n % PEOPLE], c.PostIdea(id="p", category="start", text=f"Idea number {n} for more leads"))
    do(fac, c.SetStage(id="s", index=7))
    ideas = list(state.ideas)
    for n, person in enumerate(people):
        for k in range(3):
            do(person, c.Vote(id="v", idea=ideas[(n + k) % len(ideas)]))
    do(fac, c.RevealVotes(id="r"))
    do(fac, c.SetStage(id="s", index=8))
    do(fac, c.SaveMilestone(id="m", title="First webinar", owner="Person 1", due="2027-01-31"))
    for person in people:
        do(person, c.RespondTimeline(id="t", agree=True))
    do(fac, c.FinaliseTimeline(id="f"))
    do(fac, c.SetStage(id="s", index=9))
    return out


def build_log(path: Path, sessions: int) -> str | None:
    """A log of ``sessions`` finished workshops; returns the join code of the first, if any."""
    db = open_log(path)
    template = workshop_events("tmpl")
    db.execute("BEGIN")
    for n in range(sessions):
        sid = f"s{n:07d}"
        code = normalise_code(f"CODE{n:06d}")
        db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", (sid, code, "x", "e", float(n)))
        bodies = (body.replace(b"tmpl", sid.encode()) for body in template)
        db.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?)", [(sid, seq, 1.0, body) for seq, body in enumerate(bodies, 1)]
        )
    db.execute("COMMIT")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()
    return normalise_code("CODE000000") if sessions else None


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def measure(path: Path, code: str | None) -> dict[str, float]:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "serve", "--port", "0", "--db", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await proc.stdout.readline()).decode()
        listening = time.perf_counter() - started
        port = int(line.split("ws://127.0.0.1:")[1].split()[0])
        await asyncio.sleep(1.0)  # idle: whatever start-up allocates is in by now
        idle = rss_kib(proc.pid)
        first_join = 0.0
        if code is not None:
            t = time.perf_counter()
            async with connect(f"ws://127.0.0.1:{port}", proxy=None) as ws:
                await ws.send(encode(Hello(code=code, name="Late reader")), text=True)
                assert isinstance(outbound_decoder.decode(await ws.recv()), Welcome)
            first_join = time.perf_counter() - t
        return {"listening_s": listening, "idle_rss_kib": idle, "first_join_s": first_join}
    finally:
        proc.kill()
        await proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="0,1000,10000", help="comma-separated counts (default %(default)s)")
    args = parser.parse_args()
    counts = [int(n) for n in args.sessions.split(",")]
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in counts:
            path = Path(tmp) / f"log-{n}.db"
            t = time.perf_counter()
            code = build_log(path, n)
            built = time.perf_counter() - t
            size = path.stat().st_size // 1024
            rows[n] = asyncio.run(measure(path, code))
            r = rows[n]
            print(
                f"{n:>6} finished sessions  log {size:>8} KiB (built in {built:5.1f} s)  "
                f"listening after {r['listening_s']:.2f} s  idle RSS {r['idle_rss_kib']:>7} KiB  "
                f"first join to an old session {r['first_join_s'] * 1000:.0f} ms",
                flush=True,
            )
    base = rows.get(0) or rows[counts[0]]
    last = counts[-1]
    growth = rows[last]["idle_rss_kib"] / base["idle_rss_kib"]
    seconds = rows[last]["listening_s"]
    print(f"startup seconds@{last}={seconds:.2f} rss_growth@{last}={growth:.2f} (against {counts[0]} sessions)")


if __name__ == "__main__":
    main()
