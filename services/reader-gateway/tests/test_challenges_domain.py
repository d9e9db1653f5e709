"""Pure challenge rules: the nonce's layout, its tag and expiry, key rotation, the store key."""

from __future__ import annotations

import hashlib

import pytest
from cardreg_gateway.domain.challenges import (
    CLOCK_SKEW_SECONDS,
    MARKER_TTL_SECONDS,
    MAX_TTL_SECONDS,
    ChallengeKeys,
    new_key,
    nonce_key,
)

NOW = 1_800_000_000.0


def test_nonces_are_32_bytes_and_unique() -> None:
    keys = ChallengeKeys([new_key()])
    nonces = {keys.issue(NOW, 120) for _ in range(1000)}
    assert len(nonces) == 1000
    assert all(len(n) == 32 for n in nonces)
    # 128 random bits each: no two share their random part.
    assert len({n[4:20] for n in nonces}) == 1000


def test_a_nonce_is_good_until_its_expiry_and_not_after() -> None:
    keys = ChallengeKeys([new_key()])
    raw = keys.issue(NOW, 120)
    assert keys.accepts(raw, NOW)
    assert keys.accepts(raw, NOW + 119.9)
    assert not keys.accepts(raw, NOW + 120)
    assert not keys.accepts(raw, NOW + 3600)


def test_the_lifetime_is_rounded_down_never_up() -> None:
    keys = ChallengeKeys([new_key()])
    raw = keys.issue(NOW + 0.7, 30)
    assert int.from_bytes(raw[:4], "big") == NOW + 30
    assert not keys.accepts(raw, NOW + 30)


def test_another_key_or_any_changed_byte_is_refused() -> None:
    keys = ChallengeKeys([new_key()])
    raw = keys.issue(NOW, 120)
    assert not ChallengeKeys([new_key()]).accepts(raw, NOW)
    for i in range(32):
        changed = bytearray(raw)
        changed[i] ^= 0x01
        assert not keys.accepts(bytes(changed), NOW), i


def test_an_expiry_later_than_any_replica_sets_is_refused_even_when_tagged() -> None:
    keys = ChallengeKeys([new_key()])
    later = keys.issue(NOW + CLOCK_SKEW_SECONDS + 1, MAX_TTL_SECONDS)  # as if from the future
    assert not keys.accepts(later, NOW)
    within_skew = keys.issue(NOW + CLOCK_SKEW_SECONDS, MAX_TTL_SECONDS)
    assert keys.accepts(within_skew, NOW)
    assert MARKER_TTL_SECONDS >= MAX_TTL_SECONDS + CLOCK_SKEW_SECONDS


def test_after_a_rotation_the_previous_key_is_still_accepted() -> None:
    old, new = new_key(), new_key()
    before = ChallengeKeys([old]).issue(NOW, 120)
    rotated = ChallengeKeys([new, old])
    assert rotated.accepts(before, NOW)
    after = rotated.issue(NOW, 120)
    assert ChallengeKeys([new]).accepts(after, NOW)
    assert not ChallengeKeys([old]).accepts(after, NOW)


def test_wrong_sizes_and_lifetimes_are_refused() -> None:
    keys = ChallengeKeys([new_key()])
    raw = keys.issue(NOW, 120)
    for wrong in (b"", raw[:31], raw + b"\x00", bytes(32)):
        assert not keys.accepts(wrong, NOW)
    for ttl in (0, MAX_TTL_SECONDS + 1):
        with pytest.raises(ValueError):
            keys.issue(NOW, ttl)
    for key_set in ([], [b"short"]):
        with pytest.raises(ValueError):
            ChallengeKeys(key_set)


def test_key_is_sha256_hex_of_the_raw_nonce() -> None:
    raw = bytes(range(32))
    assert nonce_key(raw) == hashlib.sha256(raw).hexdigest()
    assert raw.hex() not in nonce_key(raw)
