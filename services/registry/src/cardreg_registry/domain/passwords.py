"""Password rules (NIST 800-63B): length after NFKC, no common passwords, not the ID number.

No composition rules: length and a deny-list protect better and annoy less.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from functools import cache

MIN_LENGTH = 8
MAX_LENGTH = 64


class WeakReason(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    CONTAINS_ID_NO = "contains_id_no"


def normalise_password(password: str) -> str:
    """NFKC, so the same password typed on another keyboard or IME hashes the same."""
    return unicodedata.normalize("NFKC", password)


@cache
def _common_passwords() -> frozenset[str]:
    # ~30k entries: loaded on first use, never at import time.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.casefold() for p in FREQUENCY_LISTS["passwords"])


def weakness(password: str, id_no: str) -> WeakReason | None:
    """Why a (normalised) password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return WeakReason.TOO_SHORT
    if len(password) > MAX_LENGTH:
        return WeakReason.TOO_LONG
    folded = password.casefold()
    if folded in _common_passwords():
        return WeakReason.COMMON
    if id_no.casefold() in folded:
        return WeakReason.CONTAINS_ID_NO
    return None


MESSAGES: dict[WeakReason, str] = {
    WeakReason.TOO_SHORT: f"The password must have at least {MIN_LENGTH} characters.",
    WeakReason.TOO_LONG: f"The password must have at most {MAX_LENGTH} characters.",
    WeakReason.COMMON: "This password is too common; choose one that is harder to guess.",
    WeakReason.CONTAINS_ID_NO: "The password must not contain the ID number.",
}
