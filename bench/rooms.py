"""Provides the many-rooms benchmark: many small sessions, each participant posting now and then.

This is how a shared service is used: 200 rooms of 10, not one room of 1,000. Each participant
posts ideas at random (Poisson, one every ``--interval`` seconds on average), so the server's
cost is per event (decode, rules, fold, commit, acks, audiences) rather than per delivery. The
server runs in its own process (``python -m cli serve``, its log in a temporary directory); this
process holds every participant as a bare websocket client that counts what it receives. The
baseline is ``bench.raw_rooms``: a plain websockets server that re-broadcasts each message to
its room, with no log, no rules and no acks. ``--target all`` also runs it with ``--durable``,
committing each message to SQLite (fsync'd) before broadcasting it: the least a server that
keeps every post on disk first can cost.

    python -m bench.rooms                                   # 200 sessions x 10, 30 s
    python -m bench.rooms --sessions 50 --people 10 --seconds 10 --target workshop
    python -m bench.rooms --target all                      # raw, raw with a durable log, workshop
    python -m bench.rooms --target workshop --postgres --servers 2   # two processes, one PostgreSQL log

With ``--servers K`` (a PostgreSQL log: ``--db postgresql://...``, or ``--postgres`` for a
throwaway cluster started here), K ``workshop serve`` processes share the log and the sessions
are opened on them in turn, as a load balancer would spread them; the CPU figures are the sum
over the K processes, and each one's share is printed too. PostgreSQL's own CPU is not counted.

Server CPU is read from /proc over the measured time; the cost of a post is what the server
spends beyond its idle rate (the keepalive pings of every connection, measured first with
nobody posting), divided by the posts. The last line is
``rooms cpu_per_post_ms=<x> raw_cpu_per_post_ms=<y> ratio=<x/y> (beyond idle keepalive; target 0.3 ms)``,
with ``durable_raw_cpu_per_post_ms=<z>`` before the ratio and ``durable_ratio=<x/z>`` after it when
the durable baseline ran.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.pty_app import cpu_seconds

decode = msgspec.json.Decoder(dict).decode
encode = msgspec.json.encode
IDEAS = 5  # "New ways": one category, "idea"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Counts:
    posts: int = 0
    events: int = 0  # events received, over all clients (deliveries)
    acks: int = 0
    errors: list[str] = field(default_factory=list)


class Member:
    """One bare client: joins, then counts every event and ack it is sent."""

    def __init__(self, counts: Counts, raw: bool) -> None:
        self.counts, self.raw = counts, raw
        self.ws: ClientConnection | None = None
        self.n = 0

    async def join(self, url: str, hello: dict[str, object]) -> dict[str, object]:
        self.ws = await connect(url, proxy=None, compression=None, max_size=None, open_timeout=60)
        await self.ws.send(encode(hello), text=True)
        return decode(await self.ws.recv())

    async def read(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                data = frame if isinstance(frame, bytes) else frame.encode()
                if self.raw:
                    self.counts.events += 1
                else:
                    self.counts.events += data.count(b'"type":"event"')
                    self.counts.acks += data.count(b'"type":"ack"')
                    if b'"type":"error"' in data:
                        self.counts.errors.append(data[:120].decode())
        except ConnectionClosed:
            pass

    async def post(self, room: str, text: str) -> None:
        assert self.ws is not None
        self.n += 1
        if self.raw:
            msg = {"type": "post_idea", "room": room, "text": text}
        else:
            msg = {"type": "post_idea", "id": f"p{self.n}", "category": "idea", "text": text}
        self.counts.posts += 1
        await self.ws.send(encode(msg), text=True)


class Server:
    def __init__(self, target: str, tmp: Path, pid: int = 0, url: str = "", db: str = "") -> None:
        if pid:  # one started by hand (under a profiler, say): measured, never stopped
            self.proc = subprocess.Popen(["true"])
            self.proc.pid, self.url = pid, url
            return
        self.port = free_port()
        if target == "workshop":
            argv = [
                "-m",
                "cli",
                "serve",
                "--port",
                str(self.port),
                "--db",
                db or str(tmp / "w.db"),
                "--creates-per-minute",
                "100000",
            ]
        else:
            argv = ["-m", "bench.raw_rooms", "--port", str(self.port)]
            if target == "durable":
                argv += ["--durable", str(tmp / "raw.db")]
        self.proc = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.proc.stdout is not None
        self.proc.stdout.readline()  # it prints a line once listening
        self.url = f"ws://127.0.0.1:{self.port}"

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def loop_cpu(self) -> float:
        """The CPU of the event loop's thread alone (the rest is the log writer's thread)."""
        return cpu_seconds(self.proc.pid, self.proc.pid)

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.proc.args != ["true"]:
            self.proc.kill()
            self.proc.wait()


READERS: list[asyncio.Task[None]] = []
ATTACH: tuple[int, str] | tuple[()] = ()  # (pid, url) of a server started by hand
LOG = ""  # the workshop server's --db ("" = a SQLite file in a temporary directory)


async def setup(
    urls: list[str], sessions: int, people: int, raw: bool, counts: Counts
) -> list[tuple[str, list[Member]]]:
    rooms = []
    for s in range(sessions):
        url = urls[s % len(urls)]  # sessions spread over the servers in turn
        if raw:
            room = f"room-{s}"
        else:
            creator = Member(counts, raw)
            creator.ws = await connect(url, proxy=None, compression=None, open_timeout=60)
            await creator.ws.send(encode({"type": "create", "goal": "30 new leads a month"}), text=True)
            created = decode(await creator.ws.recv())
            await creator.ws.send(encode({"type": "hello", "session": created["session"], "secret": created["secret"]}))
            await creator.ws.recv()
            await creator.ws.send(encode({"type": "set_stage", "id": "s", "index": IDEAS}), text=True)
            READERS.append(asyncio.create_task(creator.read()))
            room = created["code"]
        members = []
        for p in range(people):
            m = Member(counts, raw)
            hello = {"type": "hello", "room": room} if raw else {"type": "hello", "code": room, "name": f"P{p}"}
            await m.join(url, hello)
            READERS.append(asyncio.create_task(m.read()))
            members.append(m)
        rooms.append((room, members))
    return rooms


async def _spy(argv: list[str]) -> None:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.DEVNULL)
    await proc.wait()


def machine_busy() -> float:
    """CPU-seconds the whole machine has been busy (all cores, every process: PostgreSQL and this one too)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Servers:
    """One or more servers measured as one: CPU and RSS summed over their processes."""

    def __init__(self, servers: list[Server]) -> None:
        self.all = servers

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.all]

    def cpu(self) -> float:
        return sum(s.cpu() for s in self.all)

    def each_cpu(self) -> list[float]:
        return [s.cpu() for s in self.all]

    def loop_cpu(self) -> float:
        return sum(s.loop_cpu() for s in self.all)

    def rss_kib(self) -> int:
        return sum(s.rss_kib() for s in self.all)

    def stop(self) -> None:
        for s in self.all:
            s.stop()


