"""tools/vcard/vnhicard.py without vpcd: its applet, ATR and profile agree with the agent."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from cardreg_agent.profile import build_profile, parse_profile
from cardreg_shared.card import READ_PROFILE, SELECT_NHI_APPLET, auth_message, sign_nonce_apdu

NONCE = bytes(range(32))


def line_of(entry) -> dict:
    return json.loads(entry.model_dump_json())


@pytest.mark.parametrize("name", ["陳志明", "林\ue000\uf848", "NGUYEN THI HOA"])
def test_its_profile_is_the_agent_s(vnhicard, make_entry, name: str) -> None:
    entry = make_entry(name=name, birth_date=date(1999, 12, 31), sex="F")
    raw = vnhicard.build_profile(line_of(entry)["card"])
    assert raw == build_profile(entry.card)
    assert parse_profile(raw).fields == entry.card


def test_its_atr_offers_t1_with_a_valid_checksum(vnhicard) -> None:
    atr = vnhicard.ATR
    assert atr[0] == 0x3B
    assert atr[1] & 0x80 and atr[2] & 0x0F == 1  # TD1 present, protocol T=1
    checksum = 0
    for byte in atr[1:]:
        checksum ^= byte
    assert checksum == 0


def test_its_applet_answers_as_designed(vnhicard, make_entry) -> None:
    entry = make_entry()
    applet = vnhicard.NhiApplet(line_of(entry))
    assert applet.answer(READ_PROFILE) == bytes.fromhex("6985")  # nothing selected yet
    assert applet.answer(bytes.fromhex("00A4040002A0000000")) == bytes.fromhex("6A82")
    assert applet.answer(SELECT_NHI_APPLET) == bytes.fromhex("9000")
    assert applet.answer(READ_PROFILE) == build_profile(entry.card) + bytes.fromhex("9000")
    reply = applet.answer(sign_nonce_apdu(NONCE))
    assert reply[-2:] == bytes.fromhex("9000")
    entry.private_key().public_key().verify(reply[:-2], auth_message(NONCE, entry.card.card_no))
    assert applet.answer(bytes.fromhex("00B0000000")) == bytes.fromhex("6D00")


@pytest.mark.parametrize(
    ("mode", "apdu", "answer"),
    [
        ("wrong-card", SELECT_NHI_APPLET, "6A82"),
        ("profile-only", sign_nonce_apdu(NONCE), "6D00"),
        ("remove-on-proof", sign_nonce_apdu(NONCE), None),
    ],
)
def test_its_modes(vnhicard, make_entry, mode: str, apdu: bytes, answer: str | None) -> None:
    applet = vnhicard.NhiApplet(line_of(make_entry()), mode)
    applet.answer(SELECT_NHI_APPLET)
    reply = applet.answer(apdu)
    assert reply == (None if answer is None else bytes.fromhex(answer))


def test_its_command_refuses_a_file_that_is_not_one_wallet_line(
    vnhicard, make_entry, tmp_path: Path, capsys
) -> None:
    card_file = tmp_path / "two.jsonl"
    card_file.write_text(
        make_entry().model_dump_json() + "\n" + make_entry().model_dump_json() + "\n"
    )
    assert vnhicard.main(["--card", str(card_file), "--port", "1"]) == 1
    assert "exactly one wallet line" in capsys.readouterr().err


def test_its_command_reports_no_vpcd(vnhicard, make_entry, tmp_path: Path, capsys) -> None:
    card_file = tmp_path / "card.jsonl"
    card_file.write_text(make_entry().model_dump_json() + "\n")
    # Port 1 on loopback: nothing listens there.
    assert vnhicard.main(["--card", str(card_file), "--port", "1"]) == 1
    assert "vnhicard:" in capsys.readouterr().err
