"""Property tests on the pure core: the decoder never raises, and replaying the log gives the live state.

What each audience is sent, and what the log and the transcripts hold, is checked through the
server's own path in ``tests/functional/test_secrecy.py``.
"""

from __future__ import annotations

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.steps import ACTORS, Step, draft, steps
from workshop import commands as c
from workshop.protocol import Create, Error, Hello, decode_inbound, encode
from workshop.reducer import replay

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TAGS = [cls.__struct_config__.tag for cls in (*c.FACILITATOR_ONLY, c.PostIdea, c.Vote, c.MarkDone, Hello, Create)]


# -- the decoder ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
tagged = st.builds(
    lambda tag, fields: {**fields, "type": tag},
    st.sampled_from([*TAGS, "nope", ""]),
    st.dictionaries(st.sampled_from(["id", "text", "category", "idea", "index", "delta", "x"]), json_values),
)


@SETTINGS
@given(st.binary(max_size=300) | tagged.map(msgspec.json.encode))
def test_decode_inbound_never_raises(data: bytes) -> None:
    """Without this, one odd frame could raise inside a connection handler and cut someone off."""
    msg = decode_inbound(data)
    assert isinstance(msg, Error | Hello | Create | c.Command)
    if isinstance(msg, Error):
        assert msg.code == "malformed" and msg.message
    else:
        assert decode_inbound(encode(msg)) == msg  # a valid message survives the round trip


@SETTINGS
@given(steps)
def test_replaying_the_log_gives_the_live_state(steps: list[Step]) -> None:
    """Without this, a restarted server or an export would show a different workshop than the live one."""
    live, log, _sent = draft(steps)
    assert replay(log) == live
    assert [seq for seq, _ in log] == list(range(1, live.seq + 1))
    assert len(live.participants) == len(ACTORS)
