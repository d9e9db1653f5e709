"""The anti-guessing policy and the card-name rule."""

from __future__ import annotations

import pytest
from cardreg_identity.domain.card_names import name_problem
from cardreg_identity.domain.guessing import GuessPolicy, is_locked, retry_after


def test_every_fifth_failure_locks_doubling_up_to_a_day() -> None:
    policy = GuessPolicy()
    assert [policy.lock_seconds(n) for n in range(5)] == [0, 0, 0, 0, 0]
    assert policy.lock_seconds(5) == 900
    assert policy.lock_seconds(6) == 0
    assert policy.lock_seconds(10) == 1800
    assert policy.lock_seconds(15) == 3600
    assert policy.lock_seconds(30) == 900 * 32
    assert policy.lock_seconds(35) == 900 * 64
    assert policy.lock_seconds(40) == 86400  # 900 * 128 would exceed the cap
    assert policy.lock_seconds(5 * 10_000) == 86400


def test_policy_parameters() -> None:
    assert GuessPolicy(limit=3, base_seconds=60, max_seconds=100).lock_seconds(6) == 100
    assert GuessPolicy(limit=3, base_seconds=60, max_seconds=100).lock_seconds(3) == 60


def test_lock_state() -> None:
    assert not is_locked(None, 100.0)
    assert not is_locked(100.0, 100.0)
    assert is_locked(100.5, 100.0)
    assert retry_after(100.2, 100.0) == 1
    assert retry_after(1000.5, 100.0) == 901


@pytest.mark.parametrize(
    "name", ["陳志明", "歐陽婷婷", "NGUYEN THI HOA", "林\ue000明", "王" * 10, "林碁明"]
)
def test_card_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        (" 陳志明", "padded"),
        ("王" * 11, "20 bytes"),
        ("A" * 21, "20 bytes"),
        ("陳😀", "Big5"),
        ("陳\x07明", "control"),
        ("김민준", "Big5"),
        ("陳ヾ明", "Big5"),  # Python's big5 puts it in C6A1..C8FE, a user-defined area on cards
    ],
)
def test_names_that_cannot_be_on_a_card(name: str, why: str) -> None:
    problem = name_problem(name)
    assert problem is not None and why in problem
