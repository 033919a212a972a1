"""Provides the outbox: how frames reach one connection, synchronously and bounded.

Frames are written at once with websockets' ``broadcast()`` (no task, no await per
delivery), so every frame keeps the order it was given in. ``broadcast()`` has no
backpressure, so before each write the connection's unsent bytes are checked: past the
bound the transport is aborted and the client resumes by sequence number when it comes
back. A stalled terminal therefore costs
the server a bounded buffer and never delays anyone else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

from websockets.asyncio.server import ServerConnection, broadcast

BATCH_OPEN = b'{"type":"batch","events":['


def batch(frames: list[bytes]) -> bytes:
    """One frame for several encoded events: a single event goes as itself."""
    if len(frames) == 1:
        return frames[0]
    return BATCH_OPEN + b",".join(frames) + b"]}"


class Sink(Protocol):
    """Where one connection's frames go: an :class:`Outbox` on a socket, or a recorder in a test."""

    def put(self, frame: bytes) -> None: ...

    def close(self, reason: str) -> None:
        """End the connection after what was put so far (a policy close: do not come back)."""


# Sends one frame to many sinks; the room is handed one so that tests can drive its fan-out.
Deliver = Callable[[Sequence[Sink], bytes], None]


class Outbox:
    def __init__(self, ws: ServerConnection, limit_bytes: int) -> None:
        self.ws = ws
        self.limit = limit_bytes
        self.overflowed = False

    def cut(self) -> bool:
        """Abort a connection found over its bound; False, so it drops out of a send list."""
        self.overflowed = True
        self.ws.transport.abort()
        return False

    def put(self, frame: bytes) -> None:
        broadcast(open_sockets((self,)), frame, text=True)

    def close(self, reason: str) -> None:
        self._closing = asyncio.get_running_loop().create_task(self.ws.close(1008, reason))


def open_sockets(outboxes: Sequence[Outbox]) -> list[ServerConnection]:
    """The connections of ``outboxes`` still within their bound, cutting those past it.

    This runs once per delivery on the hot path, hence one comprehension and no method
    call for a connection that keeps up. ``broadcast()`` itself skips connections that
    are no longer open.
    """
    return [
        o.ws for o in outboxes if not o.overflowed and (o.ws.transport.get_write_buffer_size() <= o.limit or o.cut())
    ]


def deliver(outboxes: Sequence[Outbox], frame: bytes) -> None:  # type: ignore[misc]
    """Write ``frame`` to every connection still within its bound: one encode, one write each."""
    broadcast(open_sockets(outboxes), frame, text=True)
