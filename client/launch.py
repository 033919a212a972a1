"""Provides ``run_host`` and ``run_join``: what ``workshop host`` and ``workshop join`` run.

Both keep this user's seat (``client.seats``) so that running the same command again comes
back to the same session as the same person: a facilitator resumes the session they were
running (``--resume``), a participant rejoins with their token. Both check the address, the
code or the credential before the full-screen app opens, and say plainly what is wrong.

``run_host`` may start a server inside this process (the embedded default); the CLI hands it
``server.app.start`` so that the client package never imports the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidURI

from client.connection import Connection, Credentials, JoinRefused, create_session
from client.seats import Seat, Seats, new_token
from workshop.agenda import AgendaError, Stage, load_agenda

WILDCARDS = ("0.0.0.0", "::", "")
# Names people paste from an example instead of their own.
PLACEHOLDERS = frozenset({"YOURNAME", "YOUR NAME", "YOUR_NAME", "NAME", "<NAME>", "<YOUR NAME>"})
# ``server.app.start(host, port, db)`` -> (websockets Server, WorkshopServer)
StartServer = Callable[[str, int, Path], Any]


class Stop(Exception):
    """A reason to stop before the app opens, with the exit status to stop with."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


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


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise Stop("a name is needed: the room sees it next to your ideas", 2)
    if name.upper() in PLACEHOLDERS:
        raise Stop(f"{name!r} is the placeholder from the join line: put your own name there, or leave --name out", 2)
    return name


async def reachable(url: str) -> None:
    """Fail at once, with the reason, if nothing answers at ``url`` (rather than retrying for ever)."""
    try:
        async with asyncio.timeout(10), connect(url, proxy=None, open_timeout=8):
            pass
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
        raise Stop(f"cannot reach a workshop server at {url}: {exc or type(exc).__name__}") from None


async def started(conn: Connection) -> None:
    await reachable(conn.creds.url)
    try:
        await conn.start()
    except JoinRefused as exc:
        raise Stop(f"the server refused: {exc}") from None
    except (OSError, TimeoutError) as exc:
        raise Stop(f"no answer from {conn.creds.url}: {exc}") from None


def _remember_seat(seats: Seats, seat: Seat) -> Callable[[Connection], None]:
    """Keep ``seat`` up to date from its connection: session, name, and whether the session finished."""

    def remember(conn: Connection) -> None:
        state = conn.state
        if state is None:
            return
        me = state.participants.get(conn.you)
        update = {
            "session": conn.creds.session or seat.session,
            "name": me.name if me is not None else seat.name,
            "goal": state.goal,
            "finished": state.stage_index == len(state.agenda) - 1,
        }
        if any(getattr(seat, k) != v for k, v in update.items()):
            for k, v in update.items():
                setattr(seat, k, v)
            seats.save(seat)

    return remember


# -- workshop join -------------------------------------------------------------------------------


def run_join(args: argparse.Namespace, seats: Seats | None = None) -> int:
    from client.apps.participant import participant_app

    seats = seats or Seats.default()
    try:
        url, code = split_target(args.target, args.server)
        if getattr(args, "name_in_app", False):  # a browser door: no prompt before the app, a new person each time
            return _join_in_app(url, code)
        seat = choose_seat(seats, url, code, args)
        creds = Credentials(url=url, code=code, name=seat.name, token=seat.credential, session=seat.session)
        conn = Connection(creds, servers=_servers(args))
        app = participant_app(conn, remember=_remember_seat(seats, seat))
        asyncio.run(_run(conn, app.run_async))
    except (Stop, ValueError) as exc:
        _err(str(exc))
        return exc.status if isinstance(exc, Stop) else 2
    again = os.environ.get("WORKSHOP_COME_BACK") or f"workshop join {url}/{code}"  # a door says how, if any
    print(f"You can come back as {seat.name} with the same command: {again}")
    return app.return_code or 0


def _join_in_app(url: str, code: str) -> int:
    """Join where the app itself must ask the name (the web door): nothing runs before the app."""
    from client.apps.participant import participant_app

    def checked(name: str) -> str:
        try:
            return check_name(name)
        except Stop as exc:
            raise ValueError(str(exc)) from None

    conn = Connection(Credentials(url=url, code=code, token=new_token()))
    app = participant_app(conn, check_name=checked)
    asyncio.run(_run_app(conn, app.run_async))
    return app.return_code or 0


async def _run_app(conn: Connection, run_app: Callable[[], Any]) -> None:
    try:
        await run_app()
    finally:
        await conn.close()


