"""The profile-only pilot mode (DESIGN "Cards"): with CARDREG_PROFILE_ONLY=1 a card read without
proof of possession — what a real NHI card gives — registers and logs in; everything else about
the card is still checked against the roster."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .system import Portal, RunningSystem, error_code

PASSWORD = "tea-mountain-harbour"


@pytest.fixture(scope="module")
def pilot(tmp_path_factory) -> Iterator[RunningSystem]:
    system = RunningSystem(tmp_path_factory.mktemp("pilot"), env={"CARDREG_PROFILE_ONLY": "1"})
    system.start()
    try:
        yield system
    finally:
        system.stop()


def test_profile_only_reads_register_and_log_in(pilot, tmp_path):
    (me,) = pilot.seed(tmp_path / "wallet.jsonl", citizens=1, foreigners=0)
    with httpx.Client(base_url=pilot.url, timeout=30) as http:
        portal = Portal(http)

        def unsigned() -> dict:
            return {**portal.card(me), "signature": None}

        body = {"card": unsigned(), "password": PASSWORD, **me.proof()}
        assert http.post("/api/v1/registrations", json=body).status_code == 201
        login = http.post("/api/v1/sessions", json={"card": unsigned(), "password": PASSWORD})
        assert login.status_code == 201, login.text

        altered = {**unsigned(), "birth_date": "1999-01-01"}
        if altered["birth_date"] == me.card.birth_date.isoformat():
            altered["birth_date"] = "1998-01-01"
        reply = http.post("/api/v1/registrations/lookup", json={"card": altered})
        assert error_code(reply) == "card_data_mismatch"
    assert "pilot mode is ON" in pilot.log.read_text(errors="replace")
