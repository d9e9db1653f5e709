"""Signing key file, JWKS thumbprint, issuing and verifying access tokens."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cardreg_registry.adapters.tokens import (
    TokenSigner,
    load_or_create_signing_key,
    public_jwk,
    thumbprint,
)
from cardreg_shared.models.common import b64url_decode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

NOW = datetime.now(UTC).replace(microsecond=0)


def signer(key: Ed25519PrivateKey | None = None, **changes) -> TokenSigner:
    options = {"issuer": "cardreg", "audience": "cardreg", "ttl": timedelta(minutes=15), **changes}
    return TokenSigner(key or Ed25519PrivateKey.generate(), **options)


def test_key_file_is_created_private_and_reused(tmp_path):
    path = tmp_path / "registry-signing-key.pem"
    created = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    again = load_or_create_signing_key(path)
    assert public_jwk(again) == public_jwk(created)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


def test_a_key_file_that_is_not_ed25519_is_refused(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / "registry-signing-key.pem"
    other = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(TypeError):
        load_or_create_signing_key(path)


def test_thumbprint_matches_rfc_8037_example():
    key = Ed25519PrivateKey.from_private_bytes(
        b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
    )
    jwk = public_jwk(key)
    assert jwk.x == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert jwk.kid == thumbprint(jwk.x) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_issued_token_carries_the_agreed_claims_and_kid():
    tokens = signer()
    issued = tokens.issue("acc-1", NOW)
    header = jwt.get_unverified_header(issued.token)
    assert header["alg"] == "EdDSA" and header["kid"] == tokens.jwk.kid
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    assert claims == {
        "iss": "cardreg",
        "aud": "cardreg",
        "sub": "acc-1",
        "jti": issued.jti,
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(minutes=15)).timestamp()),
        "scope": "account",
    }
    verified = tokens.verify(issued.token, NOW)
    assert (verified.jti, verified.account_id) == (issued.jti, "acc-1")


def test_expiry_follows_the_service_clock():
    tokens = signer()
    issued = tokens.issue("acc-1", NOW)
    assert tokens.verify(issued.token, NOW + timedelta(minutes=14, seconds=59)) is not None
    assert tokens.verify(issued.token, NOW + timedelta(minutes=15)) is None


def _tamper(token: str) -> str:
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{sig}"


def test_tokens_we_did_not_sign_as_issued_are_refused():
    key = Ed25519PrivateKey.generate()
    tokens = signer(key)
    good = tokens.issue("acc-1", NOW).token
    other_key = signer().issue("acc-1", NOW).token
    same_kid_other_key = jwt.encode(
        jwt.decode(good, options={"verify_signature": False}),
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": tokens.jwk.kid},
    )
    unsigned = jwt.encode(
        jwt.decode(good, options={"verify_signature": False}), None, algorithm="none"
    )
    for bad in (
        _tamper(good),
        other_key,
        same_kid_other_key,
        unsigned,
        "not-a-token",
        "a.b.c",
        "...",
    ):
        assert tokens.verify(bad, NOW) is None


def test_wrong_audience_issuer_or_scope_is_refused():
    key = Ed25519PrivateKey.generate()
    mine = signer(key)
    assert mine.verify(signer(key, audience="tax").issue("acc-1", NOW).token, NOW) is None
    assert mine.verify(signer(key, issuer="elsewhere").issue("acc-1", NOW).token, NOW) is None
    claims = jwt.decode(mine.issue("acc-1", NOW).token, options={"verify_signature": False})
    wrong_scope = jwt.encode(
        {**claims, "scope": "admin"}, key, algorithm="EdDSA", headers={"kid": mine.jwk.kid}
    )
    assert mine.verify(wrong_scope, NOW) is None
