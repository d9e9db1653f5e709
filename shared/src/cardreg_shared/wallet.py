"""The wallet (`cardreg seed --wallet`): JSON lines, one per synthetic person, each with the
card's fields, the card's Ed25519 key, the household or residence-permit data, the person's
documents and insured unit.

A contract between `cardreg seed` (identity writes it) and what acts as those people: the
reader agent's virtual card (`cardreg agent --card FILE`, one line), the login benchmark and
the tests. This module is the format only; answering a challenge with the line's key is the
card's business (`cardreg_agent.wallet.WalletCard`), so the contracts need no crypto library.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, model_validator

from .models.common import CardFields, DocumentType, Household, Model, Residence


class WalletEntry(Model):
    kind: Literal["citizen", "foreigner"]
    card: CardFields
    card_key: str  # base64url (no padding) of the raw 32-byte Ed25519 private key
    household: Household | None = None
    residence: Residence | None = None
    # The documents the person has, type -> number (what a clerk would be shown), and the
    # insured unit (employer) they belong to, if any.
    documents: dict[DocumentType, str] = Field(default_factory=dict)
    insured_unit: str | None = None

    @model_validator(mode="after")
    def _proof_matches_kind(self) -> WalletEntry:
        if (self.kind == "citizen") != (self.household is not None) or (
            self.kind == "foreigner"
        ) != (self.residence is not None):
            raise ValueError("citizens carry household data, foreigners residence data")
        return self

    def proof(self) -> dict[str, Any]:
        """The registration proof for this person, as the HTTP API takes it."""
        if self.household is not None:
            return {"household": self.household.model_dump(mode="json")}
        assert self.residence is not None  # the validator saw to it
        return {"residence": self.residence.model_dump(mode="json")}


E = TypeVar("E", bound=WalletEntry)


def load_wallet(path: Path, entry: type[E] = WalletEntry) -> Iterator[E]:  # type: ignore[assignment]
    """Each line of the wallet at `path` as `entry` (the format, or a subclass that adds to it)."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield entry.model_validate(json.loads(line))
