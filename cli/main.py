"""Provides ``main``: the ``workshop`` command line and what each subcommand runs.

Each subcommand imports what it needs when it runs, so ``workshop --help`` starts fast and a
subcommand never pays for the libraries of another.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.app import WorkshopServer

EXAMPLES = """\
examples:
  workshop host --goal "30 new leads a month"      run a workshop (server inside, SQLite file)
  workshop host --resume                           take back your session after quitting or a crash
  workshop join ws://192.0.2.10:8765/ABCDE-FGHJK   join (asks your name; the same command rejoins)
  workshop serve --host 0.0.0.0 --port 8765        serve sessions for a remote team
  workshop export SESSION --format md -o notes.md  the transcript, also after the server stopped
"""


def default_db() -> Path:
    from platformdirs import user_data_path

    return user_data_path("workshop", appauthor=False, ensure_exists=True) / "workshop.db"


SERVERS_HELP = (
    "other `workshop serve` processes sharing the session's PostgreSQL log: tried in turn when the one "
    "serving it cannot be reached. Only needed when the first one you name may be down: the server you "
    "reach tells your client of the others (see docs/scaling.md)"
)


def _host_options(parser: argparse.ArgumentParser) -> None:
    """What ``host`` and ``checkin`` share: where the server is, your name, the doors, resuming."""
    parser.add_argument("--server", help="URL of a running `workshop serve` (default: run one inside this process)")
    parser.add_argument("--servers", default="", metavar="URL,URL", help=SERVERS_HELP)
    parser.add_argument(
        "--listen", default="127.0.0.1:8765", help="HOST:PORT for the built-in server (default %(default)s)"
    )
    parser.add_argument("--db", type=Path, default=None, help="SQLite event log for the built-in server")
    parser.add_argument("--name", default="Facilitator", help="your name as the room sees it")
    parser.add_argument("--demo", action="store_true", help="add three simulated participants who post, vote and agree")
    parser.add_argument(
        "--ssh",
        metavar="[HOST:]PORT",
        help="let people join with nothing installed: `ssh -p PORT CODE@this-machine` (needs the built-in server)",
    )
    parser.add_argument(
        "--web",
        metavar="[HOST:]PORT",
        help="let people join from a browser: the participant app at http://this-machine:PORT/ (built-in server)",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="",
        metavar="SESSION-or-CODE",
        help="take back a session you were running (after quitting, or a crash): same code, stage, board "
        "and timeline; without a value, your most recent unfinished one on this server",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workshop",
        description="Run live, remote SMART goal-setting workshops from the terminal.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from workshop import __version__

    parser.add_argument("--version", action="version", version=f"workshop {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run a server that hosts any number of sessions")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for a remote team; default %(default)s)"
    )
    serve.add_argument("--port", type=int, default=8765, help="port to listen on (default %(default)s)")
    serve.add_argument(
        "--db",
        default=None,
        help="event log: a SQLite file (default: workshop.db in your data directory) or postgresql://... (shared by "
        "several servers)",
    )
    serve.add_argument("--certfile", help="TLS certificate (PEM): serve wss:// instead of ws://")
    serve.add_argument("--keyfile", help="TLS private key (PEM) for --certfile")
    serve.add_argument(
        "--compression", action="store_true", help="enable per-message deflate (costs CPU and memory per connection)"
    )
    serve.add_argument(
        "--public-url",
        default="",
        help="how clients reach this server (default ws://HOST:PORT); with a postgresql:// log shared by "
        "several servers, clients of the others are sent here for the sessions this one serves",
    )
    serve.add_argument(
        "--ssh",
        metavar="[HOST:]PORT",
        help="also let people join with plain ssh on this address (the join code is the user name)",
    )
    serve.add_argument(
        "--creates-per-minute",
        type=int,
        default=10,
        help="new sessions allowed per client address and minute (raise it behind a proxy; default %(default)s)",
    )

    host = sub.add_parser("host", help="facilitate a workshop: start a session and drive it from a TUI")
    host.add_argument("--goal", default="", help='the overall goal, e.g. "30 new leads a month"')
    host.add_argument("--agenda", type=Path, help="a TOML agenda file ([[stage]] tables) instead of the SMART default")
    _host_options(host)

    checkin = sub.add_parser(
        "checkin",
        help="open a check-in that continues a workshop (or the last check-in): same goal, KPIs and milestones",
        description="Open a check-in session: it carries the goal, KPIs, milestones and the next check-in date "
        "of the session it continues, with a new join code. Its agenda: numbers, milestones, wins, "
        "challenges, recalibrate, agree.",
    )
    checkin.add_argument(
        "previous", nargs="?", default="", metavar="SESSION-or-CODE",
        help="the workshop or check-in to continue (one you facilitated on this computer; see `workshop sessions`)",
    )  # fmt: skip
    checkin.add_argument("--agenda", help="TOML agenda instead of the default check-in agenda")
    _host_options(checkin)

    join = sub.add_parser("join", help="join a workshop as a participant")
    join.add_argument(
        "target",
        metavar="URL-or-CODE",
        help="the join line's address, e.g. ws://host:8765/ABCDE-FGHJK, or just the code",
    )
    join.add_argument(
        "--name", help="your name as the room sees it (asked if not given; picks your seat if you joined before)"
    )
    join.add_argument(
        "--rejoin",
        metavar="TOKEN",
        help="come back as yourself from another computer, with the token your app shows (F8)",
    )
    join.add_argument("--new", action="store_true", help="join as a new person, even if you joined before here")
    join.add_argument("--servers", default="", metavar="URL,URL", help=SERVERS_HELP)
    join.add_argument("--name-in-app", action="store_true", help=argparse.SUPPRESS)  # the web door's way in
    join.add_argument(
        "--server", default="ws://127.0.0.1:8765", help="server URL when only a code is given (default %(default)s)"
    )

    export = sub.add_parser("export", help="write a session's transcript from the event log")
    export.add_argument("session", help="session id (or join code) to export")
    export.add_argument(
        "--format",
        choices=("md", "json", "csv", "ics"),
        default="md",
        help="md, json or csv transcript; ics: milestones and check-ins as a calendar (default %(default)s)",
    )
    export.add_argument(
        "--db",
        default=None,
        help="event log: a SQLite file (default: the one in your data directory) or postgresql://...",
    )
    export.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")

    sessions = sub.add_parser("sessions", help="list the sessions in an event log")
    sessions.add_argument("--db", default=None, help="event log: a SQLite file or postgresql://...")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {
        "serve": _serve, "host": _host, "checkin": _checkin, "join": _join, "export": _export, "sessions": _sessions,
    }  # fmt: skip
    try:
        return handlers[args.command](args) or 0
    except KeyboardInterrupt:
        return 130
    except RuntimeError as exc:
        from server.store import LogUnavailable  # only now: `workshop join` never opens a log

        if not isinstance(exc, LogUnavailable):
            raise
        print(f"workshop: {exc}", file=sys.stderr)  # serve, host, export, sessions: said, not a traceback
        return 2


def _serve(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from client.launch import WILDCARDS
    from server.app import port_of, start
    from server.limits import Limits
    from server.store import is_postgres

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # A line for every connection opened and closed is noise in a room of 1,000 (and a reconnect
    # storm writes thousands); websockets' warnings and errors still show.
    logging.getLogger("websockets.server").setLevel(logging.WARNING)
    db = args.db or default_db()

    async def run() -> None:
        limits = Limits(creates_per_minute=args.creates_per_minute)
        server, app = await start(
            args.host, args.port, db, limits=limits, certfile=args.certfile, keyfile=args.keyfile,
            compression=args.compression, public_url=args.public_url,
        )  # fmt: skip
        scheme = "wss" if args.certfile else "ws"
        print(f"workshop server on {scheme}://{args.host}:{port_of(server)} (log: {_shown(db)})", flush=True)
        if is_postgres(db) and not args.public_url and args.host in WILDCARDS:
            # Other servers send clients to this URL, and clients learn it as a server to fall back on.
            print(
                f"workshop: give --public-url (how clients reach this server): with a shared log, clients are told "
                f"{app.store.public_url}, which other machines cannot reach",
                file=sys.stderr, flush=True,
            )  # fmt: skip
        if args.ssh:
            door, where = await open_ssh(app, f"ws://127.0.0.1:{port_of(server)}", args.ssh, args.host)
            print(f"ssh door on {where} (host key {door.fingerprint}): ssh -p {where.rsplit(':', 1)[1]} CODE@...")
        await server.serve_forever()

    asyncio.run(run())
    return 0


def _host(args: argparse.Namespace) -> int:
    from client.launch import run_host
    from server.app import start

    # The embedded server and the doors are wired here: client/ never imports server/.
    return run_host(args, default_db=default_db, start_server=start, open_doors=_doors(args))


def _checkin(args: argparse.Namespace) -> int:
    if not args.previous and args.resume is None:
        print("workshop: name the workshop or check-in to continue (see `workshop sessions`)", file=sys.stderr)
        return 2
    args.goal = ""  # carried over from the session it continues
    return _host(args)


def _doors(args: argparse.Namespace) -> object:
    """What ``run_host`` calls once its session is known: open the doors asked for, return their join lines."""
    if not (args.ssh or args.web):
        return None

    async def open_doors(app: WorkshopServer, ws_url: str, public_host: str, code: str) -> tuple[list[str], object]:
        lines: list[str] = []
        closers: list[Callable[[], Awaitable[None]]] = []
        try:
            if args.ssh:
                door, where = await open_ssh(app, ws_url, args.ssh, public_host)
                lines.append(f"ssh -p {where.rsplit(':', 1)[1]} {code}@{public_host}   (host key {door.fingerprint})")
                closers.append(door.aclose)
            if args.web:
                from doors.web import WebDoor

                host, _, port = args.web.rpartition(":")
                web = WebDoor(ws_url, code, app.limits.remote_sessions)
                closers.append(web.close)
                lines.append(f"{await web.start(host or public_host, int(port), public_host)}   (in a browser)")
        except BaseException:
            for close in closers:
                await close()
            raise

        async def close_all() -> None:
            for close in closers:
                await close()

        return lines, close_all

    return open_doors


async def open_ssh(app: object, ws_url: str, listen: str, default_host: str) -> tuple[object, str]:
    """Start the SSH door in front of ``app``; returns it and the address it listens on."""
    from platformdirs import user_data_path

    from doors.ssh import SshDoor

    data = user_data_path("workshop", appauthor=False)
    host, _, port = listen.rpartition(":")
    door = SshDoor(app, ws_url, data / "doors" / "ssh", data / "ssh_host_ed25519_key")  # type: ignore[arg-type]
    bound = await door.start(host or default_host, int(port))
    return door, f"{host or default_host}:{bound}"


def _join(args: argparse.Namespace) -> int:
    from client.launch import run_join

    return run_join(args)


def _shown(db: object) -> str:
    """The log's name for a console: a PostgreSQL URL without its password."""
    from urllib.parse import urlsplit

    text = str(db)
    parts = urlsplit(text)
    if parts.password:
        return text.replace(f":{parts.password}@", ":***@", 1)
    return text


