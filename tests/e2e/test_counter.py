"""FAQ 4, 5 and 13 end to end through both listeners: operators enrolled with `cardreg
operator add`, logging in with a TOTP code on the operator listener; wallet people finishing
their registration with their card on the public one."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlparse

import httpx
import pyotp
import pytest

from .system import error_code

PASSWORD = "tea-mountain-harbour"
OPERATOR_PASSWORD = "lantern-river-orchard"


class Console:
    """An operator's session on the operator listener."""

    def __init__(self, http: httpx.Client, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: dict | None = None) -> httpx.Response:
        return self.http.post(f"/api/v1/operator{path}", json=body or {}, headers=self.headers)

    def search(self, entry) -> dict:
        reply = self.post("/people/search", {"id_no": entry.card.id_no})
        assert reply.status_code == 200, reply.text
        return reply.json()

    def document(self, entry, kind: str | None = None) -> dict:
        kind = kind or next(iter(entry.documents))
        return {"type": kind, "number": entry.documents[kind]}


def enrol(system, username: str, role: str, unit: str | None = None) -> tuple[str, str]:
    args = ["operator", "add", "--role", role, "--username", username]
    args += ["--unit", unit] if unit else []
    out = system.cardreg(*args, "--data-dir", str(system.data_dir)).stdout
    password = re.search(r"initial password: (\S+)", out).group(1)
    uri = re.search(r"(otpauth://\S+)", out).group(1)
    return password, parse_qs(urlparse(uri).query)["secret"][0]


@pytest.fixture
def operator_http(system):
    with httpx.Client(base_url=system.operator_url, timeout=30) as http:
        yield http


def signed_in(system, http, username: str, role: str, unit: str | None = None) -> Console:
    password, secret = enrol(system, username, role, unit)
    login = http.post(
        "/api/v1/operator/sessions",
        json={"username": username, "password": password, "totp": pyotp.TOTP(secret).now()},
    )
    assert login.status_code == 201, login.text
    assert login.json()["role"] == role and login.json()["password_change_required"] is True
    console = Console(http, login.json()["access_token"])
    before = console.post("/people/search", {"id_no": "A123456789"})
    assert error_code(before) == "password_change_required"
    change = http.put(
        "/api/v1/operator/password",
        json={"current_password": password, "new_password": OPERATOR_PASSWORD},
        headers=console.headers,
    )
    assert change.status_code == 204, change.text
    return console


def setup(portal, entry, code: str, password: str = PASSWORD) -> httpx.Response:
    body = {"code": code, "card": portal.card(entry), "password": password}
    return portal.http.post("/api/v1/registrations/setup", json=body)


def test_counter_registration_then_setup_with_the_card_then_login(
    system, operator_http, portal, people
):
    clerk = signed_in(system, operator_http, "clerk.e2e1", "counter")
    me = people.citizen_where(lambda e: "national_id" in e.documents)
    found = clerk.search(me)
    assert found["account"] is None and me.card.id_no not in str(found)
    reply = clerk.post(
        "/registrations",
        {"person_ref": found["person_ref"], "document": clerk.document(me, "national_id")},
    )
    assert reply.status_code == 201, reply.text
    code = reply.json()["setup"]["code"]
    assert portal.lookup(me).json() == {"registered": True, "status": "pending"}
    assert portal.login(me, PASSWORD).status_code == 401

    other = people.citizen()
    assert error_code(setup(portal, other, code)) == "setup_invalid"
    done = setup(portal, me, code)
    assert done.status_code == 201, done.text
    assert done.json()["status"] == "active"
    assert error_code(setup(portal, me, code)) == "setup_invalid"
    assert portal.login(me, PASSWORD).status_code == 201


def test_a_child_registers_with_the_household_register(system, operator_http, portal, people):
    clerk = signed_in(system, operator_http, "clerk.e2e2", "counter")
    child = people.citizen_where(lambda e: "household_register" in e.documents)
    found = clerk.search(child)
    assert found["under_14"] is True
    wrong = clerk.post(
        "/registrations",
        {
            "person_ref": found["person_ref"],
            "document": {"type": "national_id", "number": child.card.id_no},
        },
    )
    assert error_code(wrong) == "document_mismatch"
    reply = clerk.post(
        "/registrations",
        {"person_ref": found["person_ref"], "document": clerk.document(child)},
    )
    assert reply.status_code == 201, reply.text
    assert setup(portal, child, reply.json()["setup"]["code"]).status_code == 201
    assert portal.login(child, PASSWORD).status_code == 201