async def run(
    target: str, sessions: int, people: int, interval: float, seconds: float, profile: str = "", processes: int = 1
) -> dict[str, Any]:
    raw = target in ("raw", "durable")
    counts = Counts()
    with tempfile.TemporaryDirectory() as tmp:
        if ATTACH:
            server = Servers([Server(target, Path(tmp), *ATTACH)])
        else:
            server = Servers([Server(target, Path(tmp), db=LOG) for _ in range(processes if not raw else 1)])
        try:
            rooms = await setup(server.urls, sessions, people, raw, counts)
            rss_joined = server.rss_kib()
            # What the room costs with nobody posting (keepalive pings of every connection):
            # measured first, so the cost of a post can be told apart from it.
            i0, it0 = server.cpu(), time.monotonic()
            await asyncio.sleep(min(10.0, seconds / 2))
            idle_rate = (server.cpu() - i0) / (time.monotonic() - it0)
            rng = random.Random(7)
            stop = asyncio.Event()

            async def poster(room: str, m: Member) -> None:
                while not stop.is_set():
                    await asyncio.sleep(rng.expovariate(1 / interval))
                    if not stop.is_set():
                        await m.post(room, f"An idea to win more leads, number {m.n}")

            tasks = [asyncio.create_task(poster(room, m)) for room, members in rooms for m in members]
            if profile:  # py-spy samples the server while the room posts (pip install py-spy)
                spy = ["py-spy", "record", "--threads", "--rate", "1000", "--pid", str(server.all[0].proc.pid)]
                spy += ["--format", "raw", "-o", profile]
                tasks.append(asyncio.create_task(_spy([*spy, "--duration", str(int(seconds)), "--nonblocking"])))
            await asyncio.sleep(min(3.0, seconds / 3))  # warm up: every poster has started
            p0, e0, c0, t0 = counts.posts, counts.events, server.cpu(), time.monotonic()
            b0 = machine_busy()
            m0, a0, each0 = server.loop_cpu(), counts.acks, server.each_cpu()
            await asyncio.sleep(seconds)
            p1, e1, c1, t1 = counts.posts, counts.events, server.cpu(), time.monotonic()
            b1 = machine_busy()
            m1, a1, each1 = server.loop_cpu(), counts.acks, server.each_cpu()
            stop.set()
            for task in tasks:
                task.cancel()
            # Posts the server handled: acknowledged ones (a saturated server falls behind what is
            # sent); raw acknowledges nothing and keeps up, so there it is what was sent.
            elapsed, posts = t1 - t0, (p1 - p0 if raw else a1 - a0)
            return {
                "sent_per_s": (p1 - p0) / elapsed,
                "posts_per_s": posts / elapsed,
                "machine_share": (b1 - b0) / elapsed,
                "acks_per_s": (a1 - a0) / elapsed,
                "shares": [(b - a) / elapsed for a, b in zip(each0, each1, strict=True)],
                "deliveries_per_s": (e1 - e0) / elapsed,
                "cpu_share": (c1 - c0) / elapsed,
                "cpu_per_post_ms": 1000 * (c1 - c0) / max(posts, 1),
                "net_per_post_ms": 1000 * max(0.0, c1 - c0 - idle_rate * elapsed) / max(posts, 1),
                "idle_share": idle_rate,
                "writer_per_post_ms": 1000 * max(0.0, (c1 - c0) - (m1 - m0)) / max(posts, 1),
                "kib_per_connection": rss_joined / (sessions * (people + (0 if raw else 1))),
                "errors": len(counts.errors),
            }
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--interval", type=float, default=10.0, help="mean seconds between a person's posts")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured time")
    parser.add_argument(
        "--target", choices=("both", "all", "workshop", "raw", "durable"), default="both",
        help="both: raw, then workshop; all: raw, raw with a durable log, then workshop",
    )  # fmt: skip
    parser.add_argument("--profile", metavar="FILE", help="py-spy the workshop server into FILE (collapsed stacks)")
    parser.add_argument(
        "--db", default="", help="the workshop server's log (default: a SQLite file; or postgresql://...)"
    )
    parser.add_argument("--attach", metavar="PID:URL", help="measure a workshop server already running (PID, URL)")
    parser.add_argument(
        "--servers", type=int, default=1, metavar="K", help="K workshop processes sharing a PostgreSQL log"
    )
    parser.add_argument(
        "--postgres", action="store_true", help="start a throwaway PostgreSQL here and use it as the log"
    )
    args = parser.parse_args()
    if args.servers > 1 and not (args.postgres or args.db.startswith("postgresql")):
        parser.error("--servers K needs a shared log: --db postgresql://... or --postgres")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    with contextlib.ExitStack() as stack:
        if args.postgres:
            args.db = stack.enter_context(throwaway_postgres())
        measure(args)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL cluster in a temporary directory (the tests' own), for as long as the benchmark runs."""
    from tests.postgres import AVAILABLE, SKIP_REASON, Cluster

    if not AVAILABLE:
        raise SystemExit(SKIP_REASON)
    cluster = Cluster()
    cluster.start()
    try:
        yield cluster.new_database()
    finally:
        cluster.stop()


def measure(args: argparse.Namespace) -> None:
    global ATTACH, LOG
    LOG = args.db
    if args.attach:
        pid, url = args.attach.split(":", 1)
        ATTACH = (int(pid), url)
    results = {}
    chosen = {"both": ("raw", "workshop"), "all": ("raw", "durable", "workshop")}.get(args.target, (args.target,))
    for target in chosen:
        profile = args.profile if target == "workshop" and args.profile else ""
        r = asyncio.run(run(target, args.sessions, args.people, args.interval, args.seconds, profile, args.servers))
        results[target] = r
        print(
            f"{target:>8}: {args.sessions} sessions x {args.people}: {r['posts_per_s']:.0f} posts/s handled "
            f"(of {r['sent_per_s']:.0f} sent), "
            f"{r['deliveries_per_s']:.0f} deliveries/s, server CPU {100 * r['cpu_share']:.1f}% of a core, "
            f"{r['cpu_per_post_ms']:.3f} ms per post ({r['net_per_post_ms']:.3f} beyond the idle "
            f"{100 * r['idle_share']:.1f}%), {r['kib_per_connection']:.1f} KiB RSS per connection"
            + (f"; log writer thread {r['writer_per_post_ms']:.3f} ms per post" if target == "workshop" else "")
            + (f", {r['errors']} errors" if r["errors"] else ""),
            flush=True,
        )
        each = ", ".join(f"{100 * share:.0f}%" for share in r["shares"])
        processes = f"{len(r['shares'])} processes" if len(r["shares"]) > 1 else "1 process"
        print(f"          {processes}, CPU of each: {each}; the whole machine busy {100 * r['machine_share']:.0f}%")
    w, r, d = results.get("workshop"), results.get("raw"), results.get("durable")
    if w:
        line = f"rooms cpu_per_post_ms={w['net_per_post_ms']:.3f}"
        if r:
            line += f" raw_cpu_per_post_ms={r['net_per_post_ms']:.3f}"
            if d:
                line += f" durable_raw_cpu_per_post_ms={d['net_per_post_ms']:.3f}"
            line += f" ratio={w['net_per_post_ms'] / max(r['net_per_post_ms'], 1e-6):.2f}"
            if d:
                line += f" durable_ratio={w['net_per_post_ms'] / max(d['net_per_post_ms'], 1e-6):.2f}"
        print(line + " (beyond idle keepalive; target 0.3 ms)")


if __name__ == "__main__":
    main()
