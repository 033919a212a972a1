"""Does a live participant's app stay online in a flood? ``python -m bench.flood [--ideas 14000]``.

Twenty protocol clients post ``--ideas`` ideas as fast as the server takes them (command rate
limits lifted, everything else at the defaults: a connection whose unsent output passes 4 MiB
is cut). Meanwhile the real ``workshop join`` app runs on a 120x40 pseudo-terminal. Printed: how
long the flood took, whether the app ever showed "reconnecting" (it was cut for falling behind),
how long after the last post its status line counted every idea (it had drawn everything), and
its CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench.pty_app import PtyApp
from client.connection import Connection, Credentials, create_session
from server.app import port_of, start
from server.limits import Limits
from workshop import commands as c

NEW_WAYS = 5


async def run(ideas: int, posters: int) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        limits = Limits(commands_per_second=1e9, command_burst=10**9)  # only the posting rate is lifted
        server, app = await start("127.0.0.1", 0, Path(tmp) / "w.db", limits=limits)
        url = f"ws://127.0.0.1:{port_of(server)}"
        created = await create_session(url, goal="30 new leads a month")
        fac = Connection(Credentials(url=url, session=created.session, secret=created.secret))
        await fac.start()
        await fac.do(c.SetStage, index=NEW_WAYS)
        clients = [Connection(Credentials(url=url, code=created.code, name=f"Poster {n}")) for n in range(posters)]
        for p in clients:
            await p.start()
        env = {"XDG_DATA_HOME": str(Path(tmp) / "data")}
        live = PtyApp([sys.executable, "-m", "cli", "join", f"{url}/{created.code}", "--name", "Live"], env=env)
        try:
            live.watch("● online")
            await asyncio.to_thread(live.wait_for, "● online", 60.0)
            live.watch("reconnecting")
            share = ideas // posters
            on_board = f"{share * posters:,} ideas"
            live.watch(on_board)
            cpu0, t0 = live.cpu(), time.perf_counter()

            async def post(p: Connection, n: int, start: int) -> None:
                for k in range(n):
                    await p.do(c.PostIdea, category="idea", text=f"Idea {start + k}: a way to win more leads")

            await asyncio.gather(*(post(p, share, n * share) for n, p in enumerate(clients)))
            posted = time.perf_counter() - t0
            quiet = await asyncio.to_thread(live.wait_for, on_board, 300.0) - t0 - posted
            cut = live.seen("reconnecting") > 0
            cpu = live.cpu() - cpu0
            print(f"{share * posters} ideas posted by {posters} clients in {posted:.1f} s "
                  f"({share * posters / posted:.0f}/s)")  # fmt: skip
            state = "CUT (showed reconnecting)" if cut else "online throughout"
            share_of_core = cpu / (posted + quiet)
            print(f"live app: {state}; every idea counted on its screen {quiet:.1f} s after the last post; "
                  f"{cpu:.1f} s CPU ({share_of_core:.0%} of a core)")  # fmt: skip
            print(f"flood ideas={share * posters} cut={int(cut)} drawn_after_s={quiet:.1f}")
            return not cut
        finally:
            live.close()
            for conn in (fac, *clients):
                await conn.close()
            server.close()
            await server.wait_closed()
            app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=14000, help="ideas in the flood (default %(default)s)")
    parser.add_argument("--posters", type=int, default=20, help="posting clients (default %(default)s)")
    args = parser.parse_args()
    sys.exit(0 if asyncio.run(run(args.ideas, args.posters)) else 1)


if __name__ == "__main__":
    main()
