"""Normalisation: harmless differences accepted, real differences refused."""

from __future__ import annotations

from datetime import date

import pytest
from cardreg_identity.domain.normalise import (
    canonical_code,
    household_matches,
    neighborhood_number,
    residence_matches,
    squash,
    township_matches,
)
from cardreg_identity.domain.people import HouseholdRecord, ResidencePermit
from cardreg_shared.models.common import Household, Residence

STORED = HouseholdRecord("A1234567", "臺北市大安區", "大學里", 12)
PERMIT = ResidencePermit(date(2024, 3, 1), date(2027, 2, 28), "YA12345678")


def claim(**changes: str) -> Household:
    fields = {
        "household_no": "A1234567",
        "township": "臺北市大安區",
        "village": "大學里",
        "neighborhood": "12",
    }
    return Household(**(fields | changes))


def test_squash_folds_width_spaces_and_tai() -> None:
    assert squash(" 台北市\u3000大安區 ") == "臺北市大安區"
    assert squash("ＡＢ１２\u200b３") == "AB123"
    assert canonical_code("ａ 1234567") == "A1234567"


@pytest.mark.parametrize("text", ["12", "012", "１２", "12鄰", " 1 2 ", "０１２鄰"])
def test_neighbourhood_forms(text: str) -> None:
    assert neighborhood_number(text) == 12


@pytest.mark.parametrize("text", ["", "鄰", "十二", "12a", "１２ａ", "1.2", "-12", "12里"])
def test_neighbourhood_not_a_number(text: str) -> None:
    assert neighborhood_number(text) is None


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"township": "台北市大安區"},
        {"township": "大安區"},
        {"township": "臺北市 大安區"},
        {"household_no": "ａ１２３４５６７"},
        {"household_no": " a1234567 "},
        {"village": "大學"},
        {"village": "大學村"},
        {"village": "大 學 里"},
        {"neighborhood": "012"},
        {"neighborhood": "１２鄰"},
    ],
)
def test_harmless_differences_match(changes: dict) -> None:
    assert household_matches(STORED, claim(**changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"household_no": "A1234568"},
        {"household_no": "B1234567"},
        {"township": "臺中市大安區"},
        {"township": "信義區"},
        {"township": "臺北市"},
        {"village": "龍泉里"},
        {"neighborhood": "13"},
        {"neighborhood": "121"},
    ],
)
def test_real_differences_do_not_match(changes: dict) -> None:
    assert not household_matches(STORED, claim(**changes))


def test_township_needs_a_known_city_to_drop_it() -> None:
    assert not township_matches("不明大安區", "大安區")
    assert township_matches("不明大安區", "不明大安區")


def test_residence_permit() -> None:
    good = Residence(
        issued_on=date(2024, 3, 1), expires_on=date(2027, 2, 28), serial_no=" ya１２３４５６７８"
    )
    assert residence_matches(PERMIT, good)
    for wrong in (
        good.model_copy(update={"issued_on": date(2024, 3, 2)}),
        good.model_copy(update={"expires_on": date(2027, 3, 1)}),
        good.model_copy(update={"serial_no": "YA12345679"}),
        good.model_copy(update={"serial_no": "YB12345678"}),
    ):
        assert not residence_matches(PERMIT, wrong)
