"""WebAuthn challenges without a table of issued ones: a challenge carries its own expiry and a
MAC over its purpose and its subject (a binding link's hash, an ID number's keyed hash), so only
the registry can make one, and one made for one binding or person is useless for another.
Single use comes from storage: a challenge that was answered is recorded as spent until it
expires (flows/ports.py `SpentChallengeRepository`).

Layout (32 bytes): 12 random, 4 expiry (unix seconds, big-endian), 16 of HMAC-SHA256.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import struct
from datetime import UTC, datetime, timedelta
from typing import Any

from cardreg_shared.models.common import b64url_decode

CHALLENGE_TTL = timedelta(minutes=5)
_NONCE, _EXPIRY, _TAG = 12, 4, 16


class ChallengeKey:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the challenge key must have at least 256 bits")
        self._key = key

    def mint(self, purpose: str, subject: str, now: datetime) -> bytes:
        expiry = struct.pack(">I", int((now + CHALLENGE_TTL).timestamp()))
        body = secrets.token_bytes(_NONCE) + expiry
        return body + self._tag(purpose, subject, body)

    def expiry(
        self, challenge: bytes, purpose: str, subject: str, now: datetime
    ) -> datetime | None:
        """When a genuine, unexpired challenge for this purpose and subject expires; else None."""
        if len(challenge) != _NONCE + _EXPIRY + _TAG:
            return None
        body, tag = challenge[: _NONCE + _EXPIRY], challenge[_NONCE + _EXPIRY :]
        if not hmac.compare_digest(tag, self._tag(purpose, subject, body)):
            return None
        (seconds,) = struct.unpack(">I", body[_NONCE:])
        expires = datetime.fromtimestamp(seconds, UTC)
        return expires if expires > now else None

    def decoy(self, subject: str, length: int = 32) -> bytes:
        """Deterministic bytes standing in for a credential id of a person without devices."""
        return hmac.new(self._key, b"decoy\x00" + subject.encode(), hashlib.sha256).digest()[
            :length
        ]

    def _tag(self, purpose: str, subject: str, body: bytes) -> bytes:
        message = purpose.encode() + b"\x00" + subject.encode() + b"\x00" + body
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_TAG]


def challenge_hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def challenge_in(credential: dict[str, Any]) -> bytes | None:
    """The challenge the browser signed, from the credential's clientDataJSON; None when
    malformed (py_webauthn checks the rest)."""
    try:
        client_data = json.loads(b64url_decode(credential["response"]["clientDataJSON"]))
        return b64url_decode(client_data["challenge"])
    except (KeyError, TypeError, ValueError, binascii.Error):
        return None


def credential_id_in(credential: dict[str, Any]) -> str | None:
    """The credential id (base64url, canonical), or None when malformed."""
    raw = credential.get("rawId")
    if not isinstance(raw, str):
        return None
    try:
        return b64url(b64url_decode(raw))
    except ValueError:
        return None
