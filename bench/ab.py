"""Provides the side-by-side benchmark: two versions of both apps in one room, taking the same events at once.

``bench.tui`` runs one version and states it against Textual's floor. Between two runs of it,
on this shared 2-core machine, the same code moves by a quarter or more, so a change worth a
tenth cannot be seen that way. Here the apps of two source trees (``--base``, and this one) are
all on their own terminals in the same room at the same time, each version's host and
participant, so each event reaches all four within a millisecond, and whatever slows the
machine slows both. Each round prints CPU per event of each app, as ``bench.tui`` counts it
(from /proc, less what it uses idle), and the ratio of this tree's to the base's.

    git worktree add --detach /tmp/base HEAD~1
    python -m bench.ab --base /tmp/base                    # 1,000 ideas, 6 rounds of 100 events
    python -m bench.ab --base /tmp/base --board 5000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench.pty_app import PtyApp
from bench.tui import Room, idle_rate, launch_apps, per_event, settle

HERE = Path(__file__).resolve().parent.parent


def launch(room: Room, trees: dict[str, Path]) -> dict[str, PtyApp]:
    """Each tree's participant and host, each tree's apps with their own seats (the host resumes the room)."""
    seats = room.seat_dir()
    apps: dict[str, PtyApp] = {}
    for side, tree in trees.items():
        data = seats.with_name(f"data-{side}")
        shutil.copytree(seats, data, dirs_exist_ok=True)
        env = {"XDG_DATA_HOME": str(data), "PYTHONPATH": str(tree)}
        # Names of one length: the status lines are then the same width on both sides.
        pair = launch_apps(room, name=f"Bench{side[0].upper()}", env=env)
        apps.update({f"{app}-{side}": process for app, process in pair.items()})
    return apps


async def run(base: Path, board: int, events: int, rounds: int) -> dict[str, list[float]]:
    ratios: dict[str, list[float]] = {"participant": [], "host": []}
    with tempfile.TemporaryDirectory() as tmp:
        room = Room(Path(tmp), "anywhere")
        await room.open()
        apps: dict[str, PtyApp] = {}
        try:
            await room.fill(board)
            apps = launch(room, {"base": base, "new": HERE})
            await settle(apps)
            for n in range(1, rounds + 1):
                idle = await idle_rate(apps, 4.0)
                ms = await per_event(room, apps, idle, events)
                line = [f"round {n}:"]
                for app in ratios:
                    ratio = ms[f"{app}-new"] / max(ms[f"{app}-base"], 0.001)
                    ratios[app].append(ratio)
                    line.append(f"{app} {ms[f'{app}-base']:.2f} -> {ms[f'{app}-new']:.2f} ms/event ({ratio:.2f}x)")
                print("  ".join(line), flush=True)
                for name, app in apps.items():
                    if not app.alive():
                        print(f"  the {name} app exited during the run", file=sys.stderr)
        finally:
            for app in apps.values():
                app.close()
            await room.close()
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="the source tree to compare with (a git worktree)")
    parser.add_argument("--board", type=int, default=1000, help="ideas on the board (default %(default)s)")
    parser.add_argument("--events", type=int, default=100, help="events per round, at 5 a second (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds (default %(default)s)")
    args = parser.parse_args()
    if not (args.base / "cli" / "main.py").is_file():
        parser.error(f"{args.base} is not a workshop source tree (no cli/main.py)")
    ratios = asyncio.run(run(args.base.resolve(), args.board, args.events, args.rounds))
    summary = " ".join(f"{app}_new_over_base={statistics.median(r):.2f}" for app, r in ratios.items() if r)
    print(f"ab board={args.board} rounds={args.rounds} {summary} (median of rounds)")


if __name__ == "__main__":
    main()
