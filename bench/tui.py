"""Provides the app benchmark: what each incoming event costs the apps on people's screens.

Both apps run as users run them, ``workshop join`` and ``workshop host`` each in its own
process on a 120x40 pseudo-terminal whose output is drained, against a server in this process
(limits raised, so that the load clients are never throttled). For each board size the room is
filled with that many ideas first; then, with both apps settled:

- **per event**: 40 more ideas at 5 a second (each drawn on its own), CPU of each app process
  from /proc, minus what it uses idle over the same time, divided by 40. Where a new idea lands
  decides how much of the screen changes, so it is the same at every board size: with ``--land
  top`` (the default) each lands at the top of the board and every line of the list below it
  moves (the most an idea can change); with ``--land anywhere`` at a random place in the board,
  as in a room, where on a long board most land off the screen. This is done three times (once
  with ``--quick``; ``--rounds``), each round beside its own floor (below), and the median of
  the rounds is the figure: a single round moves by a fifth from run to run on this machine;
- **busy room**: 25 ideas a second for 8 s, each app's CPU as a share of one core;
- **typing**: while the room posts 25 a second, 100 keys typed into the participant's idea
  box; latency from the write to the moment the character is in the app's output.

The floor is Textual's own cost for the smallest visible change, measured the same way in the
same run (``bench.floor_app``): one line of a ``Static`` updated, and one option added to a
1,000-item ``OptionList``, each alone at the start; and the one line on a screen of Textual's
own widgets laid out like the apps' (head lines, tabs, a long list, a footer). The one-line
floor is also measured beside the apps at each board: a third process on its own terminal,
changing its line at 5 a second while the apps take their 5 events a second, so that it shares
their machine second for second (on a shared 2-core machine the floor alone drifts by half over
an hour). Each app's ratio is to that floor, measured beside it in the same round. The last line is
``tui participant_ms_per_event@1000=<x> host_ms_per_event@1000=<y> floor_ms=<f> keypress_p99_ms=<z>``.

    python -m bench.tui                          # boards of 40, 200, 1000 and 5000 ideas
    python -m bench.tui --boards 40,1000 --quick [--land anywhere]
    python -m bench.tui --boards 1000 --people 1000   # ... in a room of 1,000 people
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.pty_app import PtyApp
from client.connection import Connection, Credentials, create_session
from client.seats import Seat, Seats
from server.app import port_of, start
from server.limits import Limits
from workshop import commands as c

NEW_WAYS = 5  # the default agenda's one-category idea stage
PY = [sys.executable, "-m"]
KEYS = [chr(0x4E00 + n) for n in range(100)]  # distinct, assigned characters: each keypress is found in the output


@dataclass
class Row:
    board: int
    ms_per_event: dict[str, float] = field(default_factory=dict)  # each app's median over the rounds
    ratios: dict[str, list[float]] = field(default_factory=dict)  # each round's ms per event over the floor beside
    busy_share: dict[str, float] = field(default_factory=dict)
    keypress_ms: list[float] = field(default_factory=list)


class Room:
    """A session on a server in this process, and clients that fill it and keep it busy."""

    def __init__(self, tmp: Path, land: str = "top", people: int = 0) -> None:
        self.tmp = tmp
        self.land = land
        self.people = people
        self.random = random.Random(1)

    async def open(self) -> None:
        limits = Limits(commands_per_second=1e9, command_burst=10**9, outbox_bytes=256 * 1024 * 1024)
        self.server, self.app = await start("127.0.0.1", 0, self.tmp / "w.db", limits=limits)
        self.url = f"ws://127.0.0.1:{port_of(self.server)}"
        created = await create_session(self.url, goal="30 new leads a month")
        self.code, self.session, self.secret = created.code, created.session, created.secret
        self.fac = Connection(Credentials(url=self.url, session=self.session, secret=self.secret))
        await self.fac.start()
        await self.fac.do(c.SetStage, index=NEW_WAYS)
        self.posters = [Connection(Credentials(url=self.url, code=self.code, name=f"Poster {n}")) for n in range(8)]
        # Online and idle: a room of that many people. Bare websockets that say hello and then
        # only read, so that the benchmark's own process (the server's too) stays light: folding
        # every event for 1,000 clients here took a core, and the apps' keys waited for it.
        self.crowd: list[ClientConnection] = []
        self.drains: list[asyncio.Task[None]] = []
        for n in range(self.people):
            ws = await connect(self.url, proxy=None, compression=None, max_size=None, open_timeout=60)
            await ws.send(json.dumps({"type": "hello", "code": self.code, "name": f"Guest {n}"}))
            await ws.recv()  # welcome
            self.crowd.append(ws)
            self.drains.append(asyncio.create_task(drain(ws)))
        for p in self.posters:
            await p.start()
        self.posted = 0

    async def fill(self, total: int) -> None:
        """Post ideas until the board holds ``total``, as fast as the server takes them."""

        async def post(p: Connection, n: int) -> None:
            for _ in range(n):
                self.posted += 1
                await p.do(c.PostIdea, category="idea", text=f"Idea {self.posted:05d}: a way to win more leads")

        missing = total - self.posted
        share = [missing // len(self.posters) + (i < missing % len(self.posters)) for i in range(len(self.posters))]
        await asyncio.gather(*(post(p, n) for p, n in zip(self.posters, share, strict=True)))

    async def paced(self, count: int, rate: float) -> None:
        for n in range(count):
            self.posted += 1
            p = self.posters[n % len(self.posters)]
            p.send_nowait(c.PostIdea(id=p.new_id(), category="idea", text=self.live_text()))
            await asyncio.sleep(1 / rate)

    def live_text(self) -> str:
        """A live idea's text: sorted before every filled one ("A live ..."), or next to a random one of them."""
        if self.land == "top":
            return f"A live idea {self.posted}"
        # Numbers are zero-padded so the board's order (by text) is theirs: unpadded, every live
        # idea numbered 1000 or more ("Idea 1003b") sorted among the first lines of the board.
        return f"Idea {self.random.randrange(1, self.posted):05d}b: posted live {self.posted}"

    def seat_dir(self) -> Path:
        data = self.tmp / "data"
        seat = Seat(url=self.url, code=self.code, role="facilitator", credential=self.secret, session=self.session)
        Seats(data / "workshop" / "seats").save(seat)
        return data

    async def close(self) -> None:
        for conn in (self.fac, *self.posters):
            await conn.close()
        for ws in self.crowd:
            await ws.close()
        for task in self.drains:
            task.cancel()
        self.server.close()
        await self.server.wait_closed()
        self.app.close()


