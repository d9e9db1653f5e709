"""Bound devices (FAQ 10): a phone the holder bound after a card + password login, proven
afterwards by its passkey (a WebAuthn credential), and the single-use links that bind them.

A binding link is 256 random bits kept only as a SHA-256 hash (like a reset token): single
use, 5 minutes. A device keeps what verifying its assertions needs: the credential id, the
public key (COSE), the signature counter, and for the holder's list a name and two times.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MAX_DEVICES = 5
BINDING_TTL = timedelta(minutes=5)
DEVICE_PASSWORD = "device+password"
DEVICE_PASSWORD_AMR = ("pwd", "hwk")  # a password and a hardware-bound key (RFC 8176)


def new_binding_secret() -> str:
    """What goes into the binding link; never stored or logged."""
    return secrets.token_urlsafe(32)


def hash_binding_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def binding_url(public_base_url: str, secret: str) -> str:
    """`{base}/m/#binding=…`: in the fragment, so the secret never reaches a server log or a
    Referer header; the mobile page reads it and posts it."""
    return f"{public_base_url.rstrip('/')}/m/#binding={secret}"


def new_device_id() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class DeviceBinding:
    token_hash: str = field(repr=False)
    account_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    @classmethod
    def issue(cls, secret: str, account_id: str, now: datetime) -> DeviceBinding:
        return cls(hash_binding_secret(secret), account_id, now, now + BINDING_TTL)

    def usable_at(self, now: datetime) -> bool:
        return self.used_at is None and self.expires_at > now


@dataclass(frozen=True)
class Device:
    """One bound phone. The credential id and the public key are base64url text."""

    device_id: str
    account_id: str
    credential_id: str
    public_key: str = field(repr=False)
    sign_count: int
    transports: tuple[str, ...]
    aaguid: str
    name: str = field(repr=False)
    created_at: datetime
    last_used_at: datetime | None = None

    def used(self, sign_count: int, now: datetime) -> Device:
        return Device(
            self.device_id,
            self.account_id,
            self.credential_id,
            self.public_key,
            sign_count,
            self.transports,
            self.aaguid,
            self.name,
            self.created_at,
            now,
        )


class PasskeyRejected(Exception):
    """The credential or assertion did not verify; the message is for logs (no secrets)."""


@dataclass(frozen=True)
class NewPasskey:
    credential_id: str  # base64url
    public_key: str  # base64url of the COSE key
    sign_count: int
    aaguid: str
    transports: tuple[str, ...]
    attestation_format: str


@dataclass(frozen=True)
class KnownPasskey:
    credential_id: str
    transports: tuple[str, ...]