def test_an_employer_registers_its_own_insured_only(system, operator_http, portal, people):
    mine = people.citizen_where(lambda e: e.insured_unit is not None)
    agent = signed_in(system, operator_http, "hr.e2e", "employer", mine.insured_unit)
    consent = {"reference": "HR-0042", "given_on": "2025-02-27"}
    reply = agent.post(
        "/registrations", {"id_no": mine.card.id_no, "consent": consent, "email": "m@example.com"}
    )
    assert reply.status_code == 201, reply.text
    theirs = people.citizen_where(lambda e: e.insured_unit != mine.insured_unit)
    refused = agent.post(
        "/registrations",
        {"id_no": theirs.card.id_no, "consent": consent, "email": "t@example.com"},
    )
    assert refused.status_code == 403 and error_code(refused) == "insurance_mismatch"
    no_consent = agent.post("/registrations", {"id_no": mine.card.id_no, "email": "m@x.com"})
    assert error_code(no_consent) == "invalid_request"
    # An employer deactivates nothing.
    found = agent.search(mine)
    denied = agent.post(
        "/deactivations",
        {
            "person_ref": found["person_ref"],
            "document": agent.document(mine),
            "reason": {"code": "other"},
        },
    )
    assert error_code(denied) == "insufficient_scope"
    assert setup(portal, mine, reply.json()["setup"]["code"]).status_code == 201
    assert portal.login(mine, PASSWORD).status_code == 201


def test_deactivation_stops_everything_and_reactivation_restores(
    system, operator_http, portal, people
):
    clerk = signed_in(system, operator_http, "clerk.e2e3", "counter")
    me = people.citizen_where(lambda e: "national_id" in e.documents)
    assert portal.register(me, PASSWORD).status_code == 201
    bearer = portal.bearer(me, PASSWORD)
    found = clerk.search(me)
    assert found["account"]["status"] == "active"
    body = {"person_ref": found["person_ref"], "document": clerk.document(me)}
    off = clerk.post(
        "/deactivations",
        {**body, "reason": {"code": "card_misuse", "text": "reported-by-phone-7731"}},
    )
    assert off.status_code == 200 and off.json()["status"] == "deactivated"
    assert error_code(portal.http.get("/api/v1/account", headers=bearer)) == ("account_deactivated")
    assert error_code(portal.login(me, PASSWORD)) == "account_deactivated"
    assert portal.lookup(me).json()["status"] == "deactivated"

    on = clerk.post("/reactivations", body)
    assert on.status_code == 200 and on.json()["status"] == "active"
    assert portal.http.get("/api/v1/account", headers=bearer).status_code == 401
    assert portal.login(me, PASSWORD).status_code == 201


def test_a_person_without_account_blocked_cannot_register_online(
    system, operator_http, portal, people
):
    clerk = signed_in(system, operator_http, "clerk.e2e4", "counter")
    me = people.citizen_where(lambda e: "national_id" in e.documents)
    found = clerk.search(me)
    body = {"person_ref": found["person_ref"], "document": clerk.document(me)}
    clerk.post("/deactivations", {**body, "reason": {"code": "identity_fraud"}})
    assert error_code(portal.register(me, PASSWORD)) == "account_deactivated"
    lifted = clerk.post("/reactivations", body)
    assert lifted.json() == {"account_id": None, "status": None}
    assert portal.register(me, PASSWORD).status_code == 201


def test_tokens_stay_on_their_own_listener(system, operator_http, portal, people):
    clerk = signed_in(system, operator_http, "clerk.e2e5", "counter")
    me = people.citizen()
    assert portal.register(me, PASSWORD).status_code == 201
    citizen = portal.bearer(me, PASSWORD)
    on_operator = operator_http.post(
        "/api/v1/operator/people/search", json={"id_no": me.card.id_no}, headers=citizen
    )
    assert on_operator.status_code == 401
    on_public = portal.http.get("/api/v1/account", headers=clerk.headers)
    assert on_public.status_code == 401
    # The operator API is not on the public listener, nor the portal on the operator one.
    assert portal.http.post("/api/v1/operator/people/search", json={}).status_code == 404
    assert operator_http.post("/api/v1/sessions", json={}).status_code == 404


