"""TOTP (RFC 6238) as operators use it: the RFC's own test vector through pyotp, one step
either side accepted, each step once, nothing else."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from cardreg_registry.domain import totp

# RFC 6238 appendix B: the SHA-1 seed "12345678901234567890"; at T=59 s the 8-digit code is
# 94287082, so the 6-digit one is its last six digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
T59 = datetime(1970, 1, 1, 0, 0, 59, tzinfo=UTC)
NOW = datetime(2025, 3, 1, 8, 30, 10, tzinfo=UTC)


def test_the_rfc_test_vector():
    assert totp.code_at(RFC_SECRET, T59) == "287082"
    assert totp.accepted_step(RFC_SECRET, "287082", T59, None) == 1


def test_one_step_either_side_and_no_further():
    secret = totp.new_secret()
    step = int(NOW.timestamp()) // 30
    for offset in (-1, 0, 1):
        code = totp.code_at(secret, NOW + timedelta(seconds=30 * offset))
        assert totp.accepted_step(secret, code, NOW, None) == step + offset
    for offset in (-2, 2, 10):
        code = totp.code_at(secret, NOW + timedelta(seconds=30 * offset))
        assert totp.accepted_step(secret, code, NOW, None) is None


def test_a_step_is_used_once_and_older_ones_never():
    secret = totp.new_secret()
    step = int(NOW.timestamp()) // 30
    code = totp.code_at(secret, NOW)
    assert totp.accepted_step(secret, code, NOW, step - 1) == step
    assert totp.accepted_step(secret, code, NOW, step) is None
    earlier = totp.code_at(secret, NOW - timedelta(seconds=30))
    assert totp.accepted_step(secret, earlier, NOW, step) is None
    later = totp.code_at(secret, NOW + timedelta(seconds=30))
    assert totp.accepted_step(secret, later, NOW, step) == step + 1


def test_wrong_codes_are_refused():
    secret = totp.new_secret()
    right = totp.code_at(secret, NOW)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert totp.accepted_step(secret, wrong, NOW, None) is None


def test_secrets_have_160_bits_and_the_uri_is_what_apps_read():
    secret = totp.new_secret()
    assert len(base64.b32decode(secret)) == 20 and secret != totp.new_secret()
    uri = urlparse(totp.enrolment_uri(secret, "clerk.one"))
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/cardreg:clerk.one")
    query = parse_qs(uri.query)
    assert query["secret"] == [secret] and query["issuer"] == ["cardreg"]
