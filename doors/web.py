"""Provides the web door: the participant app in a browser tab, through textual-serve.

Each page opened starts one ``workshop join --name-in-app`` process under Textual's web driver
(textual-serve's design), against the workshop server on loopback: the same app, protocol and
rules as a terminal participant; the app asks the name. The door serves the one session of the
host that opened it, so its URL needs no code, and it admits at most ``limit`` pages at once.
A page reload is a new person: a browser keeps no seat (the app's F8 line still brings someone
back from a terminal).
"""

from __future__ import annotations

import html
import logging
import shlex
import shutil
import sys
import tempfile
from typing import Any

from aiohttp import web
from textual_serve.server import Server

logging.getLogger("textual-serve").addHandler(logging.NullHandler())  # never onto the host's screen
logging.getLogger("textual-serve").propagate = False


class WebDoor(Server):
    """textual-serve's server, run inside the host's event loop, with a cap on open pages."""

    def __init__(self, ws_url: str, code: str, limit: int) -> None:
        self.seats = tempfile.mkdtemp(prefix="workshop-web-")  # the app processes' data dir, dropped on close
        command = shlex.join([
            "env", f"XDG_DATA_HOME={self.seats}",
            sys.executable, "-m", "cli", "join", f"{ws_url}/{code}", "--name-in-app",
        ])  # fmt: skip
        super().__init__(command, title="workshop")
        self.limit = limit
        self.active = 0
        self.runner: web.AppRunner | None = None

    async def start(self, host: str, port: int, public_host: str) -> str:
        """Listen on ``host:port`` (0: any free port); returns the URL to give people."""
        self.runner = web.AppRunner(await self._make_app())
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        bound = self.runner.addresses[0][1]
        self.host, self.port = host, bound
        self.public_url = f"http://{public_host}:{bound}"
        return self.public_url + "/"

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        shutil.rmtree(self.seats, ignore_errors=True)

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints a banner here; the host's screen is not a log."""

    def _full(self) -> web.Response:
        message = f"The workshop is full ({self.limit} remote participants). Try again later."
        return web.Response(status=503, text=f"<!doctype html><title>workshop</title><p>{html.escape(message)}</p>",
                            content_type="text/html")  # fmt: skip

    async def handle_index(self, request: web.Request) -> Any:
        if self.active >= self.limit:
            return self._full()
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if self.active >= self.limit:
            return self._full()
        self.active += 1
        try:
            return await super().handle_websocket(request)
        finally:
            self.active -= 1
