"""Wallet entries (`cardreg seed --wallet`): a synthetic person with a virtual card and its key.

A wallet line is all a test, a load client or the agent's virtual-card backend needs to act
as that person: it can answer a challenge exactly as a card would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from cardreg_shared.card import auth_message
from cardreg_shared.models.common import (
    CardFields,
    CardRead,
    Household,
    Model,
    Residence,
    b64url_decode,
    b64url_encode,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import model_validator


class WalletEntry(Model):
    kind: Literal["citizen", "foreigner"]
    card: CardFields
    card_key: str
    household: Household | None = None
    residence: Residence | None = None

    @model_validator(mode="after")
    def _proof_matches_kind(self) -> WalletEntry:
        if (self.kind == "citizen") != (self.household is not None) or (
            self.kind == "foreigner"
        ) != (self.residence is not None):
            raise ValueError("citizens carry household data, foreigners residence data")
        return self

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

    def proof(self) -> dict:
        """The registration proof for this person, as the HTTP API takes it."""
        if self.household is not None:
            return {"household": self.household.model_dump(mode="json")}
        return {"residence": self.residence.model_dump(mode="json")}


def load_wallet(path: Path) -> Iterator[WalletEntry]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield WalletEntry.model_validate(json.loads(line))
