"""The people and cards identity holds: plain values, already in canonical form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

# Opaque, random 128-bit ids: never derived from the ID number.
PERSON_ID = re.compile(r"[0-9a-f]{32}")
# A card's public key in the roster: raw Ed25519, 32 bytes.
CARD_KEY_BYTES = 32

Kind = Literal["citizen", "foreigner"]
Sex = Literal["M", "F"]
CardStatus = Literal["active", "replaced"]


@dataclass(frozen=True, slots=True)
class HouseholdRecord:
    """A citizen's household registration; township with its city ("臺北市大安區")."""

    household_no: str
    township: str
    village: str
    neighborhood: int


@dataclass(frozen=True, slots=True)
class ResidencePermit:
    """A foreign resident's chip residence permit (ARC)."""

    issued_on: date
    expires_on: date
    serial_no: str


@dataclass(frozen=True, slots=True)
class Person:
    kind: Kind
    id_no: str
    name: str
    birth_date: date
    sex: Sex
    household: HouseholdRecord | None = None
    permit: ResidencePermit | None = None
    passport_no: str | None = None
    driving_licence_no: str | None = None
    insured_unit: str | None = None  # the employer's unit id (insured_units)


@dataclass(frozen=True, slots=True)
class Card:
    """A card issued to a person: its number, issue date and the public half of its key."""

    card_no: str
    id_no: str
    issued_on: date
    public_key: bytes


@dataclass(frozen=True, slots=True)
class InsuredUnit:
    """An insured unit (投保單位): an employer through which people are insured."""

    unit_id: str  # 9 digits
    name: str
