"""Provides the SSH door: ``ssh -p 2222 ABCDE-FGHJK@host`` runs the participant app for whoever connects.

The join code is the user name; no password and no key are needed, and wrong codes count
against the address exactly as a websocket ``hello``'s do. Each accepted session runs
``workshop join`` in its own process on a pseudo-terminal sized and resized like the visitor's
window, against the server's websocket on loopback, so the SSH participant is the same app, the
same protocol and the same rules as everyone else. A visitor who offered a public key keeps
their seat by it: coming back with the same key is coming back as the same person. Without a
key, the app's rejoin line (F8) gives ``CODE+TOKEN`` to use as the user name. Shell commands,
subsystems (SFTP), port, agent and X11 forwarding are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import pty
import shutil
import struct
import sys
import tempfile
import termios
from pathlib import Path

import asyncssh

from server.app import HandshakeRefused, WorkshopServer

log = logging.getLogger("workshop.ssh")
FORWARDING = "the workshop door runs the workshop app only: no port or socket forwarding"
# The child takes the pseudo-terminal as its controlling terminal before it becomes the app, so
# that window changes reach it as SIGWINCH (no preexec_fn: the server has threads).
CONTROLLING_TTY = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); os.execvp(sys.argv[1], sys.argv[1:])"
)


def host_key(path: Path) -> asyncssh.SSHKey:
    """The server's host key, made once (ed25519) and kept readable only by its owner."""
    if path.exists():
        return asyncssh.read_private_key(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.export_private_key())
    return key


class SshDoor:
    """The SSH server in front of one workshop server."""

    def __init__(self, app: WorkshopServer, ws_url: str, data: Path, host_key_path: Path) -> None:
        self.app = app
        self.ws_url = ws_url  # the workshop server's websocket, on loopback
        self.data = data  # seats of SSH visitors who offered a key, one folder per key
        self.key = host_key(host_key_path)
        self.fingerprint = self.key.get_fingerprint()  # SHA256:..., shown on the host screen
        self.active = 0
        self.acceptor: asyncssh.SSHAcceptor | None = None

    async def start(self, host: str, port: int) -> int:
        self.acceptor = await asyncssh.create_server(
            lambda: _Gate(self), host, port, server_host_keys=[self.key], process_factory=self._session,
            agent_forwarding=False, x11_forwarding=False, allow_scp=False, encoding=None,
        )  # fmt: skip
        return self.acceptor.sockets[0].getsockname()[1]

    def close(self) -> None:
        if self.acceptor is not None:
            self.acceptor.close()

    async def aclose(self) -> None:
        self.close()
        if self.acceptor is not None:
            await self.acceptor.wait_closed()

    async def _session(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        gate: _Gate = process.get_extra_info("connection").get_owner()
        try:
            if process.command is not None or process.subsystem is not None:
                asked = process.command or f"the {process.subsystem} subsystem"
                return self._refuse(process, f"this server runs the workshop app only, not {asked}")
            if not process.term_type:
                return self._refuse(process, "the workshop app needs a terminal: connect with ssh -t")
            if self.active >= self.app.limits.remote_sessions:
                limit = self.app.limits.remote_sessions
                return self._refuse(process, f"the workshop is full ({limit} remote participants); try again later")
            self.active += 1
            try:
                process.exit(await self._run_app(process, gate))
            finally:
                self.active -= 1
        except (asyncssh.Error, OSError) as exc:  # the visitor left mid-way
            log.info("ssh session ended: %s", exc)
        finally:
            # asyncssh leaves the closing of the redirected pipes to ``wait_closed``: skipped, their
            # coroutines are dropped unawaited. A visitor who never answers the close is not waited for.
            with contextlib.suppress(asyncssh.Error, OSError, TimeoutError):
                await asyncio.wait_for(process.wait_closed(), 5)

    @staticmethod
    def _refuse(process: asyncssh.SSHServerProcess[bytes], message: str) -> None:
        process.stderr.write(f"workshop: {message}\r\n".encode())
        process.exit(1)

    async def _run_app(self, process: asyncssh.SSHServerProcess[bytes], gate: _Gate) -> int:
        seats = self.data / gate.seat if gate.seat else Path(tempfile.mkdtemp(prefix="workshop-ssh-"))
        argv = [sys.executable, "-m", "cli", "join", f"{self.ws_url}/{gate.code}"]
        if gate.token:
            argv += ["--rejoin", gate.token]
        here = process.get_extra_info("sockname") or ("127.0.0.1", 0)
        ssh = f"ssh -p {here[1]} {gate.code}"
        env = {
            **os.environ, "TERM": process.term_type or "xterm-256color", "XDG_DATA_HOME": str(seats),
            # What the app tells this visitor about coming back (they have ssh, not workshop).
            "WORKSHOP_COME_BACK": f"{ssh}@{here[0]}" + ("  (with the same key)" if gate.seat else ""),
            "WORKSHOP_REJOIN": f"{ssh}+{{token}}@{here[0]}",
        }  # fmt: skip
        master, slave = pty.openpty()
        cols, rows, *_ = process.term_size
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows or 24, cols or 80, 0, 0))
        try:
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-c", CONTROLLING_TTY, *argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(slave)
        to_app, from_app = os.fdopen(master, "wb", buffering=0), os.fdopen(os.dup(master), "rb", buffering=0)
        try:
            redirect = asyncio.ensure_future(process.redirect(stdin=to_app, stdout=from_app))
            app_ended = asyncio.ensure_future(child.wait())
            hung_up = asyncio.ensure_future(process.channel.wait_closed())
            await asyncio.wait({app_ended, hung_up}, return_when=asyncio.FIRST_COMPLETED)
            redirect.cancel()  # nothing more is read from the app: the channel may be gone
            with contextlib.suppress(asyncio.CancelledError):
                await redirect
            if not app_ended.done():  # the visitor hung up: end their app as a terminal's hang-up would
                child.terminate()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(app_ended), 5)
                hung_up.cancel()
                return 129
            hung_up.cancel()
            with contextlib.suppress(asyncssh.Error, OSError, BrokenPipeError):
                await process.stdout.drain()
            return app_ended.result()
        finally:
            if child.returncode is None:
                child.kill()
            for f in (to_app, from_app):
                with contextlib.suppress(OSError):
                    f.close()
            if not gate.seat:
                shutil.rmtree(seats, ignore_errors=True)


