"""Provides seats: the credentials that let this user come back to a session as the same person.

A seat is a facilitator's secret or a participant's token, with where it works (server URL,
session, join code) and who it is (name, role). Each is one small JSON file in the user data
directory, readable only by the user (0600, in a 0700 folder), written atomically. A
participant's seat is written before the first join (the client makes its own token), so a join
whose answer was lost, or an app killed right after joining, still comes back as the same
person. Nothing here goes near the event log: the server stores only digests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

SeatRole = Literal["facilitator", "participant"]


def new_token() -> str:
    """A participant token made by the client (192 bits), kept in the seat before joining."""
    return secrets.token_urlsafe(24)


@dataclass
class Seat:
    url: str
    code: str
    role: SeatRole  # how this seat joined: with the secret, or by code with a token
    credential: str  # the facilitator secret or the participant token
    name: str = ""
    session: str = ""
    goal: str = ""
    db: str = ""  # the log of the server a host ran inside itself, if it did
    finished: bool = False
    created: float = field(default_factory=time.time)
    used: float = field(default_factory=time.time)

    @property
    def key(self) -> str:
        digest = hashlib.sha256(f"{self.url}|{self.code}|{self.credential}".encode()).hexdigest()[:16]
        return f"{self.role}-{digest}"


class Seats:
    """The seats of this user, one file each under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def default(cls) -> Seats:
        from platformdirs import user_data_path

        return cls(user_data_path("workshop", appauthor=False) / "seats")

    def all(self) -> list[Seat]:
        """Every readable seat, most recently used first."""
        out = []
        for path in self.root.glob("*.json") if self.root.is_dir() else ():
            with contextlib.suppress(OSError, ValueError, TypeError):
                out.append(Seat(**json.loads(path.read_text(encoding="utf-8"))))
        return sorted(out, key=lambda s: s.used, reverse=True)

    def save(self, seat: Seat) -> Seat:
        """Write ``seat`` (replacing its earlier version) so that only this user can read it."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)
        seat.used = time.time()
        path = self.root / f"{seat.key}.json"
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(asdict(seat), f, indent=2)
        os.replace(tmp, path)
        return seat

    def participant_seats(self, url: str, code: str) -> list[Seat]:
        """This user's participant seats for a join code on a server (several people may share a computer)."""
        wanted = _code(code)
        return [s for s in self.all() if s.role == "participant" and s.url == url and _code(s.code) == wanted]

    def matching(self, what: str) -> list[Seat]:
        """Seats for a session id or join code, facilitator seats first."""
        code = _code(what)
        found = [s for s in self.all() if s.session == what or (code and _code(s.code) == code)]
        return sorted(found, key=lambda s: s.role != "facilitator")


def _code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())
