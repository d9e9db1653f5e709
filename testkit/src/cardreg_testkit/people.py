"""A virtual person with a card: a wallet line with a real Ed25519 key, as `cardreg seed`
writes them, signing challenges exactly as the card would (`cardreg_agent.wallet`)."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from cardreg_agent.wallet import WalletCard, load_wallet
from cardreg_shared.models.common import CardFields, Household, b64url_encode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_card_numbers = itertools.count(200000000001)


def wallet_person(**card: Any) -> WalletCard:
    """A citizen with a fresh card number and key; any card field may be given instead."""
    fields = {
        "card_no": str(next(_card_numbers)),
        "id_no": "A123456789",
        "name": "陳志明",
        "birth_date": date(1986, 3, 12),
        "sex": "M",
        "issued_on": date(2020, 1, 2),
    } | card
    key = Ed25519PrivateKey.generate()
    return WalletCard(
        kind="citizen",
        card=CardFields(**fields),
        card_key=b64url_encode(key.private_bytes_raw()),
        household=Household(
            household_no="F1234567", township="臺北市大安區", village="龍安里", neighborhood="12"
        ),
    )


__all__ = ["WalletCard", "load_wallet", "wallet_person"]
