"""Baseline for the benchmark: a plain websockets server that re-broadcasts what it receives.

Every message is decoded with msgspec (as the workshop server decodes every command), a
``hello`` is answered with a ``welcome`` to that connection only, and anything else is sent
unchanged to every connection with ``websockets.broadcast()``. No log, no state, no
per-connection queue: the floor the workshop server is compared against.

Run: ``python -m bench.raw_server --port P`` (prints ``ready`` once listening).
"""

from __future__ import annotations

import argparse
import asyncio
import resource

import msgspec
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

decoder = msgspec.json.Decoder(dict)
WELCOME = '{"type":"welcome","seq":0}'


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


async def main(host: str, port: int, ping_interval: float, ping_timeout: float) -> None:
    conns: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        conns.add(ws)
        try:
            async for frame in ws:
                msg = decoder.decode(frame)
                if msg.get("type") == "hello":
                    await ws.send(WELCOME)
                else:
                    broadcast(conns, frame)
        except ConnectionClosed:
            pass
        finally:
            conns.discard(ws)

    async with serve(
        handler,
        host,
        port,
        compression=None,
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
        origins=[None],
    ) as server:
        print("ready", flush=True)
        await server.serve_forever()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    # The workshop server's defaults (server/limits.py), so keepalive costs the same.
    parser.add_argument("--ping-interval", type=float, default=5.0)
    parser.add_argument("--ping-timeout", type=float, default=5.0)
    args = parser.parse_args()
    raise_nofile()
    asyncio.run(main(args.host, args.port, args.ping_interval, args.ping_timeout))


if __name__ == "__main__":
    cli()
