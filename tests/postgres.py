"""Provides ``Cluster``: a throwaway PostgreSQL server for the tests, on 127.0.0.1 and a free port.

It uses the machine's PostgreSQL binaries (Debian's ``postgresql`` package); ``AVAILABLE`` says
whether there are any. As root (CI containers) the server runs as the ``postgres`` user, since
PostgreSQL refuses to run as root. Each test gets its own database in the one cluster.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(versions[-1]) if versions else None


INITDB, PG_CTL = _binary("initdb"), _binary("pg_ctl")
AVAILABLE = INITDB is not None and PG_CTL is not None
SKIP_REASON = "no PostgreSQL here: install Debian's `postgresql` package to run the PostgreSQL log tests"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="workshop-pg-"))
        self.port = _free_port()
        self.names = itertools.count(1)
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *argv: str) -> None:
        subprocess.run([*self.as_user, *argv], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        data = self.dir / "data"
        assert INITDB is not None and PG_CTL is not None
        self._run(INITDB, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run(PG_CTL, "-D", str(data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"test_{next(self.names)}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        assert PG_CTL is not None
        try:
            self._run(PG_CTL, "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
