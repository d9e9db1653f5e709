"""One card read, whatever carries the APDUs: SELECT, READ PROFILE, then the proof of possession.

A backend supplies `transmit` (command APDU -> response APDU with its status word) and maps its
own transport failures to `ReaderError`; everything the card says is judged here, so every
backend reads a card the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cardreg_shared.card import (
    READ_PROFILE,
    SELECT_NHI_APPLET,
    SIGNATURE_LENGTH,
    sign_nonce_apdu,
)
from cardreg_shared.models.common import CardFields, Nonce, Signature, b64url_encode

from .errors import ReaderError, ReaderErrorCode
from .profile import CardProfile, ProfileError, parse_profile

Transmit = Callable[[bytes], bytes]

SW_OK = 0x9000
GET_RESPONSE = bytes.fromhex("00C00000")
# A card without our signing command (a real NHI card: its own proof scheme is not public)
# says so with one of these; its read is profile-only.
NO_SIGNING_COMMAND = frozenset({0x6D00, 0x6E00, 0x6A81})
_MAX_GET_RESPONSE = 8


class AgentCardRead(CardFields):
    """The card read JSON (`cardreg_shared.models.common.CardRead`), except that `signature`
    is null for a profile-only read, which the gateway refuses outside its pilot mode."""

    nonce: Nonce
    signature: Signature | None


@dataclass(frozen=True)
class CardReadout:
    profile: CardProfile
    nonce: bytes
    signature: bytes | None  # None: the card has no signing command

    def card_read(self) -> AgentCardRead:
        return AgentCardRead(
            **self.profile.fields.model_dump(),
            nonce=b64url_encode(self.nonce),
            signature=None if self.signature is None else b64url_encode(self.signature),
        )


def read_card(transmit: Transmit, nonce: bytes) -> CardReadout:
    data, sw = exchange(transmit, SELECT_NHI_APPLET)
    _expect_ok(sw, "SELECT of the NHI applet")
    data, sw = exchange(transmit, READ_PROFILE)
    _expect_ok(sw, "READ PROFILE")
    try:
        profile = parse_profile(data)
    except ProfileError as exc:
        raise ReaderError(ReaderErrorCode.UNEXPECTED_CARD, f"profile: {exc}") from exc
    return CardReadout(profile, nonce, _prove_possession(transmit, nonce))


def _prove_possession(transmit: Transmit, nonce: bytes) -> bytes | None:
    signature, sw = exchange(transmit, sign_nonce_apdu(nonce))
    if sw in NO_SIGNING_COMMAND:
        return None
    _expect_ok(sw, "the proof APDU")
    if len(signature) != SIGNATURE_LENGTH:
        raise ReaderError(
            ReaderErrorCode.UNEXPECTED_CARD,
            f"a signature has {SIGNATURE_LENGTH} bytes, got {len(signature)}",
        )
    return signature


def exchange(transmit: Transmit, apdu: bytes) -> tuple[bytes, int]:
    """(data, status word), following 61xx "more data" with GET RESPONSE."""
    data = b""
    response = transmit(apdu)
    for _ in range(_MAX_GET_RESPONSE):
        if len(response) < 2:
            # Under vpcd a card pulled out mid-command leaves a "successful" empty answer.
            raise ReaderError(ReaderErrorCode.CARD_REMOVED, "an answer without a status word")
        data += response[:-2]
        sw = int.from_bytes(response[-2:], "big")
        if sw >> 8 != 0x61:
            return data, sw
        response = transmit(GET_RESPONSE + bytes([sw & 0xFF]))
    raise ReaderError(ReaderErrorCode.UNEXPECTED_CARD, "endless GET RESPONSE chain")


def _expect_ok(sw: int, command: str) -> None:
    if sw != SW_OK:
        raise ReaderError(ReaderErrorCode.UNEXPECTED_CARD, f"{command} answered {sw:04X}")
