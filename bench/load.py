"""One benchmark run: one server (workshop or raw baseline), N participants, four workloads.

This process holds every websocket (N participants and the facilitator) in one asyncio
loop, so send and receive timestamps come from the same clock. The server runs in its own
process, started (and restarted, and killed) from here; its CPU and memory are read from
/proc. The result is one JSON object on the last line of stdout.

Run by bench/run.py; by hand: ``python -m bench.load --target workshop --n 100``.

With ``--apps K`` (workshop only), K more participants are the real ``workshop join`` app, each
on its own 120x40 pseudo-terminal (``bench.pty_app``), from the end of the join phase to the
end of the burst. Each app types and posts one idea at the moment the burst is fired, and the
burst's result says how long each took to show the whole burst on screen (its status line
counting every idea on the board) and whether any was cut by the server (showed
"reconnecting"): the issue's "nobody is cut for drawing".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from bench.allocator import steady_allocator
from bench.pty_app import PtyApp
from bench.raw_server import raise_nofile

now = time.perf_counter
TICK = os.sysconf("SC_CLK_TCK")
IDEA_RATE = 25.0  # ideas per second across the room in the paced workload


# -- a minimal receiver: only the fields the benchmark needs ------------------------------


class IdeaRef(msgspec.Struct):
    id: str = ""


class Ev(msgspec.Struct):
    type: str = ""
    idea: IdeaRef | str | None = None  # an idea on idea_posted, an idea id on vote_cast


# An event's body is kept undecoded (``Raw``): only the facilitator looks inside (for idea ids),
# so a participant's cost per event, on either target, is finding its seq.
class Item(msgspec.Struct):
    seq: int
    event: msgspec.Raw


class Frame(msgspec.Struct):
    type: str
    seq: int = 0
    event: msgspec.Raw = msgspec.Raw()  # empty when the frame has none
    events: list[Item] = []
    id: str = ""
    sender: int = msgspec.field(name="from", default=-1)
    token: str = ""
    epoch: str = ""
    session: str = ""
    code: str = ""
    secret: str = ""
    message: str = ""
    reset: bool = False


decode_frame = msgspec.json.Decoder(Frame).decode
decode_event = msgspec.json.Decoder(Ev).decode
encode = msgspec.json.encode


# -- shared counters ------------------------------------------------------------------------


@dataclass
class Book:
    """Everything the clients record, in one place (one process, one clock)."""

    n: int
    raw: bool
    # key -> [participants that got it, last receipt, first receipt]
    recv: dict[int, list[float]] = field(default_factory=dict)
    sent: dict[str, float] = field(default_factory=dict)  # command id -> send time
    acked: dict[str, tuple[int, float]] = field(default_factory=dict)  # command id -> (key, ack time)
    errors: dict[str, int] = field(default_factory=dict)
    idea_ids: list[str] = field(default_factory=list)
    keys = itertools.count(1)

    def error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1


class Client:
    def __init__(self, book: Book, idx: int, url: str, facilitator: bool = False) -> None:
        self.book = book
        self.idx = idx
        self.url = url
        self.facilitator = facilitator
        self.ws: ClientConnection | None = None
        self.session = self.token = self.secret = self.epoch = ""
        self.last_seq = 0
        self.gaps = self.dups = self.drops = 0
        self.resumed_at = 0.0
        self.stopping = False
        self.refused = ""
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        # proxy=None: no look through the environment for a proxy on each of 1,000 connects (either target).
        self.ws = await connect(
            self.url, proxy=None, compression=None, max_size=None, ping_interval=None, open_timeout=15, close_timeout=1
        )

    async def hello(self, **fields: object) -> Frame:
        assert self.ws is not None
        await self.ws.send(encode({"type": "hello", **fields}), text=True)
        welcome = decode_frame(await self.ws.recv())
        if welcome.type != "welcome":
            raise RuntimeError(f"refused: {welcome.type} {welcome.message}")
        if welcome.token:
            self.token = welcome.token
        if welcome.session:
            self.session, self.epoch = welcome.session, welcome.epoch
        self.last_seq = welcome.seq
        return welcome

    def start_reader(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def send(self, msg: dict[str, object]) -> None:
        ws = self.ws
        if ws is None:
            return
        with contextlib.suppress(ConnectionClosed):
            await ws.send(encode(msg), text=True)

    # -- receiving ----------------------------------------------------------------------------

    async def _read(self) -> None:
        while not self.stopping:
            ws = self.ws
            if ws is not None:
                try:
                    async for raw in ws:
                        try:
                            self._on_frame(raw)
                        except msgspec.DecodeError:
                            self.book.error("undecodable_frame")
                except ConnectionClosed:
                    pass
            self.ws = None
            if self.stopping:
                return
            self.drops += 1
            await self._reconnect()

    async def _reconnect(self, deadline_s: float = 40.0) -> None:
        deadline = now() + deadline_s
        while not self.stopping and now() < deadline:
            try:
                await self.open()
                if self.book.raw:
                    await self.hello()
                elif self.facilitator:
                    await self.hello(session=self.session, secret=self.secret, last_seq=self.last_seq, epoch=self.epoch)
                else:
                    await self.hello(session=self.session, token=self.token, last_seq=self.last_seq, epoch=self.epoch)
                self.resumed_at = now()
                return
            except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed):
                if self.ws is not None:
                    with contextlib.suppress(Exception):
                        await self.ws.close()
                self.ws = None
                await asyncio.sleep(random.uniform(0.05, 0.15))
            except RuntimeError as exc:  # an error reply: the resume was refused
                self.refused = str(exc)
                self.ws = None
                return

    def _on_frame(self, raw: str | bytes) -> None:
        f = decode_frame(raw)
        t = now()
        kind = f.type
        if kind == "batch":
            for item in f.events:
                self._on_event(item.seq, item.event, t, f)
        elif kind == "event":
            if self.book.raw:
                self._on_raw(f, t)
            else:
                self._on_event(f.seq, f.event, t, f)
        elif kind == "ack":
            self.book.acked[f.id] = (f.seq, t)
        elif kind == "error":
            self.book.error(f.code or "?")

    def _on_event(self, seq: int, event: msgspec.Raw, t: float, f: Frame) -> None:
        if seq <= self.last_seq:
            self.dups += 1
            return
        if seq != self.last_seq + 1:
            self.gaps += 1
        self.last_seq = seq
        if self.facilitator:
            body = decode_event(event) if len(event) else None
            if body is not None and body.type == "idea_posted" and isinstance(body.idea, IdeaRef):
                self.book.idea_ids.append(body.idea.id)
            return
        r = self.book.recv.get(seq)
        if r is None:
            self.book.recv[seq] = [1, t, t]
        else:
            r[0] += 1
            r[1] = t

    def _on_raw(self, f: Frame, t: float) -> None:
        if f.sender == self.idx:
            self.book.acked[f.id] = (f.seq, t)
        if self.facilitator:
            return
        r = self.book.recv.get(f.seq)
        if r is None:
            self.book.recv[f.seq] = [1, t, t]
        else:
            r[0] += 1
            r[1] = t

    async def close(self) -> None:
        self.stopping = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 1)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


# -- the server process ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProc:
    def __init__(self, target: str, port: int, db: Path, log: Path) -> None:
        py = sys.executable
        if target == "workshop":
            self.argv = [py, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(db)]
            self.ready_text = "workshop server on"
        else:
            self.argv = [py, "-m", "bench.raw_server", "--port", str(port)]
            self.ready_text = "ready"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> float:
        """Start the server; return the seconds until it said it is listening."""
        t0 = now()
        with open(self.log, "a") as err:
            self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=err, preexec_fn=raise_nofile)
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        os.set_blocking(fd, False)
        buf = b""
        while now() - t0 < timeout:
            with contextlib.suppress(BlockingIOError):
                buf += os.read(fd, 65536)
                if self.ready_text.encode() in buf:
                    return now() - t0
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log}")
            time.sleep(0.005)
        raise TimeoutError("server did not start")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu(self) -> float:
        """utime + stime of the server process (every thread), in seconds."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def mem(self, key: str = "VmRSS") -> int:
        """A /proc/PID/status figure in bytes (VmRSS now, VmHWM peak)."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


# -- measurements -----------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


class Bench:
    def __init__(
        self,
        target: str,
        n: int,
        quick: bool,
        workdir: Path,
        profile: str = "",
        profile_out: str = "",
        apps: int = 0,
    ) -> None:
        self.profile, self.profile_out = profile, profile_out
        self.workdir, self.apps_wanted = workdir, apps
        self.apps: list[PtyApp] = []
        self.target = target
        self.raw = target == "raw"
        self.n = n
        self.quick = quick
        self.book = Book(n=n, raw=self.raw)
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        self.server = ServerProc(target, self.port, workdir / "bench.db", workdir / f"{target}-{n}.log")
        self.fac: Client | None = None
        self.parts: list[Client] = []
        self.cmd_ids = itertools.count(1)
        self.out: dict[str, object] = {"target": target, "n": n}
        self.bg: set[asyncio.Task[None]] = set()
        self.client_cpu0 = 0.0
        self.client_faults0 = 0

    # -- helpers -------------------------------------------------------------------------------

    def cid(self) -> str:
        return f"c{next(self.cmd_ids)}"

    def fire(self, client: Client, msg: dict[str, object]) -> str:
        """Send a command without waiting; the send time is recorded under its id."""
        cid = self.cid()
        msg = {**msg, "id": cid}
        if self.raw:
            msg = self.raw_frame(client, msg)
        self.book.sent[cid] = now()
        task = asyncio.get_running_loop().create_task(client.send(msg))
        self.bg.add(task)
        task.add_done_callback(self.bg.discard)
        return cid

    def raw_frame(self, client: Client, cmd: dict[str, object]) -> dict[str, object]:
        """What the raw server broadcasts: the workshop's event frame for this command, same fields
        and id lengths, plus ``id`` and ``from`` (about 20 bytes) so the sender sees its echo as an ack."""
        key = next(Book.keys)
        t = time.time()
        if cmd["type"] == "post_idea":
            event: dict[str, object] = {
                "type": "idea_posted",
                "idea": {
                    "id": str(key),
                    "stage": "stop_start_continue",
                    "category": cmd["category"],
                    "text": cmd["text"],
                    "author": f"{client.idx:016x}",
                    "anonymous": False,
                    "seal": None,
                    "withdrawn": False,
                    "merged_into": None,
                    "posted_at": t,
                },
            }
        else:
            event = {"type": "vote_cast", "voter": f"{client.idx:016x}", "delta": 1, "idea": None}
        return {"type": "event", "seq": key, "at": t, "event": event, "id": cmd["id"], "from": client.idx}

    async def facilitator_cmd(self, msg: dict[str, object], timeout: float = 15.0) -> int:
        """A facilitator command, waited for until acknowledged (workshop only)."""
        assert self.fac is not None
        cid = self.fire(self.fac, msg)
        deadline = now() + timeout
        while cid not in self.book.acked:
            if now() > deadline:
                raise TimeoutError(f"no ack for {msg['type']}")
            await asyncio.sleep(0.005)
        return self.book.acked[cid][0]

    async def wait_delivered(self, cids: list[str], timeout: float) -> bool:
        """Until every command is acknowledged and its event reached all N participants."""
        deadline = now() + timeout
        n, book = self.n, self.book
        pending = list(cids)
        while pending:
            if now() > deadline:
                return False
            rest = []
            for cid in pending:
                a = book.acked.get(cid)
                r = book.recv.get(a[0]) if a else None
                if r is None or r[0] < n:
                    rest.append(cid)
            pending = rest
            if pending:
                await asyncio.sleep(0.01)
        return True

    def start_clock(self) -> float:
        self.client_faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        self.client_cpu0 = time.process_time()
        return now()

    def summarise(self, name: str, cids: list[str], t0: float, cpu: float, complete: bool) -> dict[str, object]:
        book = self.book
        lats, deliveries, last_t, last_ack, last_first = [], 0, t0, t0, t0
        for cid in cids:
            a = book.acked.get(cid)
            if a is None:
                continue
            last_ack = max(last_ack, a[1])
            r = book.recv.get(a[0])
            if r is None:
                continue
            deliveries += r[0]
            last_t = max(last_t, r[1])
            last_first = max(last_first, r[2])
            if r[0] >= self.n:
                lats.append(r[1] - book.sent[cid])
        span = max(last_t - t0, 1e-9)
        acks = sum(1 for c in cids if c in book.acked)
        res = {
            "sent": len(cids),
            "acked": acks,
            "complete": complete,
            "fully_delivered": len(lats),
            "deliveries": deliveries,
            "seconds": span,
            "deliveries_per_s": deliveries / span,
            "p50_ms": pct(lats, 50) * 1e3,
            "p99_ms": pct(lats, 99) * 1e3,
            "max_ms": max(lats) * 1e3 if lats else float("nan"),
            "cpu_s": cpu,
            # This (client) process: near "seconds", it is the bottleneck, not the server.
            "client_cpu_s": time.process_time() - self.client_cpu0,
            # Minor page faults of this process: equal treatment of both targets (see bench.allocator).
            "client_page_faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - self.client_faults0,
            "cpu_us_per_delivery": cpu * 1e6 / deliveries if deliveries else float("nan"),
            # Acks as the senders saw them: each ack waits behind the events fanned out before it.
            "acks_per_s": acks / max(last_ack - t0, 1e-9),
            # Commands whose event reached its first participant (it was committed before that).
            "published_per_s": sum(1 for c in cids if c in book.acked) / max(last_first - t0, 1e-9),
            "rss": self.server.mem(),
        }
        self.out[name] = res
        print(f"  [{self.target} N={self.n}] {name}: {json.dumps(res)}", file=sys.stderr, flush=True)
        return res

    # -- phases ----------------------------------------------------------------------------------

    async def join(self) -> None:
        book = self.book
        self.fac = Client(book, -1, self.url, facilitator=True)
        await self.fac.open()
        assert self.fac.ws is not None
        if self.raw:
            await self.fac.hello()
        else:
            await self.fac.ws.send(encode({"type": "create", "goal": "benchmark", "name": "Facilitator"}), text=True)
            created = decode_frame(await self.fac.ws.recv())
            if created.type != "created":
                raise RuntimeError(f"create refused: {created.message}")
            self.fac.secret = created.secret
            self.code = created.code
            await self.fac.hello(session=created.session, secret=created.secret)
        self.fac.start_reader()
        if not self.raw:
            await self.facilitator_cmd({"type": "set_stage", "index": 3})
        await asyncio.sleep(0.5)
        rss0, cpu0, t0 = self.server.mem(), self.server.cpu(), self.start_clock()
        sem = asyncio.Semaphore(50)

        async def one(i: int) -> Client:
            async with sem:
                c = Client(book, i, self.url)
                await c.open()
                if self.raw:
                    await c.hello()
                else:
                    await c.hello(code=self.code, name=f"participant {i}")
                c.start_reader()
                return c

        self.parts = list(await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(self.n))), 120 + self.n / 5))
        join_s = now() - t0
        client_cpu = time.process_time() - self.client_cpu0
        await asyncio.sleep(1.5)  # let join fan-out and presence settle
        rss1 = self.server.mem()
        self.out["join"] = {
            "seconds": join_s,
            "joins_per_s": self.n / join_s,
            "cpu_s": self.server.cpu() - cpu0,
            "client_cpu_s": client_cpu,  # near "seconds": this process, not the server, set the pace
            "rss_before": rss0,
            "rss_after": rss1,
            "rss_per_participant": (rss1 - rss0) / self.n,
        }
        print(f"  [{self.target} N={self.n}] join: {json.dumps(self.out['join'])}", file=sys.stderr, flush=True)

    async def paced(self) -> None:
        seconds = 3.0 if self.quick else 8.0
        count = int(seconds * IDEA_RATE)
        cids: list[str] = []
        cpu0, t0 = self.server.cpu(), self.start_clock()
        for k in range(count):
            delay = t0 + k / IDEA_RATE - now()
            if delay > 0:
                await asyncio.sleep(delay)
            c = self.parts[k % self.n]
            text = f"paced idea {k:05d}: stop doing it"
            cids.append(self.fire(c, {"type": "post_idea", "category": "stop", "text": text}))
        complete = await self.wait_delivered(cids, 10 if self.quick else 20)
        self.summarise("paced", cids, t0, self.server.cpu() - cpu0, complete)

    async def burst(self) -> None:
        # On the apps' screens, the burst is drawn once their status line counts every idea.
        on_board = f"{len(self.book.idea_ids) + self.n + len(self.apps):,} ideas"
        for app in self.apps:
            app.watch(on_board)
            app.watch("reconnecting")
        cpu0, t0 = self.server.cpu(), self.start_clock()
        apps_cpu0 = [app.cpu() for app in self.apps]
        for k, app in enumerate(self.apps):  # Down picks the first category ("stop"), Enter posts
            app.write(f"\x1b[Bapp idea {k}: stop cold calls\r")
        cids = [
            self.fire(c, {"type": "post_idea", "category": "stop", "text": f"burst idea {c.idx:05d}: stop doing it"})
            for c in self.parts
        ]
        complete = await self.wait_delivered(cids, 20 if self.quick else 90)
        res = self.summarise("burst", cids, t0, self.server.cpu() - cpu0, complete)
        if self.apps:
            res |= await asyncio.to_thread(self.apps_drew, on_board, t0)
            res["apps"]["cpu_s"] = [round(app.cpu() - c, 3) for app, c in zip(self.apps, apps_cpu0, strict=True)]
            print(f"  [{self.target} N={self.n}] burst apps: {json.dumps(res['apps'])}", file=sys.stderr, flush=True)

    # -- real apps among the participants (--apps) ---------------------------------------------

    async def start_apps(self) -> None:
        for k in range(self.apps_wanted):
            argv = [sys.executable, "-m", "cli", "join", f"{self.url}/{self.code}", "--name", f"App {k}"]
            app = PtyApp(argv, env={"XDG_DATA_HOME": str(self.workdir / f"app-{k}")})
            self.apps.append(app)
        everyone = f"done 0/{self.n + len(self.apps)}"  # each app has drawn the room it joined, apps and all
        for app in self.apps:
            app.watch(everyone)
        for app in self.apps:
            await asyncio.to_thread(app.wait_for, everyone, 60.0)

    def apps_drew(self, on_board: str, t0: float, timeout: float = 60.0) -> dict[str, object]:
        """When each app's screen first counted the whole burst, and whether any was cut meanwhile."""
        drawn = []
        for app in self.apps:
            try:
                drawn.append(app.wait_for(on_board, max(0.1, t0 + timeout - now())) - t0)
            except TimeoutError:
                drawn.append(float("nan"))
        cut = sum(1 for app in self.apps if app.seen("reconnecting"))
        return {"apps": {"count": len(self.apps), "drawn_s": [round(d, 3) for d in drawn], "cut": cut}}

    async def close_apps(self) -> None:
        # In threads, together: closing waits on each app, and this loop must keep answering the
        # server's pings meanwhile (a loop blocked for seconds has all its connections cut).
        await asyncio.gather(*(asyncio.to_thread(app.close) for app in self.apps))
        self.apps.clear()

    async def voting(self) -> None:
        if not self.raw:
            await self.facilitator_cmd({"type": "set_stage", "index": 7})
        await asyncio.sleep(0.2)
        ideas = self.book.idea_ids or ["x"]
        rng = random.Random(7)
        cpu0, t0 = self.server.cpu(), self.start_clock()
        cids = [
            self.fire(c, {"type": "vote", "idea": rng.choice(ideas), "delta": 1}) for _ in range(3) for c in self.parts
        ]
        complete = await self.wait_delivered(cids, 20 if self.quick else 120)
        self.summarise("voting", cids, t0, self.server.cpu() - cpu0, complete)

    async def storm(self) -> None:
        everyone = [*self.parts, self.fac]
        assert self.fac is not None
        if not self.raw:  # commands in flight while the server dies: acked ones must survive
            for k in range(10):
                self.fire(self.fac, {"type": "set_kpi", "name": f"kpi{k}", "value": str(k)})
            await asyncio.sleep(0.003)
        t_kill = now()
        self.server.kill()
        ready_s = self.server.start()
        deadline = now() + (20 if self.quick else 40)
        while now() < deadline:
            if all(c.resumed_at > t_kill or c.refused for c in everyone):
                break
            await asyncio.sleep(0.01)
        resumed = [c for c in everyone if c.resumed_at > t_kill]
        all_s = max((c.resumed_at for c in resumed), default=now()) - t_kill
        res: dict[str, object] = {
            "clients": len(everyone),
            "resumed": len(resumed),
            "refused": sum(1 for c in everyone if c.refused),
            "restart_s": ready_s,
            "all_resumed_s": all_s,
            "after_ready_s": all_s - ready_s,
            "rss": self.server.mem(),
        }
        if not self.raw:
            # One more event after the storm: every replica must end on it, with no gap.
            final = await self.facilitator_cmd({"type": "set_stage", "index": 8})
            deadline = now() + 15
            while now() < deadline and any(c.last_seq < final for c in everyone):
                await asyncio.sleep(0.01)
            res |= {
                "final_seq": final,
                "at_final_seq": sum(1 for c in everyone if c.last_seq == final),
                "gaps": sum(c.gaps for c in everyone),
                "duplicates_ignored": sum(c.dups for c in everyone),
            }
        self.out["storm"] = res
        print(f"  [{self.target} N={self.n}] storm: {json.dumps(res)}", file=sys.stderr, flush=True)

    async def phase(self, name: str, coro: Callable[[], Awaitable[None]]) -> None:
        """Run one workload; with --profile NAME, sample the server with py-spy meanwhile."""
        if self.profile != name:
            await coro()
            return
        spy = Path(sys.executable).with_name("py-spy")
        argv = [str(spy), "record", "--pid", str(self.server.pid), "--rate", "1000", "--format", "raw", "--threads"]
        prof = subprocess.Popen([*argv, "--nonblocking", "-o", self.profile_out], stdout=subprocess.DEVNULL)
        try:
            await asyncio.sleep(1.0)  # py-spy attaching
            await coro()
        finally:
            prof.send_signal(signal.SIGINT)
            prof.wait(20)

    async def run(self) -> dict[str, object]:
        self.server.start()
        try:
            await self.phase("join", self.join)
            if self.apps_wanted:
                await self.start_apps()
            await self.phase("paced", self.paced)
            await asyncio.sleep(0.5)
            await self.phase("burst", self.burst)
            await self.close_apps()
            await asyncio.sleep(0.5)
            await self.phase("voting", self.voting)
            await asyncio.sleep(0.5)
            drops_before = sum(c.drops for c in self.parts)
            self.out["unexpected_drops"] = drops_before
            self.out["errors"] = dict(self.book.errors)
            self.out["rss_peak"] = self.server.mem("VmHWM")
            await self.storm()
            self.out["errors"] = dict(self.book.errors)
        finally:
            await self.close_apps()
            for c in [*self.parts, self.fac]:
                if c is not None:
                    c.stopping = True
            self.server.kill()
            await asyncio.gather(*(c.close() for c in [*self.parts, self.fac] if c is not None))
        return self.out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", choices=("workshop", "raw"), required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workdir", type=Path)
    phases = ("join", "paced", "burst", "voting")
    parser.add_argument("--profile", choices=phases, help="py-spy the server during this workload")
    parser.add_argument("--profile-out", default="profile.txt", help="collapsed stacks from --profile")
    parser.add_argument(
        "--apps", type=int, default=0, metavar="K", help="K more participants are real apps on ptys (workshop only)"
    )
    args = parser.parse_args()
    if args.apps and args.target != "workshop":
        parser.error("--apps needs --target workshop (the raw baseline has no app)")
    raise_nofile()
    steady_allocator()
    with tempfile.TemporaryDirectory(prefix="workshop-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        bench = Bench(args.target, args.n, args.quick, workdir, args.profile or "", args.profile_out, args.apps)
        out = asyncio.run(bench.run())
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
