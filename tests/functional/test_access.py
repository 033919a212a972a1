"""Access: credentials, roles held by the server, no secrets in the log, browsers refused, TLS verified."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from client.connection import Connection, Credentials, create_session
from server import credentials as cred
from server.transcript import load_session
from tests.conftest import LiveServer
from workshop import commands as c
from workshop.export import render
from workshop.protocol import Error, Hello, Welcome, encode, outbound_decoder


def _bits(urlsafe: str) -> int:
    return len(base64.urlsafe_b64decode(urlsafe + "=" * (-len(urlsafe) % 4))) * 8


def test_credentials_are_long_random_and_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without this, a facilitator secret or participant token could be guessed or timed."""
    assert _bits(cred.new_secret()) >= 256
    assert _bits(cred.new_token()) >= 128
    assert len({cred.new_token() for _ in range(1000)}) == 1000
    code = cred.new_code()
    assert len(code.replace("-", "")) == 10 and set(code.replace("-", "")) <= set(cred.ALPHABET)
    assert len(cred.ALPHABET) == 32  # 10 symbols of 5 bits: 50 bits

    # They come from the secrets module (the OS CSPRNG), not from random.
    calls: list[str] = []
    real_urlsafe, real_choice = cred.secrets.token_urlsafe, cred.secrets.choice
    monkeypatch.setattr(cred.secrets, "token_urlsafe", lambda n: calls.append("urlsafe") or real_urlsafe(n))
    monkeypatch.setattr(cred.secrets, "choice", lambda seq: calls.append("choice") or real_choice(seq))
    cred.new_secret(), cred.new_token(), cred.new_code()
    assert calls.count("urlsafe") == 2 and calls.count("choice") == 10

    # Checks go through hmac.compare_digest on digests; the stored form is never the credential.
    compared: list[tuple[str, str]] = []
    real_compare = hmac.compare_digest
    monkeypatch.setattr(cred.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real_compare(a, b))
    secret = cred.new_secret()
    stored = cred.digest(secret)
    assert secret not in stored
    assert cred.matches(secret, stored) and not cred.matches(secret + "x", stored)
    assert len(compared) == 2


async def test_role_is_held_by_the_server(live: LiveServer) -> None:
    """Without this, a participant could claim to be the facilitator and move the whole room."""
    fac, code = await live.facilitator()
    ana = await live.participant(code, "Ana")
    session = fac.creds.session
    before = live.app.rooms[session].published
    # A hello cannot carry a role: the field does not exist, and unknown fields are refused.
    async with connect(live.url, proxy=None) as ws:
        await ws.send(
            b'{"type":"hello","session":"%s","token":"%s","role":"facilitator"}'
            % (session.encode(), ana.creds.token.encode()),
            text=True,
        )
        reply = outbound_decoder.decode(await ws.recv())
    assert isinstance(reply, Error) and reply.code == "malformed"
    # With her own token she is a participant, whatever she sends next.
    async with connect(live.url, proxy=None) as ws:
        await ws.send(encode(Hello(session=session, token=ana.creds.token)), text=True)
        welcome = outbound_decoder.decode(await ws.recv())
        assert isinstance(welcome, Welcome) and welcome.role == "participant"
        await ws.send(encode(Hello(session=session, secret="guess")), text=True)
        await ws.send(encode(c.SetStage(id="x", index=5)), text=True)
        replies = []
        async with asyncio.timeout(5):
            while len(replies) < 2:
                msg = outbound_decoder.decode(await ws.recv())
                if isinstance(msg, Error):
                    replies.append(msg.code)
    assert replies == ["malformed", "forbidden"]
    assert live.app.rooms[session].published == before


async def test_no_credential_or_anonymous_author_in_the_log_or_transcript(live: LiveServer) -> None:
    """Without this, anyone with the database file or a transcript could impersonate people or unmask them."""
    fac, code = await live.facilitator()
    ana = await live.participant(code, "Ana")
    ben = await live.participant(code, "Ben")
    await fac.do(c.SetStage, index=3)
    await ana.wait_for(lambda s: s.stage_index == 3)
    anon = await ana.do(c.PostIdea, category="stop", text="Stop the blitz", anonymous=True)
    await ben.do(c.PostIdea, category="start", text="Webinars")
    await ana.do(c.EditIdea, idea=str(anon), text="Stop the weekly blitz")
    session = fac.creds.session
    await ben.wait_for(lambda s: s.seq == live.app.rooms[session].published.seq)
    for conn in live.clients:
        await conn.close()
    live.clients.clear()

    secrets_ = [fac.creds.secret, ana.creds.token, ben.creds.token]
    derived = [cred.seal_key(s).hex() for s in secrets_]
    raw = b"".join(p.read_bytes() for p in live.db.parent.iterdir() if p.name.startswith(live.db.name))
    for value in secrets_ + derived:
        assert value.encode() not in raw, "a credential reached the database file"

    state = load_session(live.db, session)
    assert state is not None and state.ideas[str(anon)].author is None
    for fmt in ("md", "json", "csv"):
        text = render(state, fmt)
        for value in secrets_ + derived:
            assert value not in text
        lines = [line for line in text.splitlines() if "Stop the weekly blitz" in line]
        assert lines, fmt
        for line in lines:
            assert "Ana" not in line and ana.you not in line, f"the {fmt} transcript names the anonymous author"
    (record,) = [i for i in json.loads(render(state, "json"))["state"]["ideas"].values() if "blitz" in i["text"]]
    assert record.get("author") is None and record.get("seal") is None


async def test_browser_origin_is_refused(live: LiveServer) -> None:
    """Without this, any web page a participant opens could connect to the workshop as them."""
    for origin in ("https://evil.example", "http://127.0.0.1", "null"):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(live.url, proxy=None, origin=origin):
                pass
        assert refused.value.response.status_code == 403
    async with connect(live.url, proxy=None) as ws:  # a terminal client sends no Origin
        await ws.send(encode(Hello(code="WRONG-CODES", name="x")), text=True)
        assert isinstance(outbound_decoder.decode(await ws.recv()), Error)


# -- TLS ----------------------------------------------------------------------------------------


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed, and neither is the cryptography package: cannot make a test cert")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_serve_with_tls_is_verified_by_the_client(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    """Without this, a remote team's codes, tokens and ideas would cross the network readable or spoofable."""
    cert, key = certificate
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "serve", "--port", "0", "--db", str(tmp_path / "w.db"),
        "--certfile", str(cert), "--keyfile", str(key),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with asyncio.timeout(30):
            line = (await proc.stdout.readline()).decode()
        assert "wss://127.0.0.1:" in line, line
        url = "wss://127.0.0.1:" + line.split("wss://127.0.0.1:")[1].split()[0]

        with pytest.raises(ssl.SSLCertVerificationError):  # the system's CAs do not vouch for it
            await create_session(url, ssl_context=ssl.create_default_context())
        with pytest.raises(Exception):  # noqa: B017 - plain ws to a TLS port is no websocket at all
            async with asyncio.timeout(5), connect(url.replace("wss", "ws"), proxy=None, open_timeout=3):
                pass

        trusting = ssl.create_default_context(cafile=str(cert))
        created = await create_session(url, goal="Over TLS", ssl_context=trusting)
        conn = Connection(Credentials(url=url, session=created.session, secret=created.secret), ssl_context=trusting)
        await conn.start()
        try:
            assert conn.role == "facilitator" and conn.state.goal == "Over TLS"
            assert await conn.do(c.SetGoal, goal="Still over TLS") > 0
        finally:
            await conn.close()
    finally:
        proc.kill()
        await proc.wait()
