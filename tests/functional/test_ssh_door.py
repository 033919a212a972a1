"""Joining with nothing installed: ``ssh -p PORT CODE@host`` runs the participant app, and nothing else.

The visitor here is asyncssh's client, as an ``ssh`` command would be; the app behind the door is
the real ``workshop join`` process on a pseudo-terminal, against a real server on loopback.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

from client.connection import Connection
from doors.ssh import FORWARDING, SshDoor
from server.limits import Limits
from tests.conftest import LiveServer, start_server, stop_server

GOAL = "Thirty new leads a month"
ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\x1b\][^\x07]*\x07")


@dataclass
class Door:
    live: LiveServer
    door: SshDoor
    port: int

    async def visit(self, username: str, **kw: object) -> asyncssh.SSHClientConnection:
        kw.setdefault("client_keys", None)  # by default the visitor offers no key, as a fresh laptop would
        kw.setdefault("password", "")  # OpenSSH answers the door's empty keyboard-interactive round by itself
        return await asyncssh.connect(
            "127.0.0.1", self.port, username=username, known_hosts=None, agent_path=None, **kw
        )  # type: ignore[arg-type]


async def _door(tmp_path: Path, limits: Limits | None = None) -> Door:
    live = await start_server(tmp_path / "workshop.db", limits=limits)
    door = SshDoor(live.app, live.url, tmp_path / "ssh-seats", tmp_path / "host_key")
    return Door(live, door, await door.start("127.0.0.1", 0))


@pytest.fixture
async def door(tmp_path: Path) -> AsyncIterator[Door]:
    d = await _door(tmp_path)
    try:
        yield d
    finally:
        d.door.close()
        await stop_server(d.live)


class Screen:
    """What an ssh visitor's terminal has received, without the escape sequences."""

    def __init__(self, process: asyncssh.SSHClientProcess[str]) -> None:
        self.process = process
        self.text = ""

    async def until(self, pattern: str, timeout: float = 20.0) -> str:
        async def read() -> str:
            while not re.search(pattern, self.text):
                chunk = await self.process.stdout.read(65536)
                if not chunk:
                    raise AssertionError(f"the session ended before {pattern!r}; it showed:\n{self.text[-2000:]}")
                self.text += ANSI.sub("", chunk)
            return self.text

        return await asyncio.wait_for(read(), timeout)


def _online(conn: Connection) -> list[str]:
    assert conn.state is not None
    return [conn.state.participants[p].name for p in conn.online if p in conn.state.participants]


async def _app(conn: asyncssh.SSHClientConnection) -> tuple[asyncssh.SSHClientProcess[str], Screen]:
    process = await conn.create_process(term_type="xterm-256color", term_size=(100, 30))
    return process, Screen(process)


async def test_the_join_code_as_user_name_puts_a_person_in_the_room(door: Door) -> None:
    """Without this, someone without Python could not take part; the host must see them, they the goal."""
    fay, code = await door.live.facilitator(goal=GOAL)
    async with await door.visit(code) as conn:
        process, screen = await _app(conn)
        await screen.until("Your name")
        process.stdin.write("Ana\r")
        await fay.until(lambda: "Ana" in _online(fay))
        await screen.until("Thirty new")  # the goal is on the visitor's screen
        process.stdin.write("\x11")  # ctrl+q: the app ends, and with it the session
        await asyncio.wait_for(process.wait_closed(), 20)
    await fay.until(lambda: "Ana" not in _online(fay), 20)


async def test_a_command_runs_nothing_and_says_why(door: Door, tmp_path: Path) -> None:
    """Without this, the door would be a shell on the facilitator's machine."""
    fay, code = await door.live.facilitator(goal=GOAL)
    witness = tmp_path / "ran"
    async with await door.visit(code) as conn:
        result = await conn.run(f"touch {witness}", check=False)
        assert result.exit_status == 1
        assert "runs the workshop app only" in str(result.stderr)
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.start_sftp_client()
        no_tty = await conn.run(check=False)  # `ssh -T`: a session without a terminal
        assert "needs a terminal" in str(no_tty.stderr)
    assert not witness.exists()
    assert [p.name for p in fay.state.participants.values()] == [fay.state.participants[fay.you].name]


async def test_forwarding_cannot_reach_the_server_behind_the_door(door: Door) -> None:
    """Without this, a visitor could tunnel to the websocket server or anything else on loopback."""
    _, code = await door.live.facilitator()
    port = int(door.live.url.rsplit(":", 1)[1])
    async with await door.visit(code) as conn:
        with pytest.raises(asyncssh.ChannelOpenError) as refused:
            await conn.open_connection("127.0.0.1", port)
        assert refused.value.reason == FORWARDING
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.start_server(lambda *_: None, "127.0.0.1", 0)


async def test_wrong_codes_are_refused_and_count_like_a_hello(door: Door) -> None:
    """Without this, the door would be a faster way to guess join codes than the websocket."""
    _, code = await door.live.facilitator()
    for _ in range(door.live.app.limits.join_failures_per_minute):
        with pytest.raises(asyncssh.PermissionDenied):
            await door.visit("ABCDE-FGHJK")
    with pytest.raises(asyncssh.PermissionDenied):
        await door.visit(code)  # the right code too, now: this address has used up its guesses


async def test_the_cap_on_remote_sessions_is_said_plainly(tmp_path: Path) -> None:
    """Without this, fifty visitors more would mean fifty app processes more, until the machine gives."""
    d = await _door(tmp_path, Limits(remote_sessions=1))
    try:
        _, code = await d.live.facilitator()
        async with await d.visit(code) as first, await d.visit(code) as second:
            _, screen = await _app(first)
            await screen.until("Your name")
            full = await second.run(term_type="xterm", check=False)
            assert full.exit_status == 1
            assert "the workshop is full (1 remote participants)" in str(full.stderr)
    finally:
        d.door.close()
        await stop_server(d.live)


async def test_a_visitor_with_a_key_comes_back_as_the_same_person(door: Door) -> None:
    """Without this, a dropped SSH connection would make a second Ana, with none of her ideas or dots."""
    fay, code = await door.live.facilitator(goal=GOAL)
    key = asyncssh.generate_private_key("ssh-ed25519")
    async with await door.visit(code, client_keys=[key]) as conn:
        process, screen = await _app(conn)
        await screen.until("Your name")
        process.stdin.write("Ana\r")
        await fay.until(lambda: "Ana" in _online(fay))
    # The connection dropped without a goodbye; she comes back with the same key and is not asked again.
    await fay.until(lambda: "Ana" not in _online(fay), 20)
    async with await door.visit(code, client_keys=[key]) as conn:
        process, screen = await _app(conn)
        await fay.until(lambda: "Ana" in _online(fay))
        await screen.until("Thirty new")
        assert "Your name" not in screen.text
        process.stdin.write("\x11")
        await asyncio.wait_for(process.wait_closed(), 20)
    names = [p.name for p in fay.state.participants.values()]
    assert names.count("Ana") == 1
