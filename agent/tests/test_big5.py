from __future__ import annotations

import random

import pytest
from cardreg_agent.big5 import (
    NAME_BYTES,
    PRIVATE_USE,
    TRAILS,
    Big5Error,
    decode_name,
    encode_name,
    eudc_char,
)


@pytest.mark.parametrize(
    "name", ["陳志明", "歐陽婷婷", "王" * 10, "NGUYEN THI HOA", "A", "李 小龍"]
)
def test_ordinary_names_round_trip(name: str) -> None:
    raw = encode_name(name)
    assert len(raw) == NAME_BYTES
    assert raw.rstrip(b"\x00") == name.encode("big5")
    assert decode_name(raw) == name


def test_characters_only_cp950_has_round_trip() -> None:
    raw = encode_name("林碁")
    assert raw[:4] == "林".encode("big5") + bytes.fromhex("F9D6")
    assert decode_name(raw) == "林碁"
    assert decode_name(bytes.fromhex("A3E1")) == "€"  # cp950 only


@pytest.mark.parametrize(
    ("code_point", "pair"),
    [
        (0xE000, "FA40"),
        (0xE03E, "FA7E"),
        (0xE03F, "FAA1"),
        (0xE310, "FEFE"),
        (0xE311, "8E40"),
        (0xEEB7, "A0FE"),
        (0xEEB8, "8140"),
        (0xF6B0, "8DFE"),
        (0xF6B1, "C6A1"),
        (0xF6B1 + 93, "C6FE"),
        (0xF6B1 + 94, "C740"),
        (0xF848, "C8FE"),
    ],
)
def test_user_defined_codes_map_to_private_use_by_the_eudc_formula(
    code_point: int, pair: str
) -> None:
    raw = encode_name("林" + chr(code_point))
    assert raw[2:4] == bytes.fromhex(pair)
    assert decode_name(raw) == "林" + chr(code_point)


def test_every_private_use_character_of_the_range_round_trips_and_codes_are_distinct() -> None:
    pairs = set()
    for code_point in PRIVATE_USE:
        raw = encode_name(chr(code_point))
        assert decode_name(raw) == chr(code_point)
        pairs.add(raw[:2])
    assert len(pairs) == len(PRIVATE_USE) == 0xF849 - 0xE000


def test_python_big5_alone_would_garble_a_rare_name() -> None:
    raw = encode_name("林\ue000明")
    assert "\ufffd" in raw.rstrip(b"\x00").decode("big5", errors="replace")
    assert decode_name(raw) == "林\ue000明"


def test_the_user_defined_areas_and_nothing_else_decode_to_private_use() -> None:
    private = 0
    for lead in range(0x81, 0xFF):
        for trail in TRAILS:
            ch = eudc_char(lead, trail)
            if ch is not None:
                private += 1
                assert ord(ch) in PRIVATE_USE
            else:
                assert not (0xFA <= lead or 0x81 <= lead <= 0xA0)
    assert private == len(PRIVATE_USE)


def test_rare_names_of_full_length_fill_all_twenty_bytes() -> None:
    name = "\ue000\ue311\ueeb8\uf6b1\uf848" + "王" * 5
    raw = encode_name(name)
    assert len(raw) == NAME_BYTES and not raw.endswith(b"\x00")
    assert decode_name(raw) == name


def test_padding_is_nul_and_dropped_on_decoding() -> None:
    assert encode_name("王") == "王".encode("big5") + b"\x00" * 18
    assert decode_name("王".encode("big5") + b"\x00" * 18) == "王"
    assert decode_name(b"\x00" * NAME_BYTES) == ""


@pytest.mark.parametrize(
    "raw",
    [
        b"\xaa\x4c\x00\xa9\xfa" + b"\x00" * 15,  # NUL inside the name
        b"\xaa\x4c\xa9" + b"\x00" * 17,  # a lead byte without its trail
        b"\x80\x40" + b"\x00" * 18,  # 0x80 leads nothing
        b"\x07" + b"\x00" * 19,  # control character
        b"\xaa\x4c" * 11,  # 22 bytes: longer than the field
    ],
)
def test_malformed_name_fields_are_refused(raw: bytes) -> None:
    with pytest.raises(Big5Error):
        decode_name(raw)


@pytest.mark.parametrize(
    "name",
    [
        "王" * 11,  # 22 bytes
        "A" * 21,
        "陳😀",  # outside Big5
        "김민준",  # Hangul: outside Big5
        "陳\x07明",  # control character
        "ヨシダ",  # Python's big5 puts kana in C6A1-C7FC: the card's user-defined area
    ],
)
def test_names_that_cannot_be_on_a_card_are_refused(name: str) -> None:
    with pytest.raises(Big5Error) as failure:
        encode_name(name)
    assert name not in str(failure.value)


def test_standard_codes_decode_and_re_encode_to_the_same_text() -> None:
    rng = random.Random(7)
    pairs = [bytes([rng.randrange(0xA4, 0xF9), rng.choice(TRAILS)]) for _ in range(2000)]
    checked = 0
    for pair in pairs:
        try:
            text = decode_name(pair)
        except Big5Error:
            continue  # unassigned code
        assert decode_name(encode_name(text)) == text
        checked += 1
    assert checked > 1000


def test_the_virtual_card_s_copy_of_the_encoder_agrees(vnhicard) -> None:
    rng = random.Random(11)
    names = [chr(cp) for cp in PRIVATE_USE] + ["陳志明", "林碁", "NGUYEN THI HOA", "王" * 10]
    names += ["".join(chr(rng.randrange(0x4E00, 0x9FA6)) for _ in range(3)) for _ in range(300)]
    for name in names:
        try:
            ours = encode_name(name)
        except Big5Error:
            with pytest.raises(ValueError):
                vnhicard.encode_name(name)
            continue
        assert vnhicard.encode_name(name) == ours
    for name in ("ヨシダ", "王" * 11, "陳😀"):
        with pytest.raises(ValueError):
            vnhicard.encode_name(name)
