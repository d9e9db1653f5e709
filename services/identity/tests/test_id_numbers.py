"""ID numbers: known valid numbers, every single-digit corruption caught, generated numbers valid."""

from __future__ import annotations

import random

import pytest
from cardreg_identity.domain import id_numbers


@pytest.mark.parametrize(
    ("id_no", "kind", "sex"),
    [
        ("A123456789", "citizen", "M"),
        ("F231451893", "citizen", "F"),
        ("A800000014", "foreigner", "M"),  # 2021 format
        ("AC01234567", "foreigner", "M"),  # older ARC number
    ],
)
def test_known_numbers(id_no: str, kind: str, sex: str) -> None:
    assert id_numbers.is_valid(id_no)
    assert id_numbers.kind_of(id_no) == kind
    assert id_numbers.sex_of(id_no) == sex


@pytest.mark.parametrize(
    "id_no",
    [
        "A123456788",
        "A323456789",
        "a123456789",
        "A12345678",
        "A1234567890",
        "1123456789",
        "AE01234567",
        "",
    ],
)
def test_invalid_numbers(id_no: str) -> None:
    assert not id_numbers.is_valid(id_no)
    assert id_numbers.kind_of(id_no) is None
    assert id_numbers.sex_of(id_no) is None


def test_any_changed_check_digit_is_refused() -> None:
    for id_no in ("A123456789", "A800000014", "AC01234567"):
        wrong = [id_no[:9] + d for d in "0123456789" if d != id_no[9]]
        assert not any(id_numbers.is_valid(w) for w in wrong)


def test_generated_numbers_are_valid_and_of_the_asked_kind_and_sex() -> None:
    rng = random.Random(1)
    for _ in range(500):
        sex = rng.choice(("M", "F"))
        citizen = id_numbers.citizen_id(rng, sex)
        new = id_numbers.foreigner_id(rng, sex)
        old = id_numbers.foreigner_id(rng, sex, old_format=True)
        assert id_numbers.kind_of(citizen) == "citizen" and id_numbers.sex_of(citizen) == sex
        assert id_numbers.kind_of(new) == "foreigner" and new[1] in "89"
        assert id_numbers.kind_of(old) == "foreigner" and old[1] in "ABCD"
        assert id_numbers.sex_of(new) == id_numbers.sex_of(old) == sex


def test_generator_keeps_the_given_area_letter() -> None:
    assert id_numbers.citizen_id(random.Random(2), "F", "F").startswith("F2")
