"""What SSH participants cost the host: ``python -m bench.ssh_door [--n 50]``.

N visitors (asyncssh clients, as ``ssh`` would be) join through the SSH door at once, each
getting its own ``workshop join`` process on a pty; then the room posts ``--events`` ideas at
5 per second. Printed: the time until all are in, the memory of the app processes (RSS and
PSS from /proc, PSS sharing the interpreter's pages fairly), and CPU per participant while
idle and while the room posts, from /proc of the app processes and of this process (which
holds the server and the door).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
from pathlib import Path

import asyncssh

from doors.ssh import SshDoor
from server.limits import Limits
from tests.conftest import start_server, stop_server
from workshop import commands as c

TICK = os.sysconf("SC_CLK_TCK")
_draining: set[asyncio.Future[None]] = set()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids = (task / "children").read_text().split()
        for kid in map(int, kids):
            found += [kid, *_children(kid)]
    return found


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _kib(pid: int, key: str) -> int:
    path = Path(f"/proc/{pid}/smaps_rollup")
    match = re.search(rf"^{key}:\s+(\d+) kB", path.read_text(), re.M)
    return int(match.group(1)) if match else 0


async def _visit(port: int, code: str, name: str) -> asyncssh.SSHClientConnection:
    conn = await asyncssh.connect(
        "127.0.0.1", port, username=code, known_hosts=None, client_keys=None, agent_path=None, password=""
    )
    process = await conn.create_process(term_type="xterm-256color", term_size=(120, 40))
    seen = ""
    while "Your name" not in seen:
        seen += await process.stdout.read(65536)
    process.stdin.write(f"{name}\r")

    async def drain() -> None:  # an ssh client reads what it is sent, as a terminal would
        while await process.stdout.read(65536):
            pass

    _draining.add(asyncio.ensure_future(drain()))
    return conn


async def run(n: int, events: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-ssh-"))
    live = await start_server(tmp / "w.db", Limits(remote_sessions=max(50, n)))
    door = SshDoor(live.app, live.url, tmp / "seats", tmp / "key")
    port = await door.start("127.0.0.1", 0)
    fay, code = await live.facilitator()
    me = os.getpid()
    t0 = time.perf_counter()
    visitors = await asyncio.gather(*(_visit(port, code, f"P{i}") for i in range(n)))

    def online() -> int:
        return len([p for p in fay.online if p != fay.you])

    await fay.until(lambda: online() == n, 120)
    joined = time.perf_counter() - t0
    await asyncio.sleep(3)  # let every app finish its first screen before measuring
    apps = [p for p in _children(me) if "cli" in Path(f"/proc/{p}/cmdline").read_text()]
    rss = sum(_kib(p, "Rss") for p in apps) / len(apps) / 1024
    pss = sum(_kib(p, "Pss") for p in apps) / len(apps) / 1024

    def cpu() -> tuple[float, float]:
        return sum(_cpu(p) for p in apps), _cpu(me)

    a0, s0 = cpu()
    await asyncio.sleep(10)
    a1, s1 = cpu()
    idle = (a1 - a0) / 10 / n * 100
    await fay.do(c.SetStage, index=3)
    t1 = time.perf_counter()
    for i in range(events):
        await fay.do(c.PostIdea, category="start", text=f"Idea number {i} for the bench")
        await asyncio.sleep(max(0.0, t1 + (i + 1) / 5 - time.perf_counter()))
    await asyncio.sleep(2)  # the last frames drawn
    a2, s2 = cpu()
    busy = time.perf_counter() - t1
    per_event_app = (a2 - a1) / n / events * 1000
    print(f"{n} SSH participants in after {joined:.1f} s")
    print(f"app process memory: RSS {rss:.0f} MiB, PSS {pss:.0f} MiB per participant")
    print(f"idle: {idle:.2f} % of a core per participant; server+door process {(s1 - s0) / 10 * 100:.1f} %")
    print(
        f"posting 5/s: {per_event_app:.0f} ms app CPU per participant per event; "
        f"server+door process {(s2 - s1) / busy * 100:.0f} % of a core"
    )
    print(f"ssh_door n={n} rss_mib={rss:.0f} pss_mib={pss:.0f} idle_pct={idle:.2f} ms_per_event={per_event_app:.0f}")
    for v in visitors:
        v.close()
    door.close()
    await stop_server(live)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="SSH participants (default %(default)s)")
    parser.add_argument("--events", type=int, default=20, help="ideas posted at 5/s while all watch")
    args = parser.parse_args()
    asyncio.run(run(args.n, args.events))


if __name__ == "__main__":
    main()
