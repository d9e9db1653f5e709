"""What the flows need from storage, and the records it hands back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from ..domain.people import CardStatus, HouseholdRecord, Kind, ResidencePermit, Sex


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """A card from the roster joined with its holder: everything a card check compares."""

    card_no: str
    status: CardStatus
    issued_on: date
    public_key: bytes
    person_id: str
    kind: Kind
    id_no: str
    name: str
    birth_date: date
    sex: Sex


@dataclass(frozen=True, slots=True)
class ProofRecord:
    """A person's household or residence data and their guessing state."""

    person_id: str
    kind: Kind
    household: HouseholdRecord | None
    permit: ResidencePermit | None
    locked_until: float | None


@dataclass(frozen=True, slots=True)
class GuessRecorded:
    """`accepted` False: a concurrent failure locked the person first and nothing changed.

    `locked_until` is the lock now in force (set by this failure, or the one that refused us).
    """

    accepted: bool
    locked_until: float | None


class IdentityStore(Protocol):
    async def roster_entry(self, card_no: str) -> RosterEntry | None: ...

    async def proof_record(self, person_id: str) -> ProofRecord | None: ...

    async def record_failure(self, person_id: str, now: float) -> GuessRecorded:
        """Count one failure and lock per the policy, atomically, unless already locked."""
        ...

    async def record_success(self, person_id: str, now: float) -> GuessRecorded:
        """Reset the count, atomically, unless locked meanwhile."""
        ...
