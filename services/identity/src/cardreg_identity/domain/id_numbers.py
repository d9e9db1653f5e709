"""Taiwanese ID numbers: check digits, who they belong to, and a generator for synthetic people.

Formats (all ten characters; the last is a check digit):
- citizens: letter + 1 (male) / 2 (female) + 7 digits + check;
- foreign residents since 2021: letter + 8 (male) / 9 (female) + 7 digits + check;
- foreign residents, older ARC numbers: letter + A/C (male) / B/D (female) + 7 digits + check.

The check: the first letter becomes two digits (its area code, e.g. A=10), the second character a
digit (a letter counts as its code's last digit); with weights 1,9,8,7,6,5,4,3,2,1,1 the sum of
all eleven digits is a multiple of ten.
"""

from __future__ import annotations

import random
import re
from typing import Literal

Kind = Literal["citizen", "foreigner"]
Sex = Literal["M", "F"]

LETTER_CODES: dict[str, int] = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "I": 34,
    "J": 18, "K": 19, "L": 20, "M": 21, "N": 22, "O": 35, "P": 23, "Q": 24, "R": 25,
    "S": 26, "T": 27, "U": 28, "V": 29, "W": 32, "X": 30, "Y": 31, "Z": 33,
}  # fmt: skip

_SHAPE = re.compile(r"[A-Z][A-Z0-9][0-9]{8}")
_SECOND_SEX: dict[str, Sex] = {
    "1": "M", "2": "F",  # citizens
    "8": "M", "9": "F",  # foreign residents, 2021 format
    "A": "M", "C": "M", "B": "F", "D": "F",  # foreign residents, older ARC numbers
}  # fmt: skip
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 1)
_LETTERS = tuple(LETTER_CODES)


# What the letter and the second character add to the weighted sum (the import checks every
# number of the population, so the per-number work is kept to table lookups).
_LETTER_PART = {letter: code // 10 + (code % 10) * 9 for letter, code in LETTER_CODES.items()}
_SECOND_PART = {
    **{digit: int(digit) * _WEIGHTS[0] for digit in "0123456789"},
    **{letter: (code % 10) * _WEIGHTS[0] for letter, code in LETTER_CODES.items()},
}
_DIGIT = {digit: int(digit) for digit in "0123456789"}


def _check_digit(letter: str, second: str, middle: str) -> int:
    """The digit that completes `letter + second + middle` (7 digits) to a valid number."""
    total = _LETTER_PART[letter] + _SECOND_PART[second]
    for digit, weight in zip(middle, _WEIGHTS[1:]):
        total += _DIGIT[digit] * weight
    return -total % 10


def is_valid(id_no: str) -> bool:
    """Shape, a known second character and a correct check digit."""
    if not _SHAPE.fullmatch(id_no) or id_no[1] not in _SECOND_SEX:
        return False
    return _check_digit(id_no[0], id_no[1], id_no[2:9]) == int(id_no[9])


def kind_of(id_no: str) -> Kind | None:
    """Whose number this is, or None when it is not a valid number."""
    if not is_valid(id_no):
        return None
    return "citizen" if id_no[1] in "12" else "foreigner"


def sex_of(id_no: str) -> Sex | None:
    return _SECOND_SEX[id_no[1]] if is_valid(id_no) else None


def _complete(letter: str, second: str, rng: random.Random) -> str:
    middle = f"{int(rng.random() * 10_000_000):07d}"
    return f"{letter}{second}{middle}{_check_digit(letter, second, middle)}"


def citizen_id(rng: random.Random, sex: Sex, letter: str | None = None) -> str:
    """A valid, random citizen number; `letter` is the area of first registration."""
    return _complete(letter or rng.choice(_LETTERS), "1" if sex == "M" else "2", rng)


def foreigner_id(rng: random.Random, sex: Sex, *, old_format: bool = False) -> str:
    """A valid, random foreign resident number (2021 format unless `old_format`)."""
    if old_format:
        second = rng.choice("AC" if sex == "M" else "BD")
    else:
        second = "8" if sex == "M" else "9"
    return _complete(rng.choice(_LETTERS), second, rng)
