"""Baseline for the many-rooms benchmark: a plain websockets server that re-broadcasts within a room.

A ``hello`` names the room; every later message is decoded with msgspec (as the workshop server
decodes every command) and sent unchanged to every connection of that room with
``websockets.broadcast()``. No log, no rules, no acks: the floor for ``bench.rooms``.

Run: ``python -m bench.raw_rooms --port P`` (prints ``ready`` once listening).
"""

from __future__ import annotations

import argparse
import asyncio

import msgspec
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from bench.raw_server import raise_nofile

decoder = msgspec.json.Decoder(dict)


async def main(port: int) -> None:
    rooms: dict[str, set[ServerConnection]] = {}

    async def handler(ws: ServerConnection) -> None:
        hello = decoder.decode(await ws.recv())
        room = rooms.setdefault(str(hello.get("room")), set())
        room.add(ws)
        await ws.send('{"type":"welcome","seq":0}')
        try:
            async for frame in ws:
                decoder.decode(frame)
                broadcast(room, frame)
        except ConnectionClosed:
            pass
        finally:
            room.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=5, ping_timeout=5, origins=[None]):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    raise_nofile()
    asyncio.run(main(parser.parse_args().port))
