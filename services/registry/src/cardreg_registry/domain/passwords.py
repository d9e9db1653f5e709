"""Password rules (NIST 800-63B): length after NFKC, no common passwords, not the ID number,
and nothing a person cannot type: no control characters, no U+FFFD, not only whitespace.

No composition rules: length and a deny-list protect better and annoy less. The rules apply
where a password is set (registration, change, reset), never at login: a login with a
password no rule would allow simply fails.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from enum import StrEnum
from functools import cache

MIN_LENGTH = 8
MAX_LENGTH = 64


class WeakReason(StrEnum):
    CONTROL_CHARACTER = "control_character"
    WHITESPACE_ONLY = "whitespace_only"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    CONTAINS_ID_NO = "contains_id_no"


# C0 (U+0000-U+001F, tab and newline included), DEL, C1 (U+0080-U+009F): what is left of a
# paste gone wrong or a terminal's escape, never typed on purpose. U+FFFD stands for bytes a
# decoder could not read: the password the person meant is not the one we would store.
REPLACEMENT_CHARACTER = "\ufffd"


def normalise_password(password: str) -> str:
    """NFKC, so the same password typed on another keyboard or IME hashes the same."""
    return unicodedata.normalize("NFKC", password)


@cache
def _common_passwords() -> frozenset[str]:
    # ~30k entries: loaded on first use, never at import time.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.casefold() for p in FREQUENCY_LISTS["passwords"])


# Given the (normalised) password: does it contain the ID number? The registry keeps only a
# keyed hash of the number (id_numbers.py), so after registration this is how it asks.
IdNoCheck = Callable[[str], bool]


def weakness(password: str, id_no: str | IdNoCheck) -> WeakReason | None:
    """Why a (normalised) password is refused, or None when it is acceptable. `id_no` is the
    ID number itself (at registration, from the card check) or a check against its hash."""
    if REPLACEMENT_CHARACTER in password or any(unicodedata.category(c) == "Cc" for c in password):
        return WeakReason.CONTROL_CHARACTER
    if password and all(c.isspace() or unicodedata.category(c) == "Cf" for c in password):
        # Zero-width spaces and joiners count as whitespace: nothing of it can be seen.
        return WeakReason.WHITESPACE_ONLY
    if len(password) < MIN_LENGTH:
        return WeakReason.TOO_SHORT
    if len(password) > MAX_LENGTH:
        return WeakReason.TOO_LONG
    folded = password.casefold()
    if folded in _common_passwords():
        return WeakReason.COMMON
    if _contains_id_no(password, id_no):
        return WeakReason.CONTAINS_ID_NO
    return None


def _contains_id_no(password: str, id_no: str | IdNoCheck) -> bool:
    if isinstance(id_no, str):
        return id_no.casefold() in password.casefold()
    return id_no(password)


MESSAGES: dict[WeakReason, str] = {
    WeakReason.CONTROL_CHARACTER: "The password must not contain control characters or U+FFFD.",
    WeakReason.WHITESPACE_ONLY: "The password must not consist of spaces only.",
    WeakReason.TOO_SHORT: f"The password must have at least {MIN_LENGTH} characters.",
    WeakReason.TOO_LONG: f"The password must have at most {MAX_LENGTH} characters.",
    WeakReason.COMMON: "This password is too common; choose one that is harder to guess.",
    WeakReason.CONTAINS_ID_NO: "The password must not contain the ID number.",
}