def _servers(args: argparse.Namespace) -> list[str]:
    """``--servers URL,URL``: the others sharing the log, tried when ours cannot be reached."""
    return [u.strip().rstrip("/") for u in getattr(args, "servers", "").split(",") if u.strip()]


def choose_seat(seats: Seats, url: str, code: str, args: argparse.Namespace) -> Seat:
    """The seat to join with: the one kept from before on this computer, or a new one (saved first)."""
    if args.rejoin:
        seat = Seat(url=url, code=code, role="participant", credential=args.rejoin, name=args.name or "")
        return seats.save(seat)
    known = [] if args.new else seats.participant_seats(url, code)
    if args.name:
        wanted = check_name(args.name).casefold()
        known = [s for s in known if s.name.casefold() == wanted]
    if len(known) > 1:
        names = ", ".join(s.name for s in known)
        raise Stop(f"you joined this session as {names} on this computer: pass --name NAME, or --new", 2)
    if known:
        return known[0]
    name = check_name(args.name or _ask_name())
    return seats.save(Seat(url=url, code=code, role="participant", credential=new_token(), name=name))


def _ask_name() -> str:
    if not sys.stdin.isatty():
        raise Stop("pass --name YOURS: the room sees it next to your ideas", 2)
    try:
        return input("Your name, as the room will see it: ")
    except EOFError:
        raise Stop("no name given", 2) from None


async def _run(conn: Connection, run_app: Callable[[], Any]) -> None:
    await started(conn)
    try:
        await run_app()
    finally:
        await conn.close()


# -- workshop host -------------------------------------------------------------------------------


# ``await open_doors(workshop_server, ws_url, public_host, code)`` -> (join lines, async close)
OpenDoors = Callable[[Any, str, str, str], Any]


def run_host(
    args: argparse.Namespace,
    default_db: Callable[[], Path],
    start_server: StartServer | None = None,
    seats: Seats | None = None,
    open_doors: OpenDoors | None = None,
) -> int:
    """Run the host app; ``start_server`` is ``server.app.start``, handed in by the CLI wiring.

    ``open_doors`` (also from the CLI) opens the ways in that need nothing installed (SSH, web)
    in front of the built-in server, and gives the lines that show them on the host screen.
    """
    agenda: tuple[Stage, ...] = ()
    if args.agenda:
        try:
            agenda = load_agenda(Path(args.agenda).read_text(encoding="utf-8"))
        except (OSError, UnicodeError, AgendaError) as exc:
            _err(f"cannot use agenda {args.agenda}: {exc}")
            return 2
    try:
        return asyncio.run(_host(args, agenda, default_db, start_server, seats or Seats.default(), open_doors))
    except (Stop, ValueError) as exc:
        _err(str(exc))
        return exc.status if isinstance(exc, Stop) else 2


def resume_command(args: argparse.Namespace, code: str) -> str:
    """The command that takes this session back, with the options it was started with."""
    parts = ["workshop", "host", "--resume", code]
    if args.server:
        parts += ["--server", args.server]
    else:
        if args.listen != "127.0.0.1:8765":
            parts += ["--listen", args.listen]
        if args.db:
            parts += ["--db", str(args.db)]
    return " ".join(parts)


