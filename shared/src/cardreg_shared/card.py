"""The card protocol (DESIGN "Cards"): APDUs, the profile layout and the signed message.

Pure bytes: no crypto library here. Signing lives with cards (agent, wallets), verifying with
identity.
"""

from __future__ import annotations

AUTH_CONTEXT = b"cardreg/card-auth/v1\x00"

SELECT_NHI_APPLET = bytes.fromhex("00A4040010D158000001000000000000000000001100")
READ_PROFILE = bytes.fromhex("00CA1100020000")
PROFILE_LENGTH = 57
SIGN_NONCE_HEADER = bytes.fromhex("8088000020")
SIGNATURE_LENGTH = 64
STATUS_OK = bytes.fromhex("9000")


def auth_message(nonce: bytes, card_no: str) -> bytes:
    """What a card signs to prove possession: context + fresh nonce + card number."""
    return AUTH_CONTEXT + nonce + card_no.encode("ascii")


def sign_nonce_apdu(nonce: bytes) -> bytes:
    if len(nonce) != 32:
        raise ValueError("nonce must be 32 bytes")
    return SIGN_NONCE_HEADER + nonce + bytes([SIGNATURE_LENGTH])
