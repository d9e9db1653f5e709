"""A software passkey for tests without a browser: it answers WebAuthn creation and request
options as a platform authenticator would, with attestation `none` or `packed` (self
attestation), user verification on or off, and a signature counter that counts up or stays
at 0 (as synced passkeys do). Browser tests use Chromium's virtual authenticator instead."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any, Literal

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftPasskey:
    origin: str
    attestation: Literal["none", "packed"] = "none"
    user_verified: bool = True
    counting: bool = True  # False: the counter stays 0, like a synced passkey
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    sign_count: int = 0
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    user_handle: bytes | None = None

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """`navigator.credentials.create({publicKey: options})`, as `credential.toJSON()`."""
        rp_id = options["rp"]["id"]
        self.user_handle = unb64url(options["user"]["id"])
        client_data = self._client_data("webauthn.create", options["challenge"])
        numbers = self.key.public_key().public_numbers()
        cose_key = cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        attested = (
            bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + cose_key
        )
        auth_data = self._auth_data(rp_id, AT) + attested
        statement: dict[str, Any] = {}
        if self.attestation == "packed":
            statement = {"alg": -7, "sig": self._sign(auth_data, client_data)}
        attestation_object = cbor2.dumps(
            {"fmt": self.attestation, "attStmt": statement, "authData": auth_data}
        )
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "transports": ["internal"],
            },
        }

    def get(self, options: dict[str, Any]) -> dict[str, Any]:
        """`navigator.credentials.get({publicKey: options})`, as `credential.toJSON()`."""
        if self.counting:
            self.sign_count += 1
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = self._auth_data(options["rpId"], 0)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(self._sign(auth_data, client_data)),
                "userHandle": b64url(self.user_handle or b""),
            },
        }

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        ).encode()

    def _auth_data(self, rp_id: str, extra_flags: int) -> bytes:
        flags = UP | extra_flags | (UV if self.user_verified else 0)
        count = self.sign_count if self.counting else 0
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", count)

    def _sign(self, auth_data: bytes, client_data: bytes) -> bytes:
        return self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