async def _host(
    args: argparse.Namespace,
    agenda: tuple[Stage, ...],
    default_db: Callable[[], Path],
    start_server: StartServer | None,
    seats: Seats,
    open_doors: OpenDoors | None = None,
) -> int:
    from client.apps.host import host_app
    from client.demo import start_demo, stop_demo

    server = store_app = None
    db = ""
    doors: list[str] = []
    close_doors: Callable[[], Awaitable[None]] | None = None
    if args.server:
        if open_doors is not None:
            raise Stop("--ssh and --web open in front of the built-in server: drop --server", 2)
        url = public = args.server.rstrip("/")
    else:
        if start_server is None:
            raise ValueError("no server to start: pass --server URL, or run through the workshop command")
        host, port = parse_listen(args.listen)
        db = str(args.db or default_db())
        try:
            server, store_app = await start_server(host, port, Path(db))
        except OSError as exc:
            raise Stop(f"cannot listen on {args.listen}: {exc}") from None
        port = next(iter(server.sockets)).getsockname()[1]
        url = f"ws://{'127.0.0.1' if host in WILDCARDS else host}:{port}"
        shown = public_address() if host in WILDCARDS else host
        public = f"ws://[{shown}]:{port}" if ":" in shown else f"ws://{shown}:{port}"
    try:
        notice = ""
        if args.resume is not None:
            seat = resume_seat(seats, args.resume, url, db)
        else:
            waiting = unfinished(seats, url, db)
            if getattr(args, "previous", ""):
                seat = await _new_checkin(args, agenda, url, db, seats)
            else:
                seat = await _new_session(args, agenda, url, db, seats)
            if waiting is not None:
                notice = (
                    f"You have an unfinished session ({waiting.goal or 'no goal'}, code {waiting.code}). "
                    f"To go back to it: {resume_command(args, waiting.code)}"
                )
                print(notice, file=sys.stderr)
        if open_doors is not None:
            try:
                doors, close_doors = await open_doors(store_app, url, shown, seat.code)
            except OSError as exc:
                raise Stop(f"cannot open a door (--ssh/--web): {exc}") from None
        conn = Connection(_credentials(seat), servers=_servers(args))
        join_line = f"workshop join {public}/{seat.code}"
        app = host_app(conn, join_line=join_line, remember=_remember_seat(seats, seat), notice=notice, doors=doors)
        demo = start_demo(url, seat.code) if args.demo else []
        try:
            await started(conn)
            if conn.role != "facilitator":
                raise Stop(f"you are not a facilitator of session {seat.code} (any more); join it with: {join_line}")
            await app.run_async()
        finally:
            await stop_demo(demo)
            await conn.close()
        print(f"session {seat.session} (code {seat.code}); join line: {join_line}")
        if not seat.finished:
            print(f"The session is kept. To take it back: {resume_command(args, seat.code)}")
        if server is not None:  # the log is local: say how to get the record out of it
            print(f"transcript: workshop export {seat.session} --format md --db {db} -o workshop.md")
        return app.return_code or 0
    finally:
        if close_doors is not None:
            await close_doors()
        if server is not None:
            server.close()
            await server.wait_closed()
            store_app.close()


def _credentials(seat: Seat) -> Credentials:
    if seat.role == "facilitator":
        return Credentials(url=seat.url, session=seat.session, secret=seat.credential, name=seat.name)
    return Credentials(url=seat.url, session=seat.session, code=seat.code, token=seat.credential, name=seat.name)


async def _new_session(
    args: argparse.Namespace, agenda: tuple[Stage, ...], url: str, db: str, seats: Seats, previous: Seat | None = None
) -> Seat:
    """A new session (a check-in continuing ``previous`` if given), its facilitator's seat saved first."""
    what = "open a check-in" if previous else "create a session"
    goal = previous.goal if previous else args.goal
    carry = {"continues": previous.session, "continues_secret": previous.credential} if previous else {}
    try:
        created = await create_session(url, goal=goal if not previous else "", name=args.name, agenda=agenda, **carry)
    except (JoinRefused, OSError, TimeoutError) as exc:
        raise Stop(f"cannot {what} on {url}: {exc}") from None
    seat = Seat(
        url=url, code=created.code, role="facilitator", credential=created.secret, name=args.name,
        session=created.session, goal=goal, db=db,
    )  # fmt: skip
    return seats.save(seat)


async def _new_checkin(args: argparse.Namespace, agenda: tuple[Stage, ...], url: str, db: str, seats: Seats) -> Seat:
    """A check-in continuing ``args.previous``, which this computer facilitated (its secret proves it)."""
    found = [s for s in seats.matching(args.previous) if s.role == "facilitator" and _here(s, url, db)]
    if not found:
        raise Stop(
            f"no session {args.previous!r} that you facilitated on {url} from this computer "
            "(see `workshop sessions`; a check-in is opened by a facilitator of the session it continues)"
        )
    return await _new_session(args, agenda, url, db, seats, previous=found[0])


def _here(seat: Seat, url: str, db: str) -> bool:
    """Whether ``seat`` is for this server: for a server inside the host, the same log (on whatever
    port it listens now); otherwise the same URL."""
    if db and seat.db:
        return seat.db == db
    return seat.url == url


def unfinished(seats: Seats, url: str, db: str) -> Seat | None:
    """The most recent session this user facilitated here that has not reached its last stage."""
    return next((s for s in seats.all() if s.role == "facilitator" and _here(s, url, db) and not s.finished), None)


def resume_seat(seats: Seats, what: str, url: str, db: str) -> Seat:
    """The seat ``--resume [SESSION|CODE]`` means, or a clear reason why there is none."""
    if what:
        found = [s for s in seats.matching(what) if _here(s, url, db)]
        if not found:
            raise Stop(f"no session {what!r} of yours on {url} to resume (see `workshop sessions`)")
        return found[0]  # a facilitator seat first; else a participant who was made a facilitator
    seat = unfinished(seats, url, db)
    if seat is None:
        raise Stop(f"no unfinished session of yours on {url}: start one with `workshop host --goal ...`")
    return seat
