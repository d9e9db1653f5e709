"""The ID number's keyed hash and the password rule checked against it: exactly the answers
of the plain rule (case- and width-insensitive substring), without the number."""

from __future__ import annotations

import secrets

import pytest
from cardreg_registry.domain.id_numbers import IdNumberKey
from cardreg_registry.domain.passwords import WeakReason, normalise_password, weakness

ID_NO = "A123456789"
KEY = IdNumberKey(secrets.token_bytes(32))


@pytest.mark.parametrize(
    "password",
    [
        f"pre{ID_NO}post",
        f"pre{ID_NO.lower()}post",
        ID_NO + "!",
        "x" + ID_NO,
        "Ａ１２３４５６７８９-and-more",  # full-width, as an IME may type it
        "a123456789a123456789",
        "A12345678",  # one short
        "zzA123456789zz",
        "B123456789-B123456789",
        "tea-mountain-harbour",
        "A 123456789 x",
        "ß" * 3 + ID_NO,  # case-folding changes length before the number
    ],
)
def test_the_keyed_rule_answers_as_the_plain_one(password):
    normalised = normalise_password(password)
    fingerprint = KEY.fingerprint(ID_NO)
    plain = weakness(normalised, ID_NO)
    keyed = weakness(normalised, lambda candidate: KEY.found_in(candidate, fingerprint))
    assert keyed == plain
    if ID_NO.casefold() in normalised.casefold():
        assert keyed is WeakReason.CONTAINS_ID_NO


def test_the_fingerprint_does_not_reveal_the_number_without_the_key():
    other = IdNumberKey(secrets.token_bytes(32))
    assert KEY.fingerprint(ID_NO) != other.fingerprint(ID_NO)
    assert ID_NO not in KEY.fingerprint(ID_NO) and len(KEY.fingerprint(ID_NO)) == 64
    assert KEY.fingerprint(ID_NO) == KEY.fingerprint(" a123456789 ")
    assert not other.found_in(f"x{ID_NO}x", KEY.fingerprint(ID_NO))


def test_a_short_key_is_refused():
    with pytest.raises(ValueError):
        IdNumberKey(b"too short")
