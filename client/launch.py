"""Provides ``run_host`` and ``run_join``: what ``workshop host`` and ``workshop join`` run.

``run_host`` may start a server inside this process (the embedded default); the CLI should
hand it ``server.app.start`` so that the client package never imports the server.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from client.connection import Credentials, JoinRefused, create_session
from workshop.agenda import AgendaError, Stage, load_agenda

WILDCARDS = ("0.0.0.0", "::", "")
# ``server.app.start(host, port, db)`` -> (websockets Server, WorkshopServer)
StartServer = Callable[[str, int, Path], Any]


def _err(message: str) -> None:
    print(f"workshop: {message}", file=sys.stderr)


def parse_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--listen {listen!r} is not HOST:PORT, e.g. 127.0.0.1:8765")
    return host.strip("[]") or "127.0.0.1", int(port)


def public_address() -> str:
    """This machine's address as others on the network reach it (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostname()


def split_target(target: str, server: str) -> tuple[str, str]:
    """``ws://host:port/CODE``, ``wss://...`` or a bare ``CODE`` -> (server URL, code)."""
    if target.startswith(("ws://", "wss://")):
        parts = urlsplit(target)
        code = parts.path.strip("/")
        if not code:
            raise ValueError(f"{target!r} has no join code after the address")
        return f"{parts.scheme}://{parts.netloc}", code
    return server.rstrip("/"), target.strip()


def run_host(args: argparse.Namespace, default_db: Callable[[], Path], start_server: StartServer | None = None) -> int:
    """Run the host app; ``start_server`` is ``server.app.start``, handed in by the CLI wiring."""
    agenda: tuple[Stage, ...] = ()
    if args.agenda:
        try:
            agenda = load_agenda(Path(args.agenda).read_text(encoding="utf-8"))
        except (OSError, UnicodeError, AgendaError) as exc:
            _err(f"cannot use agenda {args.agenda}: {exc}")
            return 2
    try:
        return asyncio.run(_host(args, agenda, default_db, start_server))
    except ValueError as exc:
        _err(str(exc))
        return 2


async def _host(
    args: argparse.Namespace,
    agenda: tuple[Stage, ...],
    default_db: Callable[[], Path],
    start_server: StartServer | None,
) -> int:
    from client.apps.host import host_app
    from client.demo import start_demo, stop_demo

    server = store_app = None
    if args.server:
        url = args.server.rstrip("/")
        public = url
    else:
        if start_server is None:
            raise ValueError("no server to start: pass --server URL, or run through the workshop command")
        host, port = parse_listen(args.listen)
        try:
            server, store_app = await start_server(host, port, args.db or default_db())
        except OSError as exc:
            _err(f"cannot listen on {args.listen}: {exc}")
            return 1
        port = next(iter(server.sockets)).getsockname()[1]
        url = f"ws://{'127.0.0.1' if host in WILDCARDS else host}:{port}"
        shown = public_address() if host in WILDCARDS else host
        public = f"ws://[{shown}]:{port}" if ":" in shown else f"ws://{shown}:{port}"
    try:
        try:
            created = await create_session(url, goal=args.goal, name=args.name, agenda=agenda)
        except (JoinRefused, OSError, TimeoutError) as exc:
            _err(f"cannot create a session on {url}: {exc}")
            return 1
        join_line = f"workshop join {public}/{created.code} --name YOURNAME"
        creds = Credentials(url=url, session=created.session, secret=created.secret, name=args.name)
        app = host_app(creds, join_line=join_line)
        demo = start_demo(url, created.code) if args.demo else []
        try:
            await app.run_async()
        finally:
            await stop_demo(demo)
            await app.conn.close()
        print(f"session {created.session} (code {created.code}); join line was: {join_line}")
        if server is not None:  # the log is local: say how to get the record out of it
            db = args.db or default_db()
            print(f"transcript: workshop export {created.session} --format md --db {db} -o workshop.md")
        return app.return_code or 0
    finally:
        if server is not None:
            server.close()
            await server.wait_closed()
            store_app.close()


def run_join(args: argparse.Namespace) -> int:
    from client.apps.participant import participant_app

    try:
        url, code = split_target(args.target, args.server)
    except ValueError as exc:
        _err(str(exc))
        return 2
    app = participant_app(Credentials(url=url, code=code, name=args.name))
    app.run()
    return app.return_code or 0