def _open_log(db: str | None) -> Path | str:
    from server.store import is_postgres

    if db and is_postgres(db):
        return db
    path = Path(db) if db else default_db()
    if not path.exists():
        raise SystemExit(f"workshop: no event log at {path} (pass --db)")
    return path


def _export(args: argparse.Namespace) -> int:
    from server.transcript import load_session
    from workshop.export import render

    state = load_session(_open_log(args.db), args.session)
    if state is None:
        print(f"workshop: no session {args.session!r} in {args.db or default_db()}", file=sys.stderr)
        return 1
    text = render(state, args.format)
    if args.output:
        args.output.write_text(text, encoding="utf-8", newline="")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _sessions(args: argparse.Namespace) -> int:
    """Every session, a workshop with its check-ins under it: workshop -> check-in 1 -> check-in 2."""
    import datetime as dt

    from server.transcript import list_sessions

    sessions = list_sessions(_open_log(args.db))
    after: dict[str, list[object]] = {}
    for s in sessions:
        after.setdefault(s.continues, []).append(s)

    def show(s: object, depth: int, n: int) -> None:
        when = dt.datetime.fromtimestamp(s.created).strftime("%Y-%m-%d %H:%M") if s.created else "date unknown"
        what = f"{'  ' * depth}-> check-in {n}" if s.kind == "checkin" else "workshop"
        print(f"{when}  {s.id}  {s.code}  {s.events:>5} events  {what:<14} {s.goal}")
        for nxt in after.get(s.id, []):
            show(nxt, depth + 1, n + 1)

    known = {s.id for s in sessions}
    for s in sessions:
        if not s.continues or s.continues not in known:
            show(s, 0, len(s.continues and [1]) if s.kind == "checkin" else 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
