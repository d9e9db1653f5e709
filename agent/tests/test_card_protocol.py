"""The profile layout, ROC dates and the APDU exchange, against scripted cards."""

from __future__ import annotations

from datetime import date

import pytest
from cardreg_agent.card_protocol import exchange, read_card
from cardreg_agent.errors import ReaderError, ReaderErrorCode
from cardreg_agent.pcsc import Stage, error_code
from cardreg_agent.profile import (
    ProfileError,
    build_profile,
    date_to_roc,
    parse_profile,
    roc_to_date,
)
from cardreg_agent.virtual import AppletCard
from cardreg_shared.card import READ_PROFILE, SELECT_NHI_APPLET, auth_message
from cardreg_shared.models.common import CardFields

NONCE = bytes(range(32))

PROFILE = (
    b"000012345678"
    + "陳志明".encode("big5").ljust(20, b"\x00")
    + b"A123456789"
    + b"0750312"
    + b"M"
    + b"1090102"
)


def test_a_profile_parses_field_by_field() -> None:
    profile = parse_profile(PROFILE)
    assert profile.fields == CardFields(
        card_no="000012345678",
        id_no="A123456789",
        name="陳志明",
        birth_date=date(1986, 3, 12),
        sex="M",
        issued_on=date(2020, 1, 2),
    )
    assert profile.name_raw == PROFILE[12:32]


def test_build_profile_is_the_inverse(make_entry) -> None:
    card = make_entry(name="林\ue000明", birth_date=date(1912, 1, 1), sex="F").card
    raw = build_profile(card)
    assert len(raw) == 57
    assert raw[42:49] == b"0010101"
    assert raw[12:18] == "林".encode("big5") + b"\xfa\x40" + "明".encode("big5")
    assert parse_profile(raw).fields == card


@pytest.mark.parametrize(
    ("roc", "day"), [(b"0750312", date(1986, 3, 12)), (b"1130229", date(2024, 2, 29))]
)
def test_roc_dates(roc: bytes, day: date) -> None:
    assert roc_to_date(roc) == day
    assert date_to_roc(day) == roc


@pytest.mark.parametrize("roc", [b"0751332", b"1120229", b"07a0312", b"750312", b"075031 "])
def test_bad_roc_dates_are_refused(roc: bytes) -> None:
    with pytest.raises(ProfileError):
        roc_to_date(roc)


def test_dates_before_the_roc_have_no_card_form() -> None:
    with pytest.raises(ProfileError):
        date_to_roc(date(1911, 12, 31))


@pytest.mark.parametrize(
    "raw",
    [
        PROFILE[:56],
        PROFILE + b"\x00",
        b"",
        PROFILE[:49] + b"X" + PROFILE[50:],  # sex
        b"00001234567Z" + PROFILE[12:],  # card number
        PROFILE[:32] + b"a123456789" + PROFILE[42:],  # ID number
        PROFILE[:42] + b"0751332" + PROFILE[49:],  # birth date
        PROFILE[:12] + b"\xaa" + b"\x00" * 19 + PROFILE[32:],  # name: a lone lead byte
        PROFILE[:12] + b"\x00" * 20 + PROFILE[32:],  # name: empty
        PROFILE[:32] + "陳志明四".encode("big5")[:8] + b"\xff\xfe" + PROFILE[42:],  # non-ASCII ID
    ],
)
def test_malformed_profiles_are_refused_without_quoting_the_card(raw: bytes) -> None:
    with pytest.raises(ProfileError) as failure:
        parse_profile(raw)
    assert "A123456789" not in str(failure.value) and "000012345678" not in str(failure.value)


class ScriptedCard:
    """A card that answers from a script: APDU -> response, falling back to a real applet."""

    def __init__(self, entry, script: dict[bytes, bytes] | None = None) -> None:
        self.applet = AppletCard(entry)
        self.script = script or {}
        self.seen: list[bytes] = []

    def transmit(self, apdu: bytes) -> bytes:
        self.seen.append(apdu)
        for prefix, response in self.script.items():
            if apdu.startswith(prefix):
                return response
        return self.applet.transmit(apdu)


SIGN = bytes.fromhex("8088")


