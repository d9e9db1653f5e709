"""Synthetic people for load tests and demos: realistic shapes, no real person's data.

Valid ID check digits; real townships with common village names; Big5 Chinese names for
citizens and romanised names for foreign residents; consistent dates (born 1930-2008, card
issued after birth and after 2004 when the chip cards began, permits valid today). Numbers are
unique within one generator; the caller checks them against what is already stored.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import TypeVar

from . import id_numbers
from .documents import age_on
from .people import HouseholdRecord, InsuredUnit, Kind, Person, ResidencePermit, Sex
from .places import CITIES
from .sample_data import (
    FOREIGN_GIVEN,
    FOREIGN_SURNAMES,
    GIVEN_CHARS,
    SURNAMES,
    TOWNSHIPS,
    VILLAGE_STEMS,
)

T = TypeVar("T")

BIRTH_FIRST = date(1930, 1, 1)
BIRTH_LAST = date(2008, 12, 31)
CHIP_CARDS_SINCE = date(2004, 1, 1)
FOREIGN_NAME_MAX = 20
# Some citizens are children under 14 (no ID card: the household register serves).
CHILD_SHARE = 0.06
PASSPORT_SHARE = 0.4  # of adults
LICENCE_SHARE = 0.5  # of adults
INSURED_SHARE = 0.8  # of working-age people (15-64), when there are units
_UNIT_KINDS = ("股份有限公司", "有限公司", "企業社", "商行", "診所", "基金會")
_UNIT_STEMS = ("大安", "長春", "信義", "中興", "和平", "光明", "永豐", "福德", "新生", "富邦")

_SURNAMES = tuple(name for name, _ in SURNAMES)
_SURNAME_WEIGHTS = tuple(accumulate(weight for _, weight in SURNAMES))


@dataclass(frozen=True, slots=True)
class SyntheticPerson:
    """A person and the number and issue date of their card (the key is made elsewhere)."""

    person: Person
    card_no: str
    card_issued_on: date


# random() is several times faster than choice()/randrange(), which matters at 100k people;
# the bias of scaling a 53-bit float is far below anything a synthetic data set could show.
def _below(rng: random.Random, n: int) -> int:
    return int(rng.random() * n)


def _pick(rng: random.Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=_below(rng, max(0, (last - first).days) + 1))


class SyntheticPeople:
    def __init__(self, rng: random.Random, today: date, units: Sequence[InsuredUnit] = ()) -> None:
        self._rng = rng
        self._today = today
        self._units = tuple(units)
        self._id_nos: set[str] = set()
        self._card_nos: set[str] = set()
        self._passport_nos: set[str] = set()

    def units(self, count: int) -> list[InsuredUnit]:
        """`count` insured units (employers) with unique 9-digit ids; later people may be
        insured through them."""
        taken = {unit.unit_id for unit in self._units}
        made: list[InsuredUnit] = []
        while len(made) < count:
            unit_id = f"{_below(self._rng, 10**9):09d}"
            if unit_id in taken:
                continue
            taken.add(unit_id)
            name = f"{_pick(self._rng, _UNIT_STEMS)}{_pick(self._rng, _UNIT_KINDS)}"
            made.append(InsuredUnit(unit_id, name))
        self._units += tuple(made)
        return made

    def make(self, kind: Kind) -> SyntheticPerson:
        rng = self._rng
        sex: Sex = "M" if rng.random() < 0.5 else "F"
        if kind == "citizen" and rng.random() < CHILD_SHARE:
            birth = _day_between(
                rng, self._today.replace(year=self._today.year - 13), self._today - timedelta(30)
            )
        else:
            birth = _day_between(rng, BIRTH_FIRST, BIRTH_LAST)
        if kind == "citizen":
            township = _pick(rng, TOWNSHIPS)
            person = Person(
                kind="citizen",
                id_no=self._citizen_id(sex, CITIES[township[:3]]),
                name=self._chinese_name(sex),
                birth_date=birth,
                sex=sex,
                household=self._household(township),
            )
        else:
            person = Person(
                kind="foreigner",
                id_no=self._foreigner_id(sex),
                name=self._foreign_name(sex),
                birth_date=birth,
                sex=sex,
                permit=self._permit(),
            )
        person = self._documents_and_unit(person)
        issued = _day_between(rng, max(birth, CHIP_CARDS_SINCE), self._today - timedelta(days=1))
        return SyntheticPerson(person, self.card_no(), issued)

    def _documents_and_unit(self, person: Person) -> Person:
        rng = self._rng
        age = age_on(person.birth_date, self._today)
        passport = licence = unit = None
        if age >= 18 and person.kind == "citizen" and rng.random() < PASSPORT_SHARE:
            passport = self._passport_no()
        if age >= 18 and rng.random() < LICENCE_SHARE:
            licence = person.id_no  # a Taiwanese driving licence's number is the ID number
        if self._units and 15 <= age < 65 and rng.random() < INSURED_SHARE:
            unit = _pick(rng, self._units).unit_id
        return dataclasses.replace(
            person, passport_no=passport, driving_licence_no=licence, insured_unit=unit
        )

    def _passport_no(self) -> str:
        while True:
            number = f"3{_below(self._rng, 10**8):08d}"
            if number not in self._passport_nos:
                self._passport_nos.add(number)
                return number

    def renumbered(
        self, synthetic: SyntheticPerson, *, id_no: bool, card_no: bool
    ) -> SyntheticPerson:
        """The same person with fresh numbers where the old ones turned out to be taken."""
        person = synthetic.person
        if id_no:
            fresh = (
                self._citizen_id(person.sex, person.id_no[0])
                if person.kind == "citizen"
                else self._foreigner_id(person.sex, old_format=person.id_no[1].isalpha())
            )
            licence = fresh if person.driving_licence_no is not None else None
            person = dataclasses.replace(person, id_no=fresh, driving_licence_no=licence)
        number = self.card_no() if card_no else synthetic.card_no
        return SyntheticPerson(person, number, synthetic.card_issued_on)

    def card_no(self) -> str:
        while True:
            number = f"{_below(self._rng, 10**12):012d}"
            if number not in self._card_nos:
                self._card_nos.add(number)
                return number

    def _unique_id(self, draw) -> str:
        while True:
            id_no = draw()
            if id_no not in self._id_nos:
                self._id_nos.add(id_no)
                return id_no

    def _citizen_id(self, sex: Sex, home_letter: str) -> str:
        # Most people still carry the letter of the area where they were first registered.
        letter = home_letter if self._rng.random() < 0.7 else None
        return self._unique_id(lambda: id_numbers.citizen_id(self._rng, sex, letter))

    def _foreigner_id(self, sex: Sex, *, old_format: bool | None = None) -> str:
        old = self._rng.random() < 0.15 if old_format is None else old_format
        return self._unique_id(lambda: id_numbers.foreigner_id(self._rng, sex, old_format=old))

    def _chinese_name(self, sex: Sex) -> str:
        surname = self._rng.choices(_SURNAMES, cum_weights=_SURNAME_WEIGHTS)[0]
        chars = GIVEN_CHARS[sex]
        given = _pick(self._rng, chars)
        if self._rng.random() < 0.9:
            given += _pick(self._rng, chars)
        return surname + given

    def _foreign_name(self, sex: Sex) -> str:
        name = f"{_pick(self._rng, FOREIGN_SURNAMES)} {_pick(self._rng, FOREIGN_GIVEN[sex])}"
        return name[:FOREIGN_NAME_MAX].rstrip()

    def _household(self, township: str) -> HouseholdRecord:
        rng = self._rng
        suffix = "村" if township.endswith("鄉") else "里"
        return HouseholdRecord(
            household_no=f"{CITIES[township[:3]]}{_below(rng, 10**7):07d}",
            township=township,
            village=_pick(rng, VILLAGE_STEMS) + suffix,
            neighborhood=1 + _below(rng, 30),
        )

    def _permit(self) -> ResidencePermit:
        rng = self._rng
        years = 1 + _below(rng, 3)
        # Issued recently enough that the permit is still valid for at least a month.
        issued = self._today - timedelta(days=_below(rng, years * 365 - 30))
        expires = issued + timedelta(days=years * 365)
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        serial = f"{_pick(rng, letters)}{_pick(rng, letters)}{_below(rng, 10**8):08d}"
        return ResidencePermit(issued_on=issued, expires_on=expires, serial_no=serial)
