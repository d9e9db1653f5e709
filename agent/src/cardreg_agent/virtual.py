"""The virtual-card backend (`cardreg agent --card FILE`): a wallet line acting as a card.

The card answers the same APDUs a card with our applet does, built from the wallet entry, and
the read goes through `card_protocol` like any other: its JSON equals a PC/SC read of the same
card, signature included (Ed25519 signatures are deterministic).
"""

from __future__ import annotations

from cardreg_shared.card import READ_PROFILE, SELECT_NHI_APPLET, SIGN_NONCE_HEADER, SIGNATURE_LENGTH

from .card_protocol import CardReadout, read_card
from .errors import ReaderError, ReaderErrorCode
from .profile import ProfileError, build_profile
from .reader import ReaderStatus
from .wallet import WalletCard

VIRTUAL_READER_NAME = "cardreg virtual card"
SW_OK = b"\x90\x00"
SW_NOT_SUPPORTED = b"\x6d\x00"
SW_NOT_FOUND = b"\x6a\x82"
SW_NOT_SELECTED = b"\x69\x85"
SW_WRONG_LENGTH = b"\x67\x00"


class AppletCard:
    """A card with our applet, answering from a wallet entry."""

    def __init__(self, entry: WalletCard) -> None:
        self.entry = entry
        self.selected = False

    def transmit(self, apdu: bytes) -> bytes:
        if apdu == SELECT_NHI_APPLET:
            self.selected = True
            return SW_OK
        if apdu[:1] == b"\x00" and apdu[1:2] == b"\xa4":
            self.selected = False
            return SW_NOT_FOUND
        if apdu == READ_PROFILE:
            return self._profile() + SW_OK if self.selected else SW_NOT_SELECTED
        if apdu.startswith(SIGN_NONCE_HEADER):
            return self._sign(apdu[len(SIGN_NONCE_HEADER) :])
        return SW_NOT_SUPPORTED

    def _profile(self) -> bytes:
        try:
            return build_profile(self.entry.card)
        except ProfileError as exc:
            # The wallet's card cannot exist as a chip card (e.g. a name outside Big5).
            raise ReaderError(ReaderErrorCode.UNEXPECTED_CARD, f"wallet card: {exc}") from exc

    def _sign(self, body: bytes) -> bytes:
        if not self.selected:
            return SW_NOT_SELECTED
        if len(body) != 33 or body[-1] != SIGNATURE_LENGTH:  # nonce + Le
            return SW_WRONG_LENGTH
        return self.entry.sign(body[:32]) + SW_OK


class VirtualReader:
    """A reader with the wallet's card always inserted."""

    def __init__(self, entry: WalletCard) -> None:
        self.entry = entry

    def status(self) -> ReaderStatus:
        return ReaderStatus(reader=VIRTUAL_READER_NAME, card_present=True)

    def read(self, nonce: bytes) -> CardReadout:
        card = AppletCard(self.entry)  # a fresh power-up per read, as a reader does
        return read_card(card.transmit, nonce)
