"""Provides Terminal: a real program in a real terminal (a tmux pane), read back as the user sees it.

Functional tests that must run the actual ``workshop`` commands as processes (killed with -9,
quit and started again) drive them here: keys go in with ``send-keys``, the screen comes back
with ``capture-pane``. Each Terminal has its own tmux server (``-L``), so tests never touch the
user's sessions and every pane goes when the test ends.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

WORKSHOP = [sys.executable, "-m", "cli"]


def need_tmux() -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed: these tests run the apps in a real terminal")


class Terminal:
    def __init__(self, env: dict[str, str], size: tuple[int, int] = (100, 30)) -> None:
        need_tmux()
        self.socket = f"workshop-test-{secrets.token_hex(4)}"
        self.env = {**os.environ, **env, "TERM": "xterm-256color"}
        self.size = size
        self.panes: dict[str, str] = {}

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=self.env)
        return done.stdout

    def run(self, name: str, argv: list[str]) -> None:
        """Start ``argv`` in a new pane called ``name`` (its process is the pane's own, no shell)."""
        command = " ".join(_quote(a) for a in argv)
        w, h = self.size
        cwd = str(Path(__file__).resolve().parents[1])
        new = ["new-session", "-d", "-s", name, "-x", str(w), "-y", str(h), "-c", cwd]
        env = [f"-e{k}={v}" for k, v in self.env.items() if k in ("XDG_DATA_HOME", "TERM", "PYTHONPATH")]
        self._tmux(*new, *env, f"exec {command}")
        self._tmux("set-option", "-t", name, "remain-on-exit", "on")
        self.panes[name] = name

    def screen(self, name: str) -> str:
        return self._tmux("capture-pane", "-p", "-t", name)

    def pid(self, name: str) -> int:
        return int(self._tmux("display-message", "-p", "-t", name, "#{pane_pid}").strip())

    def keys(self, name: str, *keys: str) -> None:
        self._tmux("send-keys", "-t", name, *keys)

    def type(self, name: str, text: str) -> None:
        self._tmux("send-keys", "-t", name, "-l", text)

    def kill(self, name: str) -> None:
        """SIGKILL the pane's program: no goodbye, no flush, as in a crash."""
        os.kill(self.pid(name), signal.SIGKILL)

    def dead(self, name: str) -> bool:
        return self._tmux("display-message", "-p", "-t", name, "#{pane_dead}").strip() == "1"

    async def wait_for(self, name: str, text: str, timeout: float = 20.0) -> str:
        """The screen once it shows ``text`` (polled: a terminal has no event to wait on)."""
        try:
            async with asyncio.timeout(timeout):
                while text not in (screen := self.screen(name)):
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise AssertionError(f"{name!r} never showed {text!r}; it shows:\n{self.screen(name)}") from None
        return screen

    async def wait_for_exit(self, name: str, timeout: float = 20.0) -> None:
        try:
            async with asyncio.timeout(timeout):
                while not self.dead(name):
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise AssertionError(f"{name!r} did not exit; it shows:\n{self.screen(name)}") from None

    def close(self) -> None:
        self._tmux("kill-server")


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"
