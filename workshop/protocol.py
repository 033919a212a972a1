"""Provides the wire protocol: every message between client and server, and their codecs.

JSON text frames, one message each, tagged by ``type``. Inbound decoding is typed against
an explicit union, so a malformed or unknown message becomes an error reply rather than an
exception in a connection handler. docs/protocol.md is the specification of this module.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from workshop.agenda import Stage
from workshop.commands import AnyCommand
from workshop.events import Event
from workshop.state import Role, State

PROTOCOL_VERSION = 2  # 2: roles, rounds, KPIs, check-ins, milestone status (new events an older client cannot read)
Secret = Annotated[str, msgspec.Meta(max_length=128)]


class Message(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    pass


# -- client -> server (first frame) -------------------------------------------------------


class Create(Message, tag="create", forbid_unknown_fields=True):
    """Open a new session; the sender becomes its facilitator."""

    goal: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    name: Annotated[str, msgspec.Meta(max_length=200)] = "Facilitator"
    agenda: Annotated[tuple[Stage, ...], msgspec.Meta(max_length=50)] | None = None
    # A check-in: the session it continues (id), and a facilitator's secret of that session.
    continues: Secret = ""
    continues_secret: Secret = ""


class Hello(Message, tag="hello", forbid_unknown_fields=True):
    """Join or rejoin a session; exactly one of code, token or secret says how."""

    session: Secret = ""  # session id; may be empty when joining by code
    code: Secret = ""  # join code, with ``name``, for a first join
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    # Participant token from an earlier welcome; or, with ``code``, one the client made for this
    # first join, so that a retried join is the same person.
    token: Secret = ""
    secret: Secret = ""  # facilitator secret
    last_seq: int | None = None
    epoch: Secret = ""
    version: int = PROTOCOL_VERSION


Inbound = Create | Hello | AnyCommand


# -- server -> client ----------------------------------------------------------------------


class Created(Message, tag="created"):
    session: str
    code: str
    secret: str


class Welcome(Message, tag="welcome"):
    session: str
    epoch: str
    you: str
    role: Role
    seq: int
    # Present when the server sends a whole state; absent when it replays events after last_seq.
    snapshot: State | None = None
    # Set on a resume the server could not serve from the log (the snapshot replaces all).
    reset: bool = False
    token: str = ""  # only on a first join: keep it to rejoin as the same person
    online: tuple[str, ...] = ()
    now: float = 0.0  # the server's clock, so that countdowns do not depend on the viewer's
    # The other servers sharing this session's log (PostgreSQL): where to go if this one dies.
    servers: tuple[str, ...] = ()


class EventMsg(Message, tag="event"):
    seq: int
    at: float
    event: Event


class Batch(Message, tag="batch"):
    """Several events coalesced into one frame, in order."""

    events: tuple[EventMsg, ...]


class Ack(Message, tag="ack"):
    id: str
    seq: int


class Error(Message, tag="error"):
    """A frame that changed nothing; ``code`` is one of those in docs/protocol.md, ``id`` the command's if known."""

    code: str
    message: str
    id: str = ""
    retry_after: float | None = None
    url: str = ""  # with ``moved``: the server that serves this session now


class Presence(Message, tag="presence"):
    """Who came online and who went offline since the last presence message."""

    came: tuple[str, ...] = ()
    went: tuple[str, ...] = ()


Outbound = Created | Welcome | EventMsg | Batch | Ack | Error | Presence


class _Id(msgspec.Struct):
    """Just the ``id`` of a frame that did not fit, so its error can say which command it was."""

    id: str = ""


encoder = msgspec.json.Encoder()
inbound_decoder = msgspec.json.Decoder(Inbound)
_id_decoder = msgspec.json.Decoder(_Id)
outbound_decoder = msgspec.json.Decoder(Outbound)
event_decoder = msgspec.json.Decoder(Event)


def encode(msg: msgspec.Struct) -> bytes:
    return encoder.encode(msg)


def decode_inbound(data: bytes | str) -> Create | Hello | AnyCommand | Error:
    """Decode a client frame, or return the :class:`Error` to send back; never raises."""
    try:
        return inbound_decoder.decode(data)
    except msgspec.ValidationError as exc:
        return Error(code="malformed", message=f"message does not fit the protocol: {exc}", id=_id_of(data))
    except msgspec.DecodeError as exc:
        return Error(code="malformed", message=f"message is not valid JSON: {exc}")
    except (ValueError, RecursionError, UnicodeError) as exc:  # pragma: no cover - belt and braces
        return Error(code="malformed", message=f"message could not be read: {type(exc).__name__}")


def _id_of(data: bytes | str) -> str:
    try:
        return _id_decoder.decode(data).id[:64]
    except (msgspec.DecodeError, ValueError, RecursionError):
        return ""
