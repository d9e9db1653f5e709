"""`cardreg agent`: arguments, the card file, and a whole run in its own process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from cardreg_agent.cli import agent_main
from cardreg_shared.card import auth_message
from cardreg_shared.models.common import CardRead, b64url_decode, b64url_encode


def write_card_file(path: Path, *entries) -> Path:
    path.write_text("".join(entry.model_dump_json() + "\n" for entry in entries), encoding="utf-8")
    return path


def test_the_agent_serves_a_card_file_until_sigterm(
    tmp_path: Path, make_entry, agent_process
) -> None:
    entry = make_entry()
    card_file = write_card_file(tmp_path / "card.jsonl", entry)
    portal = "http://portal.example:8443"
    nonce = b64url_encode(os.urandom(32))
    with (
        agent_process(
            ["--card", str(card_file), "--port", "0", "--portal-origin", portal + "/"]
        ) as port,
        httpx.Client(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        status = client.get("/v1/status", headers={"origin": portal})
        read = client.post("/v1/read", json={"nonce": nonce}, headers={"origin": portal})
        other = client.get("/v1/status", headers={"origin": "http://127.0.0.1:8080"})
    assert status.json() == {"reader": "cardreg virtual card", "card_present": True}
    assert status.headers["access-control-allow-origin"] == portal
    card = CardRead.model_validate(read.json())
    entry.private_key().public_key().verify(
        b64url_decode(card.signature), auth_message(b64url_decode(nonce), entry.card.card_no)
    )
    assert other.status_code == 403


@pytest.mark.parametrize(
    "content",
    [
        "",  # no line
        "{not json\n",
        '{"kind": "citizen", "card": {"card_no": "1", "id_no": "SECRETID99", "name": "SECRETNAME"}}\n',
    ],
)
def test_a_bad_card_file_stops_the_agent_without_quoting_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    card_file = tmp_path / "card.jsonl"
    card_file.write_text(content, encoding="utf-8")
    assert agent_main(["--card", str(card_file), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "card file" in err and "SECRET" not in err


def test_a_card_file_holds_one_wallet_line(tmp_path: Path, make_entry, capsys) -> None:
    card_file = write_card_file(tmp_path / "wallet.jsonl", make_entry(), make_entry())
    assert agent_main(["--card", str(card_file), "--port", "0"]) == 2
    assert "one wallet line, not 2" in capsys.readouterr().err


def test_a_missing_card_file(tmp_path: Path, capsys) -> None:
    assert agent_main(["--card", str(tmp_path / "nope.jsonl"), "--port", "0"]) == 2
    assert "cannot read the card file" in capsys.readouterr().err


def test_reader_goes_with_pcsc_only(tmp_path: Path, make_entry, capsys) -> None:
    card_file = write_card_file(tmp_path / "card.jsonl", make_entry())
    assert agent_main(["--card", str(card_file), "--reader", "X", "--port", "0"]) == 2
    assert "--reader" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--pcsc", "--card", "x.jsonl"],
        ["--portal-origin", "*"],
        ["--portal-origin", "http://127.0.0.1:8080/portal"],
        ["--portal-origin", "ftp://127.0.0.1"],
        ["--port", "70000"],
    ],
)
def test_bad_arguments_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        agent_main(argv)
    assert exit_.value.code == 2


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("HTTPS://Portal.Example:443", "https://portal.example"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_portal_origins_are_normalised_as_browsers_send_them(given: str, origin: str) -> None:
    from cardreg_agent.guard import normalize_origin

    assert normalize_origin(given) == origin


def test_wallet_lines_the_seed_writes_load_as_card_files(tmp_path: Path, make_entry) -> None:
    from cardreg_agent.cli import read_card_file

    entry = make_entry(name="林\ue000明")
    line = json.dumps(json.loads(entry.model_dump_json()), ensure_ascii=False)
    (tmp_path / "card.jsonl").write_text(line + "\n", encoding="utf-8")
    assert read_card_file(tmp_path / "card.jsonl") == entry
