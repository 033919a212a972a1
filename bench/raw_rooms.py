"""Baseline for the many-rooms benchmark: a plain websockets server that re-broadcasts within a room.

A ``hello`` names the room; every later message is decoded with msgspec (as the workshop server
decodes every command) and sent unchanged to every connection of that room with
``websockets.broadcast()``. No log, no rules, no acks: the floor for ``bench.rooms``.

With ``--durable FILE`` every message is first appended to a SQLite file (WAL,
``synchronous=FULL``: one fsync'd commit per message, on the event loop's own thread, with no
hand-off), then broadcast. That is the least any server can spend that keeps each message on disk
before the room sees it, so it tells how much of the workshop server's cost per post is the
durability the product promises rather than its own work.

Run: ``python -m bench.raw_rooms --port P [--durable FILE]`` (prints ``ready`` once listening).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3

import msgspec
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from bench.raw_server import raise_nofile

decoder = msgspec.json.Decoder(dict)


async def main(port: int, durable: str = "") -> None:
    rooms: dict[str, set[ServerConnection]] = {}
    log = open_log(durable) if durable else None

    async def handler(ws: ServerConnection) -> None:
        hello = decoder.decode(await ws.recv())
        room = rooms.setdefault(str(hello.get("room")), set())
        room.add(ws)
        await ws.send('{"type":"welcome","seq":0}')
        try:
            async for frame in ws:
                decoder.decode(frame)
                if log is not None:
                    log.execute("INSERT INTO messages (room, body) VALUES (?, ?)", (str(hello.get("room")), frame))
                    log.commit()
                broadcast(room, frame)
        except ConnectionClosed:
            pass
        finally:
            room.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=5, ping_timeout=5, origins=[None]):
        print("ready", flush=True)
        await asyncio.Future()


def open_log(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, room TEXT NOT NULL, body TEXT NOT NULL)")
    db.commit()
    return db


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--durable", metavar="FILE", default="", help="commit each message to this SQLite file first")
    args = parser.parse_args()
    raise_nofile()
    asyncio.run(main(args.port, args.durable))
