"""The registry secret file, the legacy key file, JWKS thumbprints, issuing and verifying access
tokens against the key set, and how a process learns of a rotation."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cardreg_registry.adapters.key_ring import (
    KeyRing,
    load_legacy_pem,
    new_signing_key,
    public_jwk,
)
from cardreg_registry.adapters.registry_secret import load_or_create_secret
from cardreg_registry.adapters.tokens import TokenSigner
from cardreg_registry.domain.keys import KeySet, SigningKey, kid_of, thumbprint
from cardreg_registry.domain.scopes import DEVICE, PORTAL
from cardreg_registry.domain.sessions import Session
from cardreg_shared.models.common import b64url_decode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

NOW = datetime.now(UTC).replace(microsecond=0)
TTL = timedelta(minutes=15)
GRACE = TTL + timedelta(minutes=2)


class Loader:
    """The key set as storage would return it; counts the reads."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = KeySet(keys)
        self.loads = 0

    async def __call__(self) -> KeySet:
        self.loads += 1
        return self.keys


async def signer(
    loader: Loader | None = None, *, clock=lambda: NOW, **changes
) -> tuple[TokenSigner, KeyRing]:
    ring = KeyRing(loader or Loader(new_signing_key(NOW)), clock, grace=GRACE, reload_seconds=3600)
    await ring.reload()
    options = {"issuer": "cardreg", "audience": "cardreg", "ttl": TTL, **changes}
    return TokenSigner(ring, **options), ring


def portal_session(account_id: str = "acc-1", scopes=PORTAL) -> Session:
    return Session.open(
        account_id, NOW, TTL, method="card+password", amr=("pwd", "sc"), scopes=scopes
    )


def test_secret_file_is_created_private_and_reused(tmp_path):
    path = tmp_path / "registry-secret"
    created = load_or_create_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(created) == 32
    assert load_or_create_secret(path) == created
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


def test_a_legacy_key_file_that_is_not_ed25519_is_refused(tmp_path):
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
        load_legacy_pem(path)


def test_thumbprint_matches_rfc_8037_example():
    key = Ed25519PrivateKey.from_private_bytes(
        b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
    )
    public = key.public_key().public_bytes_raw()
    jwk = public_jwk(SigningKey(kid=kid_of(public), public_key=public, created_at=NOW))
    assert jwk.x == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert jwk.kid == thumbprint(jwk.x) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


async def test_issued_token_carries_the_agreed_claims_and_kid():
    tokens, ring = await signer()
    session = portal_session()
    issued = tokens.issue(session)
    header = jwt.get_unverified_header(issued.token)
    assert header["alg"] == "EdDSA" and header["kid"] == ring.signing[0]
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    assert claims == {
        "iss": "cardreg",
        "aud": "cardreg",
        "sub": "acc-1",
        "jti": issued.jti,
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + TTL).timestamp()),
        "scope": "account passbook counter online-services tax",
        "amr": ["pwd", "sc"],
        "sid": session.session_id,
    }
    verified = await tokens.verify(issued.token, NOW)
    assert (verified.jti, verified.subject, verified.session_id) == (
        issued.jti,
        "acc-1",
        session.session_id,
    )
    assert verified.scopes == PORTAL and verified.amr == ("pwd", "sc")
    phone = await tokens.verify(tokens.issue(portal_session(scopes=DEVICE)).token, NOW)
    assert phone.scopes == DEVICE


async def test_expiry_follows_the_service_clock():
    tokens, _ = await signer()
    issued = tokens.issue(portal_session())
    assert await tokens.verify(issued.token, NOW + timedelta(minutes=14, seconds=59)) is not None
    assert await tokens.verify(issued.token, NOW + TTL) is None


def _tamper(token: str) -> str:
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{sig}"