def test_wrong_and_replayed_totp_codes_are_refused(system, operator_http):
    password, secret = enrol(system, "clerk.e2e6", "counter")
    code = pyotp.TOTP(secret).now()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    body = {"username": "clerk.e2e6", "password": password}
    first = operator_http.post("/api/v1/operator/sessions", json={**body, "totp": wrong})
    assert first.status_code == 401 and error_code(first) == "invalid_credentials"
    ok = operator_http.post("/api/v1/operator/sessions", json={**body, "totp": code})
    assert ok.status_code == 201, ok.text
    again = operator_http.post("/api/v1/operator/sessions", json={**body, "totp": code})
    assert again.status_code == 401 and error_code(again) == "invalid_credentials"


def test_the_holder_sees_counter_work_in_their_activity(system, operator_http, portal, people):
    clerk = signed_in(system, operator_http, "clerk.e2e7", "counter")
    me = people.citizen_where(lambda e: "national_id" in e.documents)
    found = clerk.search(me)
    reply = clerk.post(
        "/registrations", {"person_ref": found["person_ref"], "document": clerk.document(me)}
    )
    account_id = reply.json()["account_id"]
    assert setup(portal, me, reply.json()["setup"]["code"]).status_code == 201
    bearer = portal.bearer(me, PASSWORD)
    page = portal.http.get("/api/v1/account/activity", headers=bearer)
    assert page.status_code == 200, page.text
    events = page.json()["events"]
    assert [e["type"] for e in events] == [
        "logged_in", "setup_completed", "setup_issued", "registered",
    ]  # fmt: skip
    assert events[-1]["channel"] == "counter" and "op_" not in page.text
    audit = operator_http.get(
        f"/api/v1/operator/accounts/{account_id}/events", headers=clerk.headers
    )
    assert audit.status_code == 200, audit.text
    by_clerk = [e for e in audit.json()["events"] if e["method"].startswith("counter")]
    assert len(by_clerk) == 2 and all(e["operator_id"] for e in by_clerk)
    # Not on the public listener, and not with a citizen's token.
    assert (
        operator_http.get(
            f"/api/v1/operator/accounts/{account_id}/events", headers=bearer
        ).status_code
        == 401
    )


def test_cardreg_events_lists_what_an_operator_did(system, operator_http, people):
    clerk = signed_in(system, operator_http, "clerk.e2e8", "counter")
    listed = system.cardreg("operator", "list", "--data-dir", str(system.data_dir)).stdout
    operator_id = next(
        line.split()[-1] for line in listed.splitlines() if line.startswith("clerk.e2e8 ")
    )
    me = people.citizen_where(lambda e: "national_id" in e.documents)
    found = clerk.search(me)
    clerk.post(
        "/registrations", {"person_ref": found["person_ref"], "document": clerk.document(me)}
    )
    args = ("events", "--data-dir", str(system.data_dir), "--operator", operator_id, "--json")
    deadline = time.monotonic() + 20
    while True:
        lines = system.cardreg(*args).stdout.splitlines()
        kinds = [json.loads(line)["type"] for line in lines]
        if {"logged_in", "person_searched", "registered"} <= set(
            kinds
        ) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert {"added", "logged_in", "password_changed", "person_searched", "registered"} <= set(kinds)
    assert me.card.id_no not in "\n".join(lines) and "clerk.e2e8" not in "\n".join(lines)


def test_the_logs_carry_no_document_username_or_consent(system, people):
    """Runs last in this module: the counter work above has been logged by now."""
    log = system.log.read_text(encoding="utf-8", errors="replace")
    assert "POST /api/v1/operator/registrations 201" in log  # the traffic was logged
    secrets = {
        OPERATOR_PASSWORD,
        "HR-0042",
        "m@example.com",
        "t@example.com",
        "reported-by-phone-7731",
    }
    secrets |= {f"clerk.e2e{n}" for n in range(1, 9)} | {"hr.e2e"}
    for entry in people.all:
        secrets |= {number for number in entry.documents.values()}
    leaked = sorted(s for s in secrets if s in log)
    assert not leaked, f"{len(leaked)} personal values in the logs"
