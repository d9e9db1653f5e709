"""`cardreg seed`: the wallet loads as WalletCard, its cards verify against the roster, reruns add."""

from __future__ import annotations

import os
import random
import secrets
from pathlib import Path

import pytest
from cardreg_identity.adapters.card_keys import signature_valid
from cardreg_identity.cli import seed, seed_main
from cardreg_identity.flows.card_verify import CardVerification
from cardreg_shared.models.common import b64url_encode
from cardreg_shared.models.identity import CardVerifyRequest
from cardreg_testkit.people import load_wallet

from .conftest import open_store, query


def _count(db: Path | str, sql: str) -> int:
    return query(db, sql)[0][0]


async def test_wallet_cards_verify_against_the_roster(tmp_path: Path, database) -> None:
    db, wallet = database, tmp_path / "wallet.jsonl"
    summary = seed(db, citizens=150, foreigners=50, wallet=wallet, rng=random.Random(11))
    assert (summary.citizens, summary.foreigners) == (150, 50)
    entries = list(load_wallet(wallet))
    assert [e.kind for e in entries].count("citizen") == 150
    assert [e.kind for e in entries].count("foreigner") == 50
    assert all((e.household is None) == (e.kind == "foreigner") for e in entries)
    assert os.stat(wallet).st_mode & 0o077 == 0  # card keys: owner only
    store = await open_store(db)
    verify = CardVerification(store, signature_valid)
    try:
        for entry in entries:
            reply = await verify(
                CardVerifyRequest(card=entry.read(b64url_encode(secrets.token_bytes(32))))
            )
            assert (reply.card_no, reply.id_no, reply.kind) == (
                entry.card.card_no,
                entry.card.id_no,
                entry.kind,
            )
            record = await store.proof_record(reply.person_id)
            assert record is not None
            if entry.household is not None:
                assert record.household is not None
                assert record.household.household_no == entry.household.household_no
                assert record.household.township == entry.household.township
                assert str(record.household.neighborhood) == entry.household.neighborhood
            else:
                assert record.permit is not None and entry.residence is not None
                assert record.permit.serial_no == entry.residence.serial_no
                assert record.permit.expires_on == entry.residence.expires_on
    finally:
        await store.close()


def test_seeding_again_adds_people_and_never_collides(tmp_path: Path, database) -> None:
    db = database
    # The same generator seed twice draws the same numbers: the second run must renumber.
    seed(
        db,
        citizens=60,
        foreigners=20,
        wallet=tmp_path / "a.jsonl",
        rng=random.Random(5),
        batch_size=32,
    )
    seed(
        db,
        citizens=60,
        foreigners=20,
        wallet=tmp_path / "b.jsonl",
        rng=random.Random(5),
        batch_size=32,
    )
    first, second = list(load_wallet(tmp_path / "a.jsonl")), list(load_wallet(tmp_path / "b.jsonl"))
    assert len(first) == len(second) == 80
    assert {e.card.id_no for e in first}.isdisjoint(e.card.id_no for e in second)
    assert {e.card.card_no for e in first}.isdisjoint(e.card.card_no for e in second)
    assert _count(db, "SELECT count(DISTINCT id_no) FROM people") == 160
    assert _count(db, "SELECT count(DISTINCT person_id) FROM people") == 160
    assert _count(db, "SELECT count(*) FROM cards WHERE status = 'active'") == 160


def test_wallet_is_replaced_unless_appending(tmp_path: Path) -> None:
    db, wallet = tmp_path / "identity.db", tmp_path / "wallet.jsonl"
    seed(db, citizens=3, foreigners=0, wallet=wallet)
    seed(db, citizens=2, foreigners=0, wallet=wallet)
    assert len(list(load_wallet(wallet))) == 2
    seed(db, citizens=0, foreigners=4, wallet=wallet, append=True)
    assert len(list(load_wallet(wallet))) == 6


def test_cli_prints_counts_but_no_personal_data(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    wallet = tmp_path / "w.jsonl"
    code = seed_main(
        [
            "--data-dir",
            str(tmp_path / "d"),
            "--citizens",
            "7",
            "--foreigners",
            "3",
            "--wallet",
            str(wallet),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert (
        "7 citizens" in out and "3 foreign residents" in out and len(out.strip().splitlines()) == 1
    )
    for entry in load_wallet(wallet):
        assert (
            entry.card.id_no not in out
            and entry.card.name not in out
            and entry.card.card_no not in out
        )
    assert _count(tmp_path / "d" / "identity.db", "SELECT count(*) FROM people") == 10


def test_cli_refuses_negative_counts(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        seed_main(
            ["--data-dir", str(tmp_path), "--citizens", "-1", "--wallet", str(tmp_path / "w")]
        )
    assert caught.value.code == 2


def test_cli_says_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    url = "postgresql://postgres:not-for-logs@127.0.0.1:1/postgres"
    wallet = str(tmp_path / "w")
    with pytest.raises(SystemExit) as caught:
        seed_main(["--database-url", url, "--citizens", "1", "--wallet", wallet])
    assert "postgresql://postgres@127.0.0.1:1/postgres failed" in str(caught.value.code)
    assert "not-for-logs" not in str(caught.value.code)
    with pytest.raises(SystemExit) as caught:
        seed_main(["--database-url", "mysql://x/y", "--citizens", "1", "--wallet", wallet])
    assert "postgresql://" in str(caught.value.code)
