"""A wallet line as a card: the one place a wallet's key answers a challenge.

The format is the contract `cardreg_shared.wallet.WalletEntry`; `WalletCard` adds what the
card does with its key, exactly as a chip card with our applet would. The virtual-card backend
(`virtual.py`), the login benchmark and the tests all sign through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cardreg_shared.card import auth_message
from cardreg_shared.models.common import CardRead, b64url_decode, b64url_encode
from cardreg_shared.wallet import WalletEntry
from cardreg_shared.wallet import load_wallet as _load
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class WalletCard(WalletEntry):
    def private_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(b64url_decode(self.card_key))

    def sign(self, nonce: bytes) -> bytes:
        return self.private_key().sign(auth_message(nonce, self.card.card_no))

    def read(self, nonce_b64: str) -> CardRead:
        """The card read the agent would produce for this challenge."""
        signature = self.sign(b64url_decode(nonce_b64))
        return CardRead(
            **self.card.model_dump(), nonce=nonce_b64, signature=b64url_encode(signature)
        )


def load_wallet(path: Path) -> Iterator[WalletCard]:
    return _load(path, WalletCard)
