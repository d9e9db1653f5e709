"""Person references: what a counter's search hands the console to name the person in the calls
that follow (registration, deactivation, reactivation), without the ID number travelling again.

The reference is the person as identity found them (opaque person id, kind, ID number, under
14), with an expiry, sealed with AES-256-GCM under a key derived from the registry secret: the
console cannot read or forge it, and every registry replica opens it.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import b64url_decode, b64url_encode
from cardreg_shared.models.identity import PersonFindReply
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import ValidationError

NONCE_BYTES = 12
REF_TTL = timedelta(hours=1)
_CONTEXT = b"cardreg/person-ref/v1"


class PersonRefs:
    def __init__(self, key: bytes, ttl: timedelta = REF_TTL) -> None:
        self._aead = AESGCM(key)
        self._ttl = ttl

    def issue(self, person: PersonFindReply, now: datetime) -> str:
        body = {"p": person.model_dump(mode="json"), "exp": int((now + self._ttl).timestamp())}
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, json.dumps(body).encode(), _CONTEXT)
        return b64url_encode(nonce + sealed)

    def open(self, ref: str, now: datetime) -> PersonFindReply:
        """The person; `not_found` for a reference that is not ours or has expired."""
        try:
            raw = b64url_decode(ref)
            body = json.loads(self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _CONTEXT))
            if body["exp"] <= now.timestamp():
                raise ValueError("expired")
            return PersonFindReply.model_validate(body["p"])
        except (ValueError, KeyError, TypeError, InvalidTag, ValidationError):
            raise ServiceFailure(
                ErrorCode.NOT_FOUND, "The person reference is unknown or expired; search again."
            ) from None
