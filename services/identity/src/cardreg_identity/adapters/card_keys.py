"""Ed25519 card keys: the roster keeps the public half, the card (or a wallet) the seed."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..domain.people import CARD_KEY_BYTES as PUBLIC_KEY_BYTES

__all__ = ["PUBLIC_KEY_BYTES", "new_card_key", "signature_valid"]


def new_card_key() -> tuple[bytes, bytes]:
    """(private seed, public key), 32 raw bytes each."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes_raw(), key.public_key().public_bytes_raw()


def signature_valid(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
