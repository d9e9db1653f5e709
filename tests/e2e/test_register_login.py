"""FAQ 4, 5, 10, 11, 12 end to end: HTTP API → gateway → NATS → registry + identity → sqlite."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta

from cardreg_testkit.people import WalletCard
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .system import error_code

PASSWORD = "tea-mountain-harbour"


def test_citizen_registers_logs_in_and_sees_masked_profile(portal, people):
    me = people.citizen()
    assert portal.lookup(me).json() == {"registered": False, "status": None}

    reply = portal.register(me, PASSWORD, email="mei@example.com", phone="0912345678")
    assert reply.status_code == 201, reply.text
    assert portal.lookup(me).json() == {"registered": True, "status": "active"}

    login = portal.login(me, PASSWORD)
    assert login.status_code == 201, login.text
    session = login.json()
    assert session["token_type"] == "Bearer" and session["card_updated"] is False
    bearer = {"Authorization": f"Bearer {session['access_token']}"}
    # The token's subject is opaque: never the ID number.
    claims = json.loads(base64.urlsafe_b64decode(session["access_token"].split(".")[1] + "=="))
    assert me.card.id_no not in json.dumps(claims)

    profile = portal.http.get("/api/v1/account", headers=bearer)
    assert profile.status_code == 200, profile.text
    text = profile.text
    for secret in (me.card.id_no, me.card.card_no, "mei@example.com", "0912345678"):
        assert secret not in text
    assert profile.json()["status"] == "active"

    assert portal.http.delete("/api/v1/sessions/current", headers=bearer).status_code == 204
    assert error_code(portal.http.get("/api/v1/account", headers=bearer)) == "unauthorized"


def test_foreigner_registers_with_residence_permit(portal, people):
    me = people.foreigner()
    assert me.residence is not None
    reply = portal.register(me, PASSWORD)
    assert reply.status_code == 201, reply.text
    assert portal.login(me, PASSWORD).status_code == 201


def test_wrong_household_data_is_refused_then_right_data_registers(portal, people):
    me = people.citizen()
    wrong = me.household.model_copy(
        update={"neighborhood": str(int(me.household.neighborhood) + 1)}
    )
    reply = portal.http.post(
        "/api/v1/registrations",
        json={"card": portal.card(me), "password": PASSWORD, "household": wrong.model_dump()},
    )
    assert reply.status_code == 403 and error_code(reply) == "household_mismatch"
    assert portal.register(me, PASSWORD).status_code == 201


def test_harmless_differences_in_household_data_are_tolerated(portal, people):
    me = people.citizen()
    hh = me.household
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    tolerant = {
        "household_no": f" {hh.household_no.lower()} ",
        "township": hh.township.replace("臺", "台"),
        "village": hh.village,
        "neighborhood": hh.neighborhood.translate(full_width),
    }
    reply = portal.http.post(
        "/api/v1/registrations",
        json={"card": portal.card(me), "password": PASSWORD, "household": tolerant},
    )
    assert reply.status_code == 201, reply.text


def test_foreigner_with_wrong_permit_serial_is_refused(portal, people):
    me = people.foreigner()
    wrong = me.residence.model_copy(update={"serial_no": "ZZ00000000"})
    reply = portal.http.post(
        "/api/v1/registrations",
        json={
            "card": portal.card(me),
            "password": PASSWORD,
            "residence": wrong.model_dump(mode="json"),
        },
    )
    assert reply.status_code == 403 and error_code(reply) == "residence_mismatch"


def test_household_guessing_is_limited_per_person(portal, people):
    me = people.citizen()
    wrong = me.household.model_copy(update={"household_no": "Z9999999"})
    codes = []
    for _ in range(6):
        reply = portal.http.post(
            "/api/v1/registrations",
            json={"card": portal.card(me), "password": PASSWORD, "household": wrong.model_dump()},
        )
        codes.append(error_code(reply))
    assert codes[:5] == ["household_mismatch"] * 5
    assert codes[5] == "verification_locked"
    # Locked even with the right data, and told when to come back.
    reply = portal.register(me, PASSWORD)
    assert reply.status_code == 429 and error_code(reply) == "verification_locked"
    assert reply.json()["error"]["retry_after"] > 0


def test_replayed_nonce_is_refused(portal, people):
    me = people.citizen()
    card = portal.card(me)
    first = portal.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert first.status_code == 200
    replay = portal.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert replay.status_code == 400 and error_code(replay) == "nonce_invalid"


def test_unknown_nonce_is_refused(portal, people):
    me = people.citizen()
    forged = base64.urlsafe_b64encode(b"\x01" * 32).rstrip(b"=").decode()
    reply = portal.http.post("/api/v1/registrations/lookup", json={"card": portal.card(me, forged)})
    assert error_code(reply) == "nonce_invalid"


def test_signature_by_another_card_is_refused(portal, people):
    me, other = people.citizen(), people.citizen()
    nonce = portal.challenge()
    card = me.read(nonce).model_dump(mode="json")
    card["signature"] = other.read(nonce).signature
    reply = portal.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert reply.status_code == 401 and error_code(reply) == "card_signature_invalid"


def test_altered_card_field_is_refused(portal, people):
    me = people.citizen()
    card = portal.card(me)
    card["birth_date"] = "1999-01-01" if card["birth_date"] != "1999-01-01" else "1998-01-01"
    reply = portal.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert reply.status_code == 401 and error_code(reply) == "card_data_mismatch"


def test_already_registered(portal, people):
    me = people.citizen()
    assert portal.register(me, PASSWORD).status_code == 201
    again = portal.register(me, "another-long-passphrase")
    assert again.status_code == 409 and error_code(again) == "already_registered"


def test_weak_passwords_are_refused(portal, people):
    me = people.citizen()
    for password, reason in (
        ("short1", "too_short"),
        ("x" * 65, "too_long"),
        ("password1234", "common"),
        (f"my{me.card.id_no.lower()}pw", "contains_id_no"),
    ):
        reply = portal.register(me, password)
        assert reply.status_code == 422 and error_code(reply) == "weak_password", reply.text
        assert reply.json()["error"]["reason"] == reason
        assert me.card.id_no not in reply.text


def test_login_wrong_password_and_no_account_answer_alike_then_lockout(portal, people):
    me, stranger = people.citizen(), people.citizen()
    assert portal.register(me, PASSWORD).status_code == 201

    wrong = portal.login(me, "not-the-password")
    nobody = portal.login(stranger, "not-the-password")
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json() == nobody.json()

    codes = [error_code(portal.login(me, "not-the-password")) for _ in range(4)]
    assert codes == ["invalid_credentials"] * 3 + ["account_locked"]
    locked = portal.login(me, PASSWORD)
    assert locked.status_code == 423 and error_code(locked) == "account_locked"
    assert locked.json()["error"]["retry_after"] > 0


def _newer_card(system, me: WalletCard, tmp_path) -> WalletCard:
    """Issue a new card for the same person, as the card office would, and import it."""
    key = Ed25519PrivateKey.generate()
    raw_pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    seed = key.private_bytes_raw()
    card_no = f"{(int(me.card.card_no) + 500_000_000) % 10**12:012d}"
    # Later than the old card, but not in the future (import refuses that).
    issued_on = me.card.issued_on + max(timedelta(days=1), (date.today() - me.card.issued_on) / 2)
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    cards = tmp_path / "cards.csv"
    cards.write_text(
        "card_no,id_no,issued_on,public_key\n"
        f"{card_no},{me.card.id_no},{issued_on.isoformat()},{b64(raw_pub)}\n",
        encoding="utf-8",
    )
    system.cardreg("import", "--data-dir", str(system.data_dir), "--cards", str(cards))
    return me.model_copy(
        update={
            "card": me.card.model_copy(update={"card_no": card_no, "issued_on": issued_on}),
            "card_key": b64(seed),
        }
    )


def test_newer_card_updates_bound_card_and_replaced_card_is_refused(
    portal, people, system, tmp_path
):
    me = people.citizen()
    assert portal.register(me, PASSWORD).status_code == 201
    new = _newer_card(system, me, tmp_path)

    first = portal.login(new, PASSWORD)
    assert first.status_code == 201, first.text
    assert first.json()["card_updated"] is True
    assert portal.login(new, PASSWORD).json()["card_updated"] is False

    old = portal.login(me, PASSWORD)
    assert old.status_code == 403 and error_code(old) == "card_replaced"
    # FAQ 12 with the new card: still registered.
    assert portal.lookup(new).json() == {"registered": True, "status": "active"}


def test_profile_only_read_is_refused_outside_the_pilot_mode(portal, people):
    me = people.citizen()
    card = {**portal.card(me), "signature": None}  # what the agent reads from a real NHI card
    reply = portal.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert reply.status_code == 401 and error_code(reply) == "card_signature_invalid"


def test_logs_carry_no_personal_data(system, people):
    """Runs last in this module: everything above has been logged by now."""
    log = system.log.read_text(encoding="utf-8", errors="replace")
    assert "POST /api/v1/sessions 201" in log  # the log did capture the traffic
    secrets = {PASSWORD, "mei@example.com", "0912345678", "tea-mountain"}
    for entry in people.all:
        secrets |= {entry.card.id_no, entry.card.card_no, entry.card.name, entry.card_key}
    leaked = sorted(s for s in secrets if s in log)
    assert not leaked, f"{len(leaked)} personal values in the logs"
