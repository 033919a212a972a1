"""Provides credentials: join codes, secrets and tokens, and how they are stored and checked.

Join codes are read aloud, so they are short: 10 characters from a 32-symbol alphabet
without look-alikes (50 bits). With failed attempts limited per address (see limits), a
guesser at 10 tries a minute needs on the order of 10^13 minutes to hit one. Secrets and
tokens are never spoken and come straight from ``secrets`` (256 and 192 bits). Only their
SHA-256 digests are stored, and comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_code(code: str) -> str:
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == 10 else raw


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_token() -> str:
    return secrets.token_urlsafe(24)


_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def acceptable_token(token: str) -> bool:
    """A client-made token: long enough to be unguessable if it is random (its maker's concern)."""
    return 22 <= len(token) <= 128 and set(token) <= _URLSAFE


def new_id() -> str:
    return secrets.token_hex(8)


def digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def matches(credential: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(credential), stored_digest)


def seal_key(credential: str) -> bytes:
    """The key that proves authorship of anonymous ideas; derived, never stored."""
    return hashlib.sha256(b"workshop-seal:" + credential.encode()).digest()


def command_key(seal_key: bytes, command_id: str) -> str:
    """Where a command is remembered for deduplication: only its sender's credential can find it again.

    Keyed by the sender's seal key rather than their participant id, so that the stored row of
    an anonymous post, edit or withdrawal says nothing about who sent it.
    """
    return hmac.new(seal_key, b"command:" + command_id.encode(), hashlib.sha256).hexdigest()


def command_digest(seal_key: bytes, payload: bytes) -> str:
    """A fingerprint of a command's payload, to tell a retry from a reused id; keyed for the same reason."""
    return hmac.new(seal_key, b"payload:" + payload, hashlib.sha256).hexdigest()
