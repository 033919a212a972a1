"""Shared fixtures: a real server on 127.0.0.1 (free port, temporary SQLite log) and clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from client.connection import Connection, Credentials, create_session
from server.app import WorkshopServer, port_of, start
from server.limits import Limits


@dataclass
class LiveServer:
    url: str
    db: Path
    app: WorkshopServer
    ws_server: object
    clients: list[Connection] = field(default_factory=list)

    async def facilitator(self, goal: str = "30 new leads a month", **kw: object) -> tuple[Connection, str]:
        """A new session and its facilitator's connection; returns it with the join code."""
        created = await create_session(self.url, goal=goal, **kw)
        conn = Connection(Credentials(url=self.url, session=created.session, secret=created.secret))
        await conn.start()
        self.clients.append(conn)
        return conn, created.code

    async def participant(self, code: str, name: str, **kw: object) -> Connection:
        conn = Connection(Credentials(url=self.url, code=code, name=name), **kw)
        await conn.start()
        self.clients.append(conn)
        return conn


async def start_server(db: Path, limits: Limits | None = None, port: int = 0) -> LiveServer:
    ws_server, app = await start("127.0.0.1", port, db, limits=limits)
    return LiveServer(url=f"ws://127.0.0.1:{port_of(ws_server)}", db=db, app=app, ws_server=ws_server)


async def stop_server(live: LiveServer) -> None:
    """Close the clients this server handed out, then the server and its log."""
    for conn in live.clients:
        await conn.close()
    live.ws_server.close()
    await live.ws_server.wait_closed()
    live.app.close()


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveServer]:
    srv = await start_server(tmp_path / "workshop.db")
    try:
        yield srv
    finally:
        await stop_server(srv)


@pytest.fixture
def until() -> Callable[..., object]:
    """``await until(conn, predicate)``: wait for a replica to reach a state."""

    async def wait(conn: Connection, predicate: Callable[..., bool], timeout: float = 10.0) -> object:
        return await conn.wait_for(predicate, timeout)

    return wait


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[object]:
    """One throwaway PostgreSQL for the whole run, started on first use (skipped where none is installed)."""
    from tests.postgres import AVAILABLE, SKIP_REASON, Cluster

    if not AVAILABLE:
        pytest.skip(SKIP_REASON)
    cluster = Cluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: object) -> str:
    """A fresh, empty database in the test PostgreSQL."""
    return postgres_cluster.new_database()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test keeps its seats (and any default log) in a fresh data directory, never the user's."""
    home = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home
