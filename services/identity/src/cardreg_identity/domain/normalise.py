"""Comparing household and residence-permit data as people type it with what the register holds.

Tolerant of differences that change nothing:
- Unicode NFKC, so full-width digits and letters count as ASCII ("１２" is "12", "Ａ" is "A");
- all whitespace (including the ideographic space U+3000) and invisible format characters removed;
- 台 and 臺 are the same character (the register writes 臺);
- household numbers and permit serials are compared upper-cased;
- neighbourhoods are numbers: "012", "12", "１２" and "12鄰" are all neighbourhood 12;
- the village suffix is not compared: "大學里", "大學" (and the typo "大學村") are one village.

Township: the register stores the full name with the city or county ("臺北市大安區"). People may
type the full name or only the district ("大安區"); the district alone is compared with the
district part of this person's own record. We accept that even where a district name exists in
several cities (臺北市大安區 and 臺中市大安區): the city adds little that a guesser could not
enumerate, while the household number carries the secret, and failed attempts are limited.
A city that is given must be the right one.

Strict otherwise: any other difference, such as another village or neighbourhood, is a mismatch.
"""

from __future__ import annotations

import functools
import sys
import unicodedata
from datetime import date
from typing import Protocol

from .people import HouseholdRecord, ResidencePermit
from .places import VILLAGE_SUFFIXES, split_township


class HouseholdClaim(Protocol):
    household_no: str
    township: str
    village: str
    neighborhood: str


class ResidenceClaim(Protocol):
    issued_on: date
    expires_on: date
    serial_no: str


def squash(text: str) -> str:
    """NFKC, no whitespace or invisible format characters, 臺 for 台."""
    if text.isascii():  # NFKC changes no ASCII, and no format character is ASCII
        return "".join(text.split())
    text = unicodedata.normalize("NFKC", text)
    return text.translate(_dropped()).replace("台", "臺")


@functools.cache
def _dropped() -> dict[int, None]:
    """Every whitespace and format (Cf) character, for str.translate: one pass in C, where a
    per-character test in Python made squash the import's hottest function."""
    return {
        code: None
        for code in range(sys.maxunicode + 1)
        if chr(code).isspace() or unicodedata.category(chr(code)) == "Cf"
    }


def canonical_code(text: str) -> str:
    """Household numbers and permit serials: squashed and upper-cased."""
    return squash(text).upper()


def neighborhood_number(text: str) -> int | None:
    """12 for "012", "12", "１２" or "12鄰"; None when it is not a number."""
    text = squash(text).removesuffix("鄰")
    if not text.isascii() or not text.isdigit():
        return None
    return int(text)


def _village_stem(text: str) -> str:
    name = squash(text)
    return name[:-1] if len(name) > 1 and name.endswith(VILLAGE_SUFFIXES) else name


def township_matches(stored: str, claimed: str) -> bool:
    claimed = squash(claimed)
    if claimed == stored:
        return True
    parts = split_township(stored)
    return parts is not None and claimed == parts[1]


def household_matches(stored: HouseholdRecord, claimed: HouseholdClaim) -> bool:
    """Every field compared (no early exit that would tell which one was wrong)."""
    results = (
        canonical_code(claimed.household_no) == stored.household_no,
        township_matches(stored.township, claimed.township),
        _village_stem(claimed.village) == _village_stem(stored.village),
        neighborhood_number(claimed.neighborhood) == stored.neighborhood,
    )
    return all(results)


def residence_matches(stored: ResidencePermit, claimed: ResidenceClaim) -> bool:
    results = (
        claimed.issued_on == stored.issued_on,
        claimed.expires_on == stored.expires_on,
        canonical_code(claimed.serial_no) == stored.serial_no,
    )
    return all(results)
