"""The 57-byte card profile (DESIGN "Cards"): parsed from a card, or built for a virtual one.

[0:12]  card number, ASCII digits
[12:32] name, Big5, NUL-padded (see `big5`)
[32:42] ID number, ASCII
[42:49] birth date, ROC yyyMMdd (year + 1911)
[49]    sex, "M" or "F"
[50:57] issue date, ROC yyyMMdd
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from cardreg_shared.card import PROFILE_LENGTH
from cardreg_shared.models.common import CardFields
from pydantic import ValidationError

from .big5 import Big5Error, decode_name, encode_name

ROC_EPOCH_OFFSET = 1911


class ProfileError(ValueError):
    """The profile bytes are not a card profile. Messages name the field, never its value."""


@dataclass(frozen=True)
class CardProfile:
    fields: CardFields
    name_raw: bytes  # the 20 bytes as on the card, padding included: rare names keep their codes


def parse_profile(data: bytes) -> CardProfile:
    if len(data) != PROFILE_LENGTH:
        raise ProfileError(f"a profile has {PROFILE_LENGTH} bytes, got {len(data)}")
    name_raw = data[12:32]
    try:
        name = decode_name(name_raw)
    except Big5Error as exc:
        raise ProfileError(f"name: {exc}") from exc
    values = {
        "card_no": _ascii(data[0:12], "card number"),
        "name": name,
        "id_no": _ascii(data[32:42], "ID number"),
        "birth_date": roc_to_date(data[42:49], "birth date"),
        "sex": _ascii(data[49:50], "sex"),
        "issued_on": roc_to_date(data[50:57], "issue date"),
    }
    try:
        fields = CardFields(**values)
    except ValidationError as exc:
        # Field names only: pydantic's own messages quote the input.
        bad = ", ".join(sorted({str(error["loc"][0]) for error in exc.errors()}))
        raise ProfileError(f"malformed field(s): {bad}") from None
    return CardProfile(fields=fields, name_raw=name_raw)


def build_profile(card: CardFields) -> bytes:
    """The profile a card issued for `card` answers READ PROFILE with."""
    try:
        name_raw = encode_name(card.name)
    except Big5Error as exc:
        raise ProfileError(f"name: {exc}") from exc
    profile = (
        card.card_no.encode("ascii")
        + name_raw
        + card.id_no.encode("ascii")
        + date_to_roc(card.birth_date)
        + card.sex.encode("ascii")
        + date_to_roc(card.issued_on)
    )
    if len(profile) != PROFILE_LENGTH:  # card_no and id_no are fixed-width by their patterns
        raise ProfileError("the card fields do not fit the profile layout")
    return profile


def roc_to_date(raw: bytes, what: str = "date") -> date:
    if not re.fullmatch(rb"[0-9]{7}", raw):
        raise ProfileError(f"{what}: not an ROC yyyMMdd date")
    try:
        return date(int(raw[:3]) + ROC_EPOCH_OFFSET, int(raw[3:5]), int(raw[5:7]))
    except ValueError:
        raise ProfileError(f"{what}: not a calendar date") from None


def date_to_roc(day: date) -> bytes:
    year = day.year - ROC_EPOCH_OFFSET
    if not 1 <= year <= 999:
        raise ProfileError("dates before 1912 have no ROC year")
    return f"{year:03d}{day.month:02d}{day.day:02d}".encode("ascii")


def _ascii(raw: bytes, what: str) -> str:
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise ProfileError(f"{what}: not ASCII") from None