class _Gate(asyncssh.SSHServer):
    """Authentication for one SSH connection: the user name is the join code (``CODE`` or ``CODE+TOKEN``)."""

    def __init__(self, door: SshDoor) -> None:
        self.door = door
        self.address = ""
        self.code = ""
        self.token = ""
        self.seat = ""  # folder of this visitor's seats, when they offered a public key
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername")
        self.address = str(peer[0]) if peer else ""

    async def begin_auth(self, username: str) -> bool:
        code, _, self.token = username.partition("+")
        assert self.conn is not None
        try:
            self.code = await self.door.app.admit(code, self.address)
        except HandshakeRefused as refused:
            self.conn.send_auth_banner(f"workshop: {refused.error.message} ({code!r}).\r\n")
            self.code = ""
        return True  # authenticate: a key if offered (to keep the seat), else an empty keyboard-interactive

    def password_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        if not self.code:
            return False
        self.seat = hashlib.sha256(key.public_data).hexdigest()[:24]
        return True

    def kbdint_auth_supported(self) -> bool:
        return True

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> bool:
        return bool(self.code)  # True: in without a prompt; False: refused (the banner said why)

    # Anything but the app is refused with a reason the ssh client prints.
    def connection_requested(self, *_: object) -> bool:
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, FORWARDING)

    def unix_connection_requested(self, *_: object) -> bool:
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, FORWARDING)

    def server_requested(self, *_: object) -> bool:
        return False  # remote forwarding: the client reports it refused

    def unix_server_requested(self, *_: object) -> bool:
        return False
