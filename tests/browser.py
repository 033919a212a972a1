"""A headless Chromium driven over the DevTools protocol, for the web door's tests and screenshot.

Only ``websockets`` (already a dependency) is needed: the page is opened, clicked, typed into and
photographed with four DevTools commands. ``CHROMIUM`` is ``None`` where no browser is installed.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import tempfile
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
]  # fmt: skip


class Browser:
    """One Chromium with one page; ``async with Browser(url, (1000, 640)) as page: ...``."""

    def __init__(self, url: str, size: tuple[int, int]) -> None:
        self.url, self.size = url, size
        self.profile = Path(tempfile.mkdtemp(prefix="workshop-chromium-"))
        self.proc: asyncio.subprocess.Process | None = None
        self.ws: ClientConnection | None = None
        self.ids = itertools.count(1)

    async def __aenter__(self) -> Browser:
        assert CHROMIUM is not None
        self.proc = await asyncio.create_subprocess_exec(
            CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={self.size[0]},{self.size[1]}",
            self.url, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        port_file = self.profile / "DevToolsActivePort"
        async with asyncio.timeout(30):
            while not port_file.exists() or not port_file.read_text().strip():
                await asyncio.sleep(0.1)  # Chromium says its port only through this file
        port = port_file.read_text().split()[0]
        pages = await asyncio.to_thread(_json, f"http://127.0.0.1:{port}/json/list")
        page = next(p for p in pages if p.get("type") == "page")
        self.ws = await connect(page["webSocketDebuggerUrl"], max_size=None, proxy=None)
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        assert self.ws is not None
        cid = next(self.ids)
        await self.ws.send(json.dumps({"id": cid, "method": method, "params": params}))
        while True:
            reply = json.loads(await self.ws.recv())
            if reply.get("id") == cid:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    async def click(self, x: int, y: int) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    async def type(self, text: str) -> None:
        await self.call("Input.insertText", text=text)

    async def enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            await self.call(
                "Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter", windowsVirtualKeyCode=13, text="\r"
            )

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))


def _json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as reply:  # loopback only: Chromium's own DevTools port
        return json.load(reply)
