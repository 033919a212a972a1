"""Provides ``serve`` and ``kill``: a real ``workshop serve`` process on 127.0.0.1, and a SIGKILL for it."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path


async def serve(db: Path | str, port: int = 0, *extra: str) -> tuple[asyncio.subprocess.Process, int]:
    """Start ``workshop serve`` on ``db``; return the process and the port it printed once listening."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(db), *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    async with asyncio.timeout(30):
        line = (await proc.stdout.readline()).decode()
    assert "workshop server on ws://127.0.0.1:" in line, line
    return proc, int(line.split("ws://127.0.0.1:")[1].split()[0])


async def kill(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL: no flush, no close, no goodbye (a no-op if it already ended)."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGKILL)
    await proc.wait()
