"""WebAuthn challenges made and checked without a table (domain/challenges.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cardreg_registry.domain.challenges import ChallengeKey, challenge_in, credential_id_in

NOW = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
KEY = ChallengeKey(b"k" * 32)


def test_a_challenge_is_good_for_its_purpose_and_subject_for_five_minutes():
    challenge = KEY.mint("device-login", "subject", NOW)
    assert len(challenge) == 32
    assert KEY.expiry(challenge, "device-login", "subject", NOW + timedelta(minutes=4))
    assert KEY.expiry(challenge, "device-login", "subject", NOW + timedelta(minutes=5)) is None
    assert KEY.expiry(challenge, "device-binding", "subject", NOW) is None
    assert KEY.expiry(challenge, "device-login", "other", NOW) is None
    assert ChallengeKey(b"j" * 32).expiry(challenge, "device-login", "subject", NOW) is None
    assert (
        KEY.expiry(challenge[:-1] + bytes([challenge[-1] ^ 1]), "device-login", "subject", NOW)
        is None
    )
    assert KEY.expiry(b"short", "device-login", "subject", NOW) is None


def test_two_challenges_differ_but_decoys_repeat():
    assert KEY.mint("p", "s", NOW) != KEY.mint("p", "s", NOW)
    assert KEY.decoy("s") == KEY.decoy("s") != KEY.decoy("t")


def test_malformed_credentials_name_no_challenge():
    for bad in (
        {},
        {"response": {}},
        {"response": {"clientDataJSON": "!!"}},
        {"response": {"clientDataJSON": "bnVsbA"}},
        {"response": "x"},
    ):
        assert challenge_in(bad) is None
    assert credential_id_in({"rawId": 5}) is None
    assert credential_id_in({"rawId": "AAEC"}) == "AAEC"
