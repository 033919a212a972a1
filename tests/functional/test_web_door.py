"""Joining from a browser: the web door serves the participant app, which asks the name and joins.

The browser is a real headless Chromium (Debian's ``chromium``) driven over DevTools; the test
skips, saying so, where none is installed. ``WORKSHOP_SCREENSHOTS=DIR`` keeps the page's picture.
"""

from __future__ import annotations

import asyncio
import os
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from client.connection import Connection
from doors.web import WebDoor
from tests.browser import CHROMIUM, Browser
from tests.conftest import LiveServer, start_server, stop_server


def _online(conn: Connection) -> list[str]:
    assert conn.state is not None
    return [conn.state.participants[p].name for p in conn.online if p in conn.state.participants]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, Connection, str]]:
    live = await start_server(tmp_path / "workshop.db")
    fay, code = await live.facilitator(goal="Thirty new leads a month")
    door = WebDoor(live.url, code, limit=live.app.limits.remote_sessions)
    url = await door.start("127.0.0.1", 0, "127.0.0.1")
    try:
        yield live, fay, url
    finally:
        await door.close()
        await stop_server(live)


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here: install Debian's `chromium` to try the web door")
async def test_a_browser_tab_is_enough_to_join(served: tuple[LiveServer, Connection, str]) -> None:
    """Without this, someone with no terminal at hand could not take part at all."""
    _, fay, url = served
    async with Browser(url, (1000, 640)) as page:
        # The page shows nothing the test can read (the terminal is drawn on a canvas), so the
        # name is typed until the room has her: keys typed before the app is up are dropped.
        for _ in range(10):
            await page.click(990, 5)  # the page's focus into the terminal, on the status line (no control there)
            await page.type("Ana")
            await page.enter()
            try:
                await fay.until(lambda: "Ana" in _online(fay), 3)
                break
            except TimeoutError:
                continue
        assert "Ana" in _online(fay)
        if shots := os.environ.get("WORKSHOP_SCREENSHOTS"):
            await page.screenshot(Path(shots) / "web-participant.png")
    await fay.until(lambda: "Ana" not in _online(fay), 20)  # the tab closed: she left the room


async def test_a_full_door_says_so(tmp_path: Path) -> None:
    """Without this, the hundredth tab would start the hundredth app process on the host's machine."""
    live = await start_server(tmp_path / "workshop.db")
    _, code = await live.facilitator()
    door = WebDoor(live.url, code, limit=0)
    url = await door.start("127.0.0.1", 0, "127.0.0.1")
    try:
        with pytest.raises(urllib.error.HTTPError) as full:
            await asyncio.to_thread(urllib.request.urlopen, url, timeout=10)
        assert full.value.code == 503
        assert "The workshop is full (0 remote participants)" in full.value.read().decode()
    finally:
        await door.close()
        await stop_server(live)
