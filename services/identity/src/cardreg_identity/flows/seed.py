"""`cardreg seed`: synthetic people and cards into the roster, plus their wallet.

Batches of people are generated outside the write lock, then checked against the roster and
inserted inside one write transaction: a number another writer (a second seed, an import)
took in the meantime is replaced before the insert, so seeding twice never collides. The
wallet line of a person is written once their batch is committed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from cardreg_shared.models.common import b64url_encode

from ..domain.documents import documents_of
from ..domain.people import Kind
from ..domain.synthetic import SyntheticPeople, SyntheticPerson
from .ports import RosterWriter

BATCH_SIZE = 10_000

# A fresh card key pair: (private seed, public key), 32 raw bytes each (`adapters.card_keys`).
CardKeys = Callable[[], tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class SeedSummary:
    citizens: int
    foreigners: int
    seconds: float
    employers: int = 0


def wallet_line(synthetic: SyntheticPerson, card_key: bytes, today: date) -> str:
    """One wallet entry (the contract: `cardreg_shared.wallet.WalletEntry`) as a JSON line."""
    person = synthetic.person
    entry: dict = {
        "kind": person.kind,
        "card": {
            "card_no": synthetic.card_no,
            "id_no": person.id_no,
            "name": person.name,
            "birth_date": person.birth_date.isoformat(),
            "sex": person.sex,
            "issued_on": synthetic.card_issued_on.isoformat(),
        },
        "card_key": b64url_encode(card_key),
    }
    if person.household is not None:
        household = person.household
        entry["household"] = {
            "household_no": household.household_no,
            "township": household.township,
            "village": household.village,
            "neighborhood": str(household.neighborhood),
        }
    if person.permit is not None:
        permit = person.permit
        entry["residence"] = {
            "issued_on": permit.issued_on.isoformat(),
            "expires_on": permit.expires_on.isoformat(),
            "serial_no": permit.serial_no,
        }
    entry["documents"] = documents_of(person, today)
    entry["insured_unit"] = person.insured_unit
    return json.dumps(entry, ensure_ascii=False) + "\n"


@contextmanager
def _open_wallet(path: Path, append: bool) -> Iterator[TextIO]:
    """Card keys are secrets: the wallet is readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    with open(os.open(path, flags, 0o600), "w", encoding="utf-8") as wallet:
        yield wallet


@dataclass(frozen=True, slots=True)
class Holder:
    """A synthetic person with the key pair of their card."""

    synthetic: SyntheticPerson
    private_key: bytes
    public_key: bytes


def make_batch(
    people: SyntheticPeople, kinds: Sequence[Kind], new_card_key: CardKeys
) -> list[Holder]:
    return [Holder(people.make(kind), *new_card_key()) for kind in kinds]


def _repeated(values: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for value in values:
        (repeated if value in seen else seen).add(value)
    return repeated


def _unclaimed(
    roster: RosterWriter, renumber: SyntheticPeople, batch: list[Holder]
) -> list[Holder]:
    """Renumber anyone whose ID or card number is stored or repeated (inside the write lock).

    The generator never repeats itself; the repeat check guards renumbering all the same.
    """
    while True:
        ids = [h.synthetic.person.id_no for h in batch]
        cards = [h.synthetic.card_no for h in batch]
        taken_ids = roster.taken_id_nos(ids) | _repeated(ids)
        taken_cards = roster.taken_card_nos(cards) | _repeated(cards)
        if not taken_ids and not taken_cards:
            return batch
        batch = [
            dataclasses.replace(
                h,
                synthetic=renumber.renumbered(
                    h.synthetic, id_no=id_no in taken_ids, card_no=card_no in taken_cards
                ),
            )
            if id_no in taken_ids or card_no in taken_cards
            else h
            for h, id_no, card_no in zip(batch, ids, cards)
        ]


def _insert(roster: RosterWriter, batch: list[Holder]) -> None:
    roster.add_new(
        [
            (h.synthetic.person, h.synthetic.card_no, h.synthetic.card_issued_on, h.public_key)
            for h in batch
        ]
    )


def seed_people(
    roster: RosterWriter,
    *,
    citizens: int,
    foreigners: int,
    wallet: Path,
    new_card_key: CardKeys,
    append: bool = False,
    rng: random.Random | None = None,
    today: date | None = None,
    batch_size: int = BATCH_SIZE,
    employers: int | None = None,
) -> SeedSummary:
    """`employers` insured units (default: one per 20 people, at least one when there are
    people); most working-age people are insured through one of them."""
    started = time.perf_counter()
    rng = rng or random.Random()
    today = today or date.today()
    people = SyntheticPeople(rng, today)
    total = citizens + foreigners
    if employers is None:
        employers = max(1, total // 20) if total else 0
    units = people.units(employers)
    while units:
        with roster.transaction():
            taken = roster.known_units(unit.unit_id for unit in units)
            if not taken:
                roster.upsert_units(units)
                break
        # Another seed took an id meanwhile: draw again (the generator never repeats itself).
        people = SyntheticPeople(rng, today)
        units = people.units(employers)
    plan: list[Kind] = ["citizen"] * citizens + ["foreigner"] * foreigners
    with _open_wallet(wallet, append) as out:
        for start in range(0, len(plan), batch_size):
            batch = make_batch(people, plan[start : start + batch_size], new_card_key)
            with roster.transaction():
                batch = _unclaimed(roster, people, batch)
                _insert(roster, batch)
            out.writelines(wallet_line(h.synthetic, h.private_key, today) for h in batch)
            out.flush()
    return SeedSummary(citizens, foreigners, time.perf_counter() - started, employers)
