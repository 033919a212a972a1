"""Provides RawTap: a bare websocket connection that keeps every frame the server sends it.

Tests use it to check what crossed the wire to someone, independent of the client library.
"""

from __future__ import annotations

import asyncio
import contextlib

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from workshop.protocol import Hello, encode


class RawTap:
    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self._arrived = asyncio.Condition()
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str, hello: Hello) -> RawTap:
        tap = cls()
        tap._ws = await connect(url, proxy=None, compression=None)
        await tap._ws.send(encode(hello), text=True)
        tap._task = asyncio.create_task(tap._pump())
        return tap

    async def _pump(self) -> None:
        assert self._ws is not None
        with contextlib.suppress(ConnectionClosed):
            async for raw in self._ws:
                async with self._arrived:
                    self.frames.append(raw if isinstance(raw, bytes) else raw.encode())
                    self._arrived.notify_all()

    async def wait_for_seq(self, seq: int, timeout: float = 10.0) -> None:
        marker = f'"seq":{seq},'.encode()
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: any(marker in f for f in self.frames))

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            await self._task
