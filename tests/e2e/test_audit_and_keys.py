"""The operator's side of the registry kernel against `cardreg up`: `cardreg events` lists what
happened without personal data, and `cardreg keys rotate` while the system runs keeps every
token valid."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import jwt
import pytest

from .system import People, RunningSystem, error_code

PASSWORD = "tea-mountain-harbour"


# A system of this module's own: it rotates the key set, and its registry reloads keys often.
@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    # A short reload interval, so that the registry signs with a rotated key within a second.
    env = {"CARDREG_LOG_LEVEL": "DEBUG", "CARDREG_REGISTRY_KEYS_RELOAD_SECONDS": "0.5"}
    running = RunningSystem(tmp_path_factory.mktemp("system"), env=env)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def people(system: RunningSystem) -> People:
    return People(system.seed(system.data_dir / "wallet.jsonl", citizens=2, foreigners=2))


def events(system: RunningSystem, *options: str, expect: int, timeout: float = 60) -> list[dict]:
    """`cardreg events --json` until it lists `expect` events (the relay publishes after the
    reply)."""
    deadline = time.monotonic() + timeout
    while True:
        done = system.cardreg("events", "--data-dir", str(system.data_dir), "--json", *options)
        listed = [json.loads(line) for line in done.stdout.splitlines()]
        if len(listed) >= expect or time.monotonic() > deadline:
            return listed
        time.sleep(0.2)


def test_cardreg_events_lists_each_flow_without_personal_data(system, portal, people):
    me = people.citizen()
    reply = portal.register(me, PASSWORD, email="mei@example.com", phone="0912345678")
    account_id = reply.json()["account_id"]
    assert portal.login(me, "not-the-password").status_code == 401
    bearer = portal.bearer(me, PASSWORD)
    assert portal.http.delete("/api/v1/sessions/current", headers=bearer).status_code == 204

    mine = events(system, "--account", account_id, expect=4)
    assert [(e["type"], e["outcome"]) for e in mine] == [
        ("registered", "ok"),
        ("login_failed", "invalid_credentials"),
        ("logged_in", "ok"),
        ("session_revoked", "ok"),
    ]
    assert {(e["account_id"], e["channel"]) for e in mine} == {(account_id, "online")}
    logins = events(system, "--account", account_id, "--type", "logged_in", expect=1)
    assert [e["type"] for e in logins] == ["logged_in"]
    assert events(system, "--account", account_id, "--since", "2000-01-01", expect=4) == mine

    table = system.cardreg("events", "--data-dir", str(system.data_dir), "--account", account_id)
    assert table.stdout.splitlines()[0].split() == [
        "occurred_at",
        "type",
        "account_id",
        "channel",
        "method",
        "outcome",
        "operator_id",
    ]
    assert "card+household" in table.stdout and "4 events" in table.stderr
    for personal in (
        me.card.id_no,
        me.card.card_no,
        me.card.name,
        "mei@example.com",
        "0912345678",
        PASSWORD,
    ):
        assert personal not in table.stdout and personal not in json.dumps(mine)


def test_keys_rotate_while_the_system_runs(system, portal, people):
    me = people.foreigner()
    assert portal.register(me, PASSWORD).status_code == 201
    before = portal.bearer(me, PASSWORD)
    old_kid = jwt.get_unverified_header(before["Authorization"].split()[1])["kid"]

    rotated = system.cardreg("keys", "rotate", "--data-dir", str(system.data_dir))
    new_kid = rotated.stdout.split()[2]
    assert new_kid != old_kid and f"retired key {old_kid}" in rotated.stdout

    deadline = time.monotonic() + 30
    while True:
        token = portal.bearer(me, PASSWORD)["Authorization"].split()[1]
        if jwt.get_unverified_header(token)["kid"] == new_kid or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert jwt.get_unverified_header(token)["kid"] == new_kid
    keys = portal.http.get("/.well-known/jwks.json").json()["keys"]
    assert [key["kid"] for key in keys if key["alg"] == "EdDSA"] == [new_kid, old_kid]
    # The RSA key (RS256 id_tokens) rotated with it: the new one and the one before.
    assert len([key for key in keys if key["alg"] == "RS256"]) == 2
    # The token from before the rotation still works; a forged kid does not.
    assert portal.http.get("/api/v1/account", headers=before).status_code == 200
    head, body, signature = before["Authorization"].split()[1].split(".")
    forged = jwt.encode(
        jwt.decode(f"{head}.{body}.{signature}", options={"verify_signature": False}),
        "k" * 32,
        algorithm="HS256",
        headers={"kid": "made-up"},
    )
    reply = portal.http.get("/api/v1/account", headers={"Authorization": f"Bearer {forged}"})
    assert error_code(reply) == "unauthorized"
