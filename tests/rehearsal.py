"""Provides Rehearsal: a session driven the way the server drives it (decide, then apply), without a server.

Each command goes through ``decide`` and each resulting event through ``apply``, with the
sequence numbers the event log would give them; the log keeps each event as it survives
encoding, as the stored one does.
"""

from __future__ import annotations

import msgspec

from workshop import commands as c
from workshop import events as e
from workshop.agenda import CHECKIN_STAGES
from workshop.protocol import event_decoder
from workshop.reducer import apply
from workshop.rules import Actor, Rejection, decide, decide_create, decide_join
from workshop.state import State

FAC = Actor(id="f", seal_key=b"f-key")
ANA = Actor(id="a", seal_key=b"a-key")
BEN = Actor(id="b", seal_key=b"b-key")
PEOPLE = ((FAC, "Fay"), (ANA, "Ana"), (BEN, "Ben"))


class Rehearsal:
    def __init__(
        self,
        goal: str = "30 new leads a month",
        people: tuple[tuple[Actor, str], ...] = PEOPLE,
        continues: State | None = None,
    ) -> None:
        """A workshop, or (``continues`` given) a check-in carrying that session's goal and numbers."""
        self.state = State()
        self.log: list[tuple[int, e.EventBody]] = []
        self.n = 0
        if continues is None:
            self._append(decide_create("s", goal, State().agenda))
        else:
            session = f"{continues.session}+"
            self._append(decide_create(session, "", CHECKIN_STAGES, continues=continues))
        for n, (who, name) in enumerate(people):  # the first to join runs the session
            self._append(decide_join(self.state, who.id, name, "facilitator" if n == 0 else "participant"))

    def _append(self, events: list[e.EventBody] | Rejection) -> None:
        assert not isinstance(events, Rejection), events
        for event in events:
            seq = self.state.seq + 1
            self.log.append((seq, event_decoder.decode(msgspec.json.encode(event))))
            self.state = apply(self.state, event, seq)

    def send(self, actor: Actor, cmd: c.Command) -> list[e.EventBody] | Rejection:
        """Run ``cmd`` whatever comes of it: its events are logged, or it is refused and changes nothing."""
        result = decide(self.state, actor, cmd, now=1000.0)
        if not isinstance(result, Rejection):
            self._append(result)
        return result

    def do(self, actor: Actor, cmd_type: type[c.Command], **fields: object) -> int:
        """Run a command that must be accepted; return the seq of its last event."""
        self.n += 1
        self._append(decide(self.state, actor, cmd_type(id=str(self.n), **fields), now=1000.0))
        return self.state.seq

    def refuse(self, actor: Actor, cmd_type: type[c.Command], **fields: object) -> Rejection:
        """Run a command that must be refused, and check that it changed nothing."""
        before = self.state
        self.n += 1
        result = decide(self.state, actor, cmd_type(id=str(self.n), **fields), now=1000.0)
        assert isinstance(result, Rejection)
        assert self.state is before
        return result

    def stage(self, key: str) -> None:
        index = next(i for i, s in enumerate(self.state.agenda) if s.key == key)
        self.do(FAC, c.SetStage, index=index)