async def test_tokens_we_did_not_sign_as_issued_are_refused():
    tokens, ring = await signer()
    good = tokens.issue(portal_session()).token
    other_key = (await signer())[0].issue(portal_session()).token
    same_kid_other_key = jwt.encode(
        jwt.decode(good, options={"verify_signature": False}),
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": ring.signing[0]},
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
        assert await tokens.verify(bad, NOW) is None


async def test_wrong_audience_issuer_or_scope_is_refused():
    loader = Loader(new_signing_key(NOW))
    mine, ring = await signer(loader)
    tax, _ = await signer(loader, audience="tax")
    elsewhere, _ = await signer(loader, issuer="elsewhere")
    assert await mine.verify(tax.issue(portal_session()).token, NOW) is None
    assert await mine.verify(elsewhere.issue(portal_session()).token, NOW) is None
    claims = jwt.decode(mine.issue(portal_session()).token, options={"verify_signature": False})
    kid, key = ring.signing
    for scope in ("admin", "", "account admin"):
        wrong_scope = jwt.encode(
            {**claims, "scope": scope}, key, algorithm="EdDSA", headers={"kid": kid}
        )
        assert await mine.verify(wrong_scope, NOW) is None


async def test_a_token_of_the_time_before_sessions_had_ids_still_verifies():
    """jti, scope "account", no amr, no sid: its session is the one its jti names."""
    tokens, ring = await signer()
    kid, key = ring.signing
    legacy = jwt.encode(
        {
            "iss": "cardreg",
            "aud": "cardreg",
            "sub": "acc-1",
            "jti": "jti-0",
            "iat": int(NOW.timestamp()),
            "exp": int((NOW + TTL).timestamp()),
            "scope": "account",
        },
        key,
        algorithm="EdDSA",
        headers={"kid": kid},
    )
    claims = await tokens.verify(legacy, NOW)
    assert (claims.session_id, claims.amr, {s.value for s in claims.scopes}) == (
        "jti-0",
        (),
        {"account"},
    )


async def test_a_retired_key_verifies_until_its_grace_ends_and_signs_no_more():
    first = new_signing_key(NOW)
    loader = Loader(first)
    clock = {"now": NOW}
    tokens, ring = await signer(loader, clock=lambda: clock["now"])
    before = tokens.issue(portal_session()).token

    second = new_signing_key(NOW)
    loader.keys = KeySet(
        (
            SigningKey(first.kid, first.public_key, first.created_at, retired_at=NOW),
            second,
        )
    )
    await ring.reload()
    assert ring.signing[0] == second.kid
    assert jwt.get_unverified_header(tokens.issue(portal_session()).token)["kid"] == second.kid
    assert await tokens.verify(before, NOW + TTL - timedelta(seconds=1)) is not None
    assert [k.kid for k in tokens.jwks(NOW)] == [second.kid, first.kid]
    clock["now"] = NOW + GRACE
    assert [k.kid for k in tokens.jwks(clock["now"])] == [second.kid]
    assert await tokens.verify(before, NOW + TTL - timedelta(seconds=1)) is None


async def test_an_unknown_kid_reloads_the_set_at_most_once_a_second():
    loader = Loader(new_signing_key(NOW))
    tokens, _ = await signer(loader)
    # Another replica rotated and signed with the new key already.
    newer = new_signing_key(NOW)
    other_ring = KeyRing(Loader(newer), lambda: NOW, grace=GRACE, reload_seconds=3600)
    await other_ring.reload()
    token = TokenSigner(other_ring, issuer="cardreg", audience="cardreg", ttl=TTL).issue(
        portal_session()
    )
    assert await tokens.verify(token.token, NOW) is None  # reloaded just now: not yet
    loads = loader.loads
    loader.keys = KeySet((*loader.keys.keys, newer))
    ring = KeyRing(loader, lambda: NOW, grace=GRACE, reload_seconds=3600)  # loaded long ago
    fresh = TokenSigner(ring, issuer="cardreg", audience="cardreg", ttl=TTL)
    assert await fresh.verify(token.token, NOW) is not None
    assert loader.loads == loads + 1
    forged = jwt.encode(
        {"sub": "x"}, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "made-up"}
    )
    for _ in range(20):
        assert await fresh.verify(forged, NOW) is None
    assert loader.loads == loads + 1  # made-up kids within the second: no more reads
