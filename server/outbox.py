"""Provides the outbox: each connection's bounded send queue, drained by one writer task.

websockets' ``broadcast()`` has no backpressure: a stalled reader's buffer grows until its
keepalive times out, and that timeout waits on the same drain. Here every connection
queues pre-encoded frames; consecutive events are coalesced into one ``batch`` frame per
drain, and a connection whose backlog passes the bound is aborted (it resumes by
sequence number when it comes back), so one slow terminal never holds up the room.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

BATCH_OPEN = b'{"type":"batch","events":['


class Outbox:
    def __init__(self, ws: ServerConnection, limit_bytes: int) -> None:
        self.ws = ws
        self.limit = limit_bytes
        self._frames: deque[tuple[bool, bytes]] = deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self.overflowed = False
        self._task = asyncio.get_running_loop().create_task(self._drain())

    def put(self, frame: bytes, *, event: bool = False) -> None:
        if self.overflowed:
            return
        self._frames.append((event, frame))
        self._queued += len(frame)
        if self._queued > self.limit:
            self.overflowed = True
            self._frames.clear()
            transport = self.ws.transport
            if transport is not None:
                transport.abort()
            return
        self._wake.set()

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _drain(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._frames:
                    frame = self._take()
                    await self.ws.send(frame, text=True)
        except ConnectionClosed:
            pass

    def _take(self) -> bytes:
        """The next frame to send: one message, or every queued event in one batch."""
        is_event, frame = self._frames.popleft()
        self._queued -= len(frame)
        if not is_event or not self._frames or not self._frames[0][0]:
            return frame
        parts = [frame]
        while self._frames and self._frames[0][0]:
            _, f = self._frames.popleft()
            self._queued -= len(f)
            parts.append(f)
        return BATCH_OPEN + b",".join(parts) + b"]}"