def test_a_read_selects_reads_and_signs_the_nonce(make_entry) -> None:
    entry = make_entry()
    card = ScriptedCard(entry)
    readout = read_card(card.transmit, NONCE)
    assert card.seen[:2] == [SELECT_NHI_APPLET, READ_PROFILE]
    assert readout.profile.fields == entry.card
    entry.private_key().public_key().verify(
        readout.signature, auth_message(NONCE, entry.card.card_no)
    )
    read = readout.card_read().model_dump(mode="json")
    assert read == entry.read(read["nonce"]).model_dump(mode="json")


@pytest.mark.parametrize("sw", ["6D00", "6E00", "6A81"])
def test_a_card_without_the_signing_command_gives_a_profile_only_read(make_entry, sw: str) -> None:
    entry = make_entry()
    readout = read_card(ScriptedCard(entry, {SIGN: bytes.fromhex(sw)}).transmit, NONCE)
    assert readout.signature is None
    assert readout.card_read().signature is None
    assert readout.profile.fields == entry.card


@pytest.mark.parametrize(
    "script",
    [
        {SELECT_NHI_APPLET: bytes.fromhex("6A82")},  # not an NHI card
        {READ_PROFILE: PROFILE[:56] + bytes.fromhex("9000")},  # short profile
        {READ_PROFILE: bytes.fromhex("6982")},
        {SIGN: bytes.fromhex("6982")},  # a refusal that is not "no such command"
        {SIGN: bytes(63) + bytes.fromhex("9000")},  # short signature
    ],
)
def test_unexpected_answers_are_7002(make_entry, script: dict[bytes, bytes]) -> None:
    with pytest.raises(ReaderError) as failure:
        read_card(ScriptedCard(make_entry(), script).transmit, NONCE)
    assert failure.value.code is ReaderErrorCode.UNEXPECTED_CARD


def test_an_answer_without_status_word_is_a_card_gone_mid_read(make_entry) -> None:
    with pytest.raises(ReaderError) as failure:
        read_card(ScriptedCard(make_entry(), {READ_PROFILE: b""}).transmit, NONCE)
    assert failure.value.code is ReaderErrorCode.CARD_REMOVED


def test_more_data_is_fetched_with_get_response() -> None:
    answers = iter([b"\x01\x02\x61\x02", b"\x03\x04\x90\x00"])
    sent: list[bytes] = []

    def transmit(apdu: bytes) -> bytes:
        sent.append(apdu)
        return next(answers)

    assert exchange(transmit, READ_PROFILE) == (b"\x01\x02\x03\x04", 0x9000)
    assert sent[1] == bytes.fromhex("00C0000002")


def test_an_endless_get_response_chain_is_7002() -> None:
    with pytest.raises(ReaderError) as failure:
        exchange(lambda apdu: b"\x61\x01", READ_PROFILE)
    assert failure.value.code is ReaderErrorCode.UNEXPECTED_CARD


def test_a_wallet_name_that_cannot_be_on_a_card_reads_as_7002(make_entry) -> None:
    with pytest.raises(ReaderError) as failure:
        read_card(AppletCard(make_entry(name="김민준")).transmit, NONCE)
    assert failure.value.code is ReaderErrorCode.UNEXPECTED_CARD


@pytest.mark.parametrize(
    ("hresult", "stage", "code"),
    [
        (0x8010001D, Stage.SERVICE, "8013"),  # SCARD_E_NO_SERVICE: pcscd not running
        (0x8010002E, Stage.SERVICE, "8013"),  # no readers
        (0x80100009, Stage.CONNECT, "8013"),  # unknown reader
        (0x80100017, Stage.READ, "8013"),  # reader unavailable
        (0x8010000C, Stage.CONNECT, "7004"),  # no smart card
        (0x80100069, Stage.CONNECT, "7004"),  # removed before connecting
        (0x80100069, Stage.READ, "7001"),  # removed mid-read
        (0x80100016, Stage.READ, "7001"),  # not transacted (vpcd: the card left)
        (0x80100068, Stage.READ, "7001"),  # reset by someone else
        (0x8010000B, Stage.CONNECT, "7001"),  # another program holds the card
        (0x8010000F, Stage.CONNECT, "7002"),  # no T=1
        (0x80100066, Stage.READ, "7002"),  # unresponsive card
        (-0x7FEFFFF4, Stage.CONNECT, "7004"),  # signed form of 0x8010000C
    ],
)
def test_pcsc_results_map_to_faq_codes(hresult: int, stage: Stage, code: str) -> None:
    assert error_code(hresult, stage).value == code
