"""What the flows need from storage, and the records it hands back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from ..domain.people import (
    CardStatus,
    HouseholdRecord,
    InsuredUnit,
    Kind,
    Person,
    ResidencePermit,
    Sex,
)


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
    """A person's household or residence data and their guessing state; `person` is the whole
    record (documents, insured unit)."""

    person_id: str
    kind: Kind
    household: HouseholdRecord | None
    permit: ResidencePermit | None
    locked_until: float | None
    person: Person | None = None


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

    async def person_by_id_no(self, id_no: str) -> ProofRecord | None: ...

    async def record_failure(self, person_id: str, now: float) -> GuessRecorded:
        """Count one failure and lock per the policy, atomically, unless already locked."""
        ...

    async def record_success(self, person_id: str, now: float) -> GuessRecorded:
        """Reset the count, atomically, unless locked meanwhile."""
        ...


@dataclass(frozen=True, slots=True)
class RosterCard:
    """A card as `cardreg seed` and `cardreg import` write it: number, holder, issue date, key."""

    card_no: str
    person_id: str
    issued_on: date
    public_key: bytes


class CardNumberTaken(Exception):
    """A card number this transaction found free was stored meanwhile by a writer beside it
    (an import loading in slices, one card listed for two people): the transaction is rolled
    back, and the batch is written again, finding the card taken."""


class RosterWriter(Protocol):
    """Bulk writes of people and cards for `cardreg seed` and `cardreg import`, in batches, each
    inside `transaction()` (the write lock: reads inside see what the writes will go over).

    People are keyed by ID number: writing a person again keeps their opaque person_id and
    their guessing state. A person's newest card (latest issue date) is active, the rest are
    replaced.
    """

    def transaction(self) -> AbstractContextManager[object]: ...

    def taken_id_nos(self, id_nos: Iterable[str]) -> set[str]: ...

    def taken_card_nos(self, card_nos: Iterable[str]) -> set[str]: ...

    def add_new(self, people: Sequence[tuple[Person, str, date, bytes]]) -> None:
        """People known to be new (seeding), each with one active card: (person, card_no,
        issued_on, public_key)."""
        ...

    def upsert_people(self, people: Iterable[Person]) -> None: ...

    def upsert_units(self, units: Iterable[InsuredUnit]) -> None: ...

    def known_units(self, unit_ids: Iterable[str]) -> set[str]:
        """The stored unit ids among `unit_ids`."""
        ...

    def holders_by_id_no(self, id_nos: Iterable[str]) -> dict[str, tuple[str, date]]:
        """id_no -> (person_id, birth_date) for the stored people among `id_nos`."""
        ...

    def card_owners(self, card_nos: Iterable[str]) -> dict[str, str]:
        """card_no -> person_id for the stored cards among `card_nos`."""
        ...

    def upsert_cards(self, cards: Sequence[RosterCard]) -> None:
        """Insert or update cards, then settle which card of each holder is active;
        `CardNumberTaken` when a card number `card_owners` found free is no longer."""
        ...
