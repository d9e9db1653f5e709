"""`cardreg up --database-url postgresql://…`: identity, the registry and the mailer's ledger on
PostgreSQL, each in a schema of its own; `cardreg seed` writes identity's roster there. A
person registers, logs in, forgets the password and resets it from the mailed link; binds a
phone and logs in on it; signs in at a relying service (`cardreg clients` on the same
database), which refreshes and revokes; at a counter, a clerk enrolled with `cardreg operator
add` registers a person who then finishes with the card and logs in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from cardreg_shared.postgres import redacted
from cardreg_testkit.passkey import SoftPasskey
from cardreg_testkit.people import load_wallet

from .system import Mailbox, People, Portal, RunningSystem, error_code, reset_token
from .test_counter import Console, signed_in
from .test_counter import setup as setup_with_card
from .test_devices import bind, device_login
from .test_oidc_clients import REDIRECT, add_client, browser, discovery, start

PASSWORD = "tea-mountain-harbour"
NEW_PASSWORD = "lantern-river-orchard"


@pytest.fixture
def system(tmp_path: Path, postgres_database_url: str) -> Iterator[RunningSystem]:
    # `cardreg clients` and `cardreg operator`, run beside the system, open the registry's
    # database as the registry does.
    env = {"CARDREG_REGISTRY_DATABASE_URL": postgres_database_url}  # for `cardreg clients`
    running = RunningSystem(tmp_path / "system", env=env)
    running.start(extra=("--database-url", postgres_database_url))
    try:
        yield running
    finally:
        running.stop()


def test_register_login_and_reset_on_postgres(system: RunningSystem, postgres_database_url):
    seeded = system.cardreg(
        "seed", "--database-url", postgres_database_url, "--citizens", "3", "--foreigners", "1",
        "--wallet", str(system.data_dir / "wallet.jsonl"),
    )  # fmt: skip
    assert redacted(postgres_database_url) in seeded.stdout
    wallet = list(load_wallet(system.data_dir / "wallet.jsonl"))
    me = next(e for e in wallet if e.kind == "citizen")
    foreigner = next(e for e in wallet if e.kind == "foreigner")
    with httpx.Client(base_url=system.url, timeout=30) as http:
        portal = Portal(http)
        reply = portal.register(me, PASSWORD, email="mei@example.com")
        assert reply.status_code == 201, reply.text
        assert portal.register(foreigner, PASSWORD).status_code == 201
        assert portal.login(me, PASSWORD).status_code == 201
        assert portal.login(foreigner, PASSWORD).status_code == 201
        assert portal.forgot(me).status_code == 202
        (mail,) = Mailbox(system.data_dir / "mail").wait_for("mei@example.com")
        assert portal.complete(reset_token(mail), NEW_PASSWORD).status_code == 204
        assert portal.login(me, PASSWORD).status_code == 401
        assert portal.login(me, NEW_PASSWORD).status_code == 201

    # Everything went to PostgreSQL, each service in its own schema; no sqlite file was made.
    with psycopg.connect(postgres_database_url) as conn:
        tables = dict(
            conn.execute(
                "SELECT table_name, table_schema FROM information_schema.tables "
                "WHERE table_schema IN ('identity', 'registry', 'mailer')"
            ).fetchall()
        )
        (accounts,) = conn.execute("SELECT count(*) FROM registry.accounts").fetchone()
        (people,) = conn.execute("SELECT count(*) FROM identity.people").fetchone()
        (sent,) = conn.execute("SELECT count(*) FROM mailer.sent").fetchone()
    assert (tables["people"], tables["accounts"], tables["sent"]) == (
        "identity", "registry", "mailer",
    )  # fmt: skip
    assert (accounts, people) == (2, 4) and sent >= 1
    assert not list(system.data_dir.glob("*.db"))


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated via RFC 9864")
def test_devices_and_relying_services_on_postgres(system: RunningSystem, postgres_database_url):
    wallet_path = system.data_dir / "wallet.jsonl"
    system.cardreg(
        "seed", "--database-url", postgres_database_url, "--citizens", "1", "--foreigners", "0",
        "--wallet", str(wallet_path),
    )  # fmt: skip
    (me,) = load_wallet(wallet_path)
    client_id, secret = add_client(system, "--name", "My health passbook", "--scope", "email")
    listed = system.cardreg("clients", "--data-dir", str(system.data_dir), "list").stdout
    assert client_id in listed
    with httpx.Client(base_url=system.url, timeout=30) as http:
        portal = Portal(http)
        assert portal.register(me, PASSWORD, email="mei@example.com").status_code == 201
        bearer = portal.bearer(me, PASSWORD)

        phone = SoftPasskey(system.public_url)
        device_id = bind(portal, bearer, phone, system)
        login = device_login(portal, me.card.id_no, phone)
        assert login.status_code == 201, login.text
        assert login.json()["scope"] == "passbook counter"

        meta = discovery(system)
        with OAuth2Client(
            client_id, secret, scope="openid email", redirect_uri=REDIRECT,
            code_challenge_method="S256", timeout=10,
        ) as client:  # fmt: skip
            url, verifier, _ = start(system, client, meta)
            redirect = browser(portal, bearer, url)["redirect_to"]
            token = client.fetch_token(
                meta["token_endpoint"], authorization_response=redirect, code_verifier=verifier
            )
            assert client.get(meta["userinfo_endpoint"]).json()["email"] == "mei@example.com"
            refreshed = client.refresh_token(meta["token_endpoint"])
            assert refreshed["refresh_token"] != token["refresh_token"]
            with pytest.raises(OAuthError) as replayed:
                client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
            assert replayed.value.error == "invalid_grant"

        consents = portal.http.get("/api/v1/account/consents", headers=bearer).json()
        assert [c["client_id"] for c in consents["consents"]] == [client_id]
        removed = portal.http.delete(f"/api/v1/account/devices/{device_id}", headers=bearer)
        assert removed.status_code == 204

    with psycopg.connect(postgres_database_url) as conn:
        counts = {
            table: conn.execute(f"SELECT count(*) FROM registry.{table}").fetchone()[0]
            for table in ("devices", "device_bindings", "spent_challenges", "oidc_grants")
        }
        active = conn.execute(
            "SELECT alg FROM registry.signing_keys WHERE retired_at IS NULL ORDER BY alg"
        ).fetchall()
    assert counts["devices"] == 0 and counts["device_bindings"] == 1
    assert counts["spent_challenges"] >= 1 and counts["oidc_grants"] == 1
    assert active == [("EdDSA",), ("RS256",)]


def test_counter_registration_setup_and_login_on_postgres(
    system: RunningSystem, postgres_database_url
):
    system.cardreg(
        "seed", "--database-url", postgres_database_url, "--citizens", "30", "--foreigners", "2",
        "--employers", "2", "--wallet", str(system.data_dir / "wallet.jsonl"),
    )  # fmt: skip
    people = People(list(load_wallet(system.data_dir / "wallet.jsonl")))
    me = people.citizen_where(lambda e: "national_id" in e.documents)
    employee = people.citizen_where(lambda e: e.insured_unit is not None)
    with (
        httpx.Client(base_url=system.url, timeout=30) as http,
        httpx.Client(base_url=system.operator_url, timeout=30) as operator_http,
    ):
        portal = Portal(http)
        clerk: Console = signed_in(system, operator_http, "clerk.pg", "counter")
        found = clerk.search(me)
        assert found["account"] is None
        reply = clerk.post(
            "/registrations",
            {"person_ref": found["person_ref"], "document": clerk.document(me, "national_id")},
        )
        assert reply.status_code == 201, reply.text
        code = reply.json()["setup"]["code"]
        assert portal.lookup(me).json() == {"registered": True, "status": "pending"}
        assert error_code(setup_with_card(portal, people.citizen(), code)) == "setup_invalid"
        done = setup_with_card(portal, me, code)
        assert done.status_code == 201, done.text
        assert error_code(setup_with_card(portal, me, code)) == "setup_invalid"
        assert portal.login(me, PASSWORD).status_code == 201

        agent = signed_in(system, operator_http, "hr.pg", "employer", employee.insured_unit)
        consent = {"reference": "HR-0042", "given_on": "2025-02-27"}
        proxy = agent.post(
            "/registrations",
            {"id_no": employee.card.id_no, "consent": consent, "email": "e@example.com"},
        )
        assert proxy.status_code == 201, proxy.text

    with psycopg.connect(postgres_database_url) as conn:
        operators = conn.execute("SELECT count(*) FROM registry.operators").fetchone()
        setups = conn.execute(
            "SELECT count(*) FILTER (WHERE used_at IS NOT NULL), count(*) FROM registry.setups"
        ).fetchone()
        consents = conn.execute(
            "SELECT count(*) FROM registry.accounts WHERE consent_reference IS NOT NULL"
        ).fetchone()
        events = conn.execute("SELECT count(*) FROM registry.account_events").fetchone()
        units = conn.execute("SELECT count(*) FROM identity.insured_units").fetchone()
    assert (operators, setups, consents, units) == ((2,), (1, 2), (1,), (2,))
    assert events is not None and events[0] >= 3
    assert not list(system.data_dir.glob("*.db"))
