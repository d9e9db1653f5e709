"""A data directory of the previous version (schema 2, `registry-signing-key.pem`, a live
session and its token) keeps working: the key becomes the key set's first, the token stays
valid, and the account gets its ID number's keyed hash at the next login."""

from __future__ import annotations

import sqlite3
import stat
from datetime import UTC, datetime, timedelta

import jwt
from cardreg_registry.adapters.hashing import Argon2Hasher, Argon2Params
from cardreg_registry.adapters.sqlite.migrations import MIGRATIONS
from cardreg_registry.app import running_registry
from cardreg_registry.domain.keys import kid_of
from cardreg_shared.errors import ErrorCode
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .conftest import FAST_ARGON2, PASSWORD, Person, db_rows

NEW_PASSWORD = "river-lantern-orchid"


async def previous_version(data_dir, person: Person) -> tuple[str, str]:
    """What the previous version left: the file, the key, a session; returns (kid, token)."""
    data_dir.mkdir()
    key = Ed25519PrivateKey.generate()
    pem = data_dir / "registry-signing-key.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pem.chmod(0o600)
    kid = kid_of(key.public_key().public_bytes_raw())
    now = datetime.now(UTC).replace(microsecond=0)
    expires = now + timedelta(minutes=15)
    stamp = now.isoformat(timespec="microseconds")
    hashed = await Argon2Hasher(Argon2Params(64, 1, 1)).hash(PASSWORD)
    with sqlite3.connect(data_dir / "registry.db") as db:
        db.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "\nPRAGMA user_version = 2;")
        db.execute(
            "INSERT INTO accounts VALUES ('acc-old', ?, 'citizen', 'A12*****89', ?, ?, "
            "'mei@example.com', NULL, 'active', 'online', 0, NULL, ?, ?, 'zh-TW')",
            (person.person_id, person.card.fields.card_no, hashed, stamp, stamp),
        )
        db.execute(
            "INSERT INTO sessions VALUES ('jti-old', 'acc-old', ?, ?, NULL)",
            (stamp, expires.isoformat(timespec="microseconds")),
        )
    token = jwt.encode(
        {
            "iss": "cardreg",
            "aud": "cardreg",
            "sub": "acc-old",
            "jti": "jti-old",
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "scope": "account",
        },
        key,
        algorithm="EdDSA",
        headers={"kid": kid},
    )
    return kid, token


async def test_a_previous_data_directory_keeps_its_key_sessions_and_tokens(
    nats_url, identity, client, tmp_path
):
    data_dir = tmp_path / "data"
    me = identity.enrol("citizen")
    kid, token = await previous_version(data_dir, me)

    async with running_registry(nats_url, data_dir, **FAST_ARGON2):
        assert [key.kid for key in (await client.jwks()).keys if key.alg == "EdDSA"] == [kid]
        assert (await client.account(token)).account_id == "acc-old"
        assert stat.S_IMODE((data_dir / "registry-secret").stat().st_mode) == 0o600

        # No keyed hash of the ID number yet: a new password cannot be checked against it.
        failure = await client.failure(client.change_password(token, PASSWORD, NEW_PASSWORD))
        assert failure.code is ErrorCode.UNAUTHORIZED and "card" in failure.message
        assert db_rows(data_dir, "SELECT id_no_hash FROM accounts") == [(None,)]

        fresh = await client.login(me)  # the card check names the ID number
        assert jwt.get_unverified_header(fresh.access_token)["kid"] == kid
        assert db_rows(data_dir, "SELECT id_no_hash FROM accounts")[0][0] is not None
        weak = await client.failure(client.change_password(token, PASSWORD, f"x{me.id_no}x"))
        assert (weak.code, weak.reason) == (ErrorCode.WEAK_PASSWORD, "contains_id_no")
        await client.change_password(token, PASSWORD, NEW_PASSWORD)  # the old session, still live
        assert (await client.login(me, NEW_PASSWORD)).access_token

    # The key file is not read again; the key lives in the key set now.
    (data_dir / "registry-signing-key.pem").unlink()
    async with running_registry(nats_url, data_dir, **FAST_ARGON2):
        assert [key.kid for key in (await client.jwks()).keys if key.alg == "EdDSA"] == [kid]
        assert (await client.account(token)).account_id == "acc-old"
