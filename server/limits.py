"""Provides the limits that keep one client from hurting the others: sizes and rates."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Limits:
    max_frame: int = 16 * 1024  # bytes in one client message
    commands_per_second: float = 20.0
    command_burst: int = 40
    join_failures_per_minute: int = 10  # wrong codes/secrets/tokens from one address
    creates_per_minute: int = 10  # new sessions from one address
    outbox_bytes: int = 4 * 1024 * 1024  # unsent bytes before a connection is cut
    ping_interval: float = 5.0
    ping_timeout: float = 5.0
    close_timeout: float = 2.0  # a peer that missed its pings is not waited on longer than this
    room_idle_seconds: float = 300.0  # a session nobody is in leaves memory after this long
    tail_events: int = 2000  # events per loaded session kept encoded for resumes
    join_linger: float = 0.1  # seconds news of arrivals may wait, so a crowd joining shares frames (0: none)
    remote_sessions: int = 50  # participants in at once through a door (SSH, browser): one app process each
    # How long the oldest write may wait to be made durable before new commands are answered
    # "busy" (and kept by their senders) rather than queued behind it with their acks ever
    # later: a stalled disk, or more offered than the server can commit. Measured in time, not
    # writes: a room of 1,000 casting 3,000 dots at once is a burst, not a backlog.
    unsaved_seconds: float = 5.0


@dataclass(slots=True)
class TokenBucket:
    """Allow ``rate`` actions a second with bursts up to ``burst``."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self, now: float | None = None) -> float:
        """Spend one token; return 0 when allowed, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class AttemptCounter:
    """Counts attempts (failed credentials, new sessions) per address in a sliding minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, list[float]] = {}

    def wait(self, address: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        recent = [t for t in self._seen.get(address, ()) if now - t < 60]
        self._seen[address] = recent
        if len(recent) < self.per_minute:
            return 0.0
        return 60 - (now - recent[0])

    def record(self, address: str, now: float | None = None) -> None:
        self._seen.setdefault(address, []).append(time.monotonic() if now is None else now)