async def drain(ws: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _frame in ws:
            pass


def launch_apps(room: Room, name: str = "Bench", env: dict[str, str] | None = None) -> dict[str, PtyApp]:
    """A participant and the host (resuming the room's seat), each on its own terminal.

    ``env`` is theirs (default: the room's seats as their data directory).
    """
    env = env or {"XDG_DATA_HOME": str(room.seat_dir())}
    apps = {
        "participant": PtyApp([*PY, "cli", "join", f"{room.url}/{room.code}", "--name", name], env=env),
        "host": PtyApp([*PY, "cli", "host", "--server", room.url, "--resume", room.code], env=env),
    }
    return apps


async def settle(apps: dict[str, PtyApp]) -> None:
    settled = await asyncio.gather(*(asyncio.to_thread(a.settle) for a in apps.values()))
    for name, done in zip(apps, settled, strict=True):
        if not done:
            print(f"  the {name} app was still busy after 60 s", file=sys.stderr)


async def idle_rate(apps: dict[str, PtyApp], seconds: float = 2.0) -> dict[str, float]:
    """CPU seconds per second each app spends with nothing happening (its timers)."""
    before = {k: a.cpu() for k, a in apps.items()}
    await asyncio.sleep(seconds)
    return {k: (a.cpu() - before[k]) / seconds for k, a in apps.items()}


async def per_event(
    room: Room, apps: dict[str, PtyApp], idle: dict[str, float], count: int, profile: str = "", out: str = ""
) -> dict[str, float]:
    """ms of CPU per event for each app, and per change for the floor beside them (``floor``, if there)."""
    before = {k: a.cpu() for k, a in apps.items()}
    t0 = time.monotonic()
    beside = apps.get("floor")
    if beside is not None:  # it makes ``count`` changes at 5 a second too, from now
        beside.watch("FLOOR DONE")
        beside.write("g")
    spy = None
    if profile:  # py-spy samples that app while the events arrive (pip install py-spy)
        argv = ["py-spy", "record", "--rate", "1000", "--pid", str(apps[profile].pid), "--format", "raw", "-o", out]
        argv += ["--nonblocking"]
        spy = await asyncio.create_subprocess_exec(*argv, "--duration", str(int(count / 5) + 1))
    await room.paced(count, rate=5.0)
    if spy is not None:
        await spy.wait()
    if beside is not None:
        await asyncio.to_thread(beside.wait_for, "FLOOR DONE", 30.0)
    await settle(apps)
    elapsed = time.monotonic() - t0
    return {k: 1000 * max(0.0, a.cpu() - before[k] - idle[k] * elapsed) / count for k, a in apps.items()}


async def busy(room: Room, apps: dict[str, PtyApp], seconds: float) -> tuple[dict[str, float], list[float]]:
    """CPU share at 25 events a second, and keypress latencies meanwhile (participant's idea box)."""
    before = {k: a.cpu() for k, a in apps.items()}
    t0 = time.monotonic()
    typist = apps["participant"]
    latencies: list[float] = []

    async def type_keys() -> None:
        keys = KEYS[: int(seconds * 12)]
        for key in keys:
            typist.watch(key)
            sent = typist.write(key)
            try:
                shown = await asyncio.to_thread(typist.wait_for, key, 5.0)
                latencies.append(1000 * (shown - sent))
            except TimeoutError:
                latencies.append(5000.0)
            await asyncio.sleep(max(0.0, 1 / 12 - (time.perf_counter() - sent)))
        typist.write("\x15")  # ctrl+u: clear the box again

    await asyncio.gather(room.paced(int(seconds * 25), rate=25.0), type_keys())
    elapsed = time.monotonic() - t0
    return {k: (a.cpu() - before[k]) / elapsed for k, a in apps.items()}, latencies


def floor(kind: str, updates: int) -> float:
    """ms of CPU per visible change for one of bench.floor_app's apps, on the same kind of terminal."""
    app = PtyApp([*PY, "bench.floor_app", kind, "--updates", str(updates), "--rate", "5"])
    try:
        app.settle()
        idle_before = app.cpu()
        time.sleep(2.0)
        idle = (app.cpu() - idle_before) / 2.0
        app.watch("FLOOR DONE")
        before, t0 = app.cpu(), time.monotonic()
        app.write("g")
        app.wait_for("FLOOR DONE", timeout=updates / 5 + 30)
        app.settle()
        elapsed = time.monotonic() - t0
        spent = app.cpu() - before
        # CPU time comes in clock ticks (10 ms): when the idle estimate swallows the whole
        # cost, the cost without it is the honest upper bound rather than zero.
        net = spent - idle * elapsed
        return 1000 * (net if net > 0 else spent) / updates
    finally:
        app.close()


async def measure(
    board: int, quick: bool, profile: str = "", land: str = "top", people: int = 0, rounds: int = 1
) -> Row:
    with tempfile.TemporaryDirectory() as tmp:
        room = Room(Path(tmp), land, people)
        await room.open()
        apps: dict[str, PtyApp] = {}
        try:
            await room.fill(board)
            apps = launch_apps(room)
            count = 20 if quick else 40
            apps["floor"] = PtyApp([*PY, "bench.floor_app", "static", "--updates", str(count), "--rate", "5"])
            await settle(apps)
            row = Row(board)
            out = f"tui-{profile}-{board}.txt"
            measured = []
            for n in range(rounds):  # the floor beside makes its changes again with each round
                idle = await idle_rate(apps)
                measured.append(await per_event(room, apps, idle, count, profile if n == 0 else "", out))
            row.ms_per_event = {name: statistics.median(m[name] for m in measured) for name in apps}
            row.ratios = {name: [m[name] / m["floor"] for m in measured] for name in ("participant", "host")}
            if profile:
                print(f"  profile of the {profile} app at {board} ideas: {out} (python -m bench.profile_summary {out})")
            row.busy_share, row.keypress_ms = await busy(room, apps, 3.0 if quick else 8.0)
            for name, app in apps.items():
                if not app.alive():
                    print(f"  {name} app exited during the run", file=sys.stderr)
            return row
        finally:
            for app in apps.values():
                app.close()
            await room.close()


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", default="40,200,1000,5000", help="board sizes (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="fewer events and a shorter busy phase")
    parser.add_argument(
        "--land", choices=("top", "anywhere"), default="top",
        help="where each new idea lands on the board: at its top (every line below moves) or anywhere",
    )  # fmt: skip
    parser.add_argument("--profile", choices=("participant", "host"), help="sample that app with py-spy per board")
    parser.add_argument(
        "--people", type=int, default=0, metavar="N",
        help="N more participants in the room, online and idle (default: none besides the 8 posters)",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, metavar="N",
        help="measure the events per board N times, each beside its own floor, and take the median "
        "(default 3, with --quick 1): one round moves by a fifth between runs on a shared machine",
    )  # fmt: skip
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    boards = [int(b) for b in args.boards.split(",")]
    updates = 20 if args.quick else 40
    floor_ms = floor("static", updates)
    floor_list_ms = floor("optionlist", updates)
    floor_tabbed_ms = floor("tabbed", updates)
    print(
        f"floor alone: one Static line {floor_ms:.1f} ms/change, one option added to 1000 "
        f"{floor_list_ms:.1f} ms/change, one line on a screen laid out like the apps' {floor_tabbed_ms:.1f} ms/change"
    )
    print(f"new ideas land {'at the top of the board' if args.land == 'top' else 'anywhere on the board'}")
    if args.people:
        print(f"a room of {args.people + 8} participants ({args.people} of them online and idle)")
    rows = []
    for board in boards:
        row = asyncio.run(measure(board, args.quick, args.profile or "", args.land, args.people, rounds))
        rows.append(row)
        beside = row.ms_per_event["floor"]
        parts = [f"floor beside {beside:.1f} ms"]
        for name in ("participant", "host"):
            ms, ratios = row.ms_per_event[name], row.ratios[name]
            spread = f"; rounds {min(ratios):.1f}-{max(ratios):.1f}x" if len(ratios) > 1 else ""
            parts.append(
                f"{name} {ms:6.1f} ms/event ({statistics.median(ratios):4.1f}x floor{spread}), "
                f"{100 * row.busy_share[name]:3.0f}% at 25/s"
            )
        print(f"board {board:>5}: " + "; ".join(parts) + f"; keypress p99 {p99(row.keypress_ms):.0f} ms", flush=True)
    at = next((r for r in rows if r.board == 1000), rows[-1])
    ratios = " ".join(f"{name}_x_floor@{at.board}={statistics.median(at.ratios[name]):.2f}" for name in at.ratios)
    print(f"{ratios} (median of {rounds} round{'s' if rounds != 1 else ''})")
    print(
        f"tui participant_ms_per_event@{at.board}={at.ms_per_event['participant']:.1f} "
        f"host_ms_per_event@{at.board}={at.ms_per_event['host']:.1f} floor_ms={at.ms_per_event['floor']:.1f} "
        f"keypress_p99_ms={p99(at.keypress_ms):.0f}"
    )
    first = rows[0]
    for name in ("participant", "host"):
        growth = at.ms_per_event[name] / max(first.ms_per_event[name], 0.01)
        print(f"  {name}: cost at {at.board} ideas is {growth:.2f}x its cost at {first.board}")


if __name__ == "__main__":
    main()
