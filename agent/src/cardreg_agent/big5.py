"""The card's name field: 20 bytes of Big5, NUL-padded, rare characters in user-defined codes.

Python's `big5` codec turns a user-defined code into U+FFFD plus a stray byte, so names are
decoded here pair by pair. Standard characters go through `big5` (the codec identity checks
names with), then `cp950` for the few it lacks (e.g. 碁 F9D6). User-defined codes map to
Unicode private-use code points by the Microsoft / Taiwan EUDC convention, the one identity
stores rare names in (U+E000..U+F848). Each area runs through its lead bytes in order, 157
trail positions per lead byte (0x40-0x7E, then 0xA1-0xFE):

    FA40-FEFE  ->  U+E000-U+E310   (5 lead bytes)
    8E40-A0FE  ->  U+E311-U+EEB7   (19 lead bytes)
    8140-8DFE  ->  U+EEB8-U+F6B0   (13 lead bytes)
    C6A1-C8FE  ->  U+F6B1-U+F848   (C6 from trail A1 only: 94 + 157 + 157)

    code point = area base + (lead - first lead) * 157 + trail index - first trail index

Python's `big5` puts 249 ETEN symbols (kana, Cyrillic, ...) in C6A1-C7FC; on a card those codes
are user-defined, so encoding such a symbol is refused rather than read back as another
character. Single bytes below 0x80 are ASCII (foreign residents' names).
"""

from __future__ import annotations

from dataclasses import dataclass

NAME_BYTES = 20

TRAILS = tuple(range(0x40, 0x7F)) + tuple(range(0xA1, 0xFF))
_TRAIL_INDEX = {trail: index for index, trail in enumerate(TRAILS)}


@dataclass(frozen=True)
class EudcArea:
    first_lead: int
    last_lead: int
    first_trail: int  # of the first lead byte; later lead bytes start at 0x40
    base: int  # code point of (first_lead, first_trail)

    @property
    def size(self) -> int:
        return (self.last_lead - self.first_lead + 1) * len(TRAILS) - self._skipped

    @property
    def _skipped(self) -> int:
        return _TRAIL_INDEX[self.first_trail]

    def code_point(self, lead: int, trail: int) -> int | None:
        if trail not in _TRAIL_INDEX or not self.first_lead <= lead <= self.last_lead:
            return None
        position = (lead - self.first_lead) * len(TRAILS) + _TRAIL_INDEX[trail] - self._skipped
        return self.base + position if position >= 0 else None

    def pair(self, code_point: int) -> bytes | None:
        position = code_point - self.base
        if not 0 <= position < self.size:
            return None
        lead, trail = divmod(position + self._skipped, len(TRAILS))
        return bytes([self.first_lead + lead, TRAILS[trail]])


EUDC_AREAS = (
    EudcArea(0xFA, 0xFE, 0x40, 0xE000),
    EudcArea(0x8E, 0xA0, 0x40, 0xE311),
    EudcArea(0x81, 0x8D, 0x40, 0xEEB8),
    EudcArea(0xC6, 0xC8, 0xA1, 0xF6B1),
)
PRIVATE_USE = range(0xE000, 0xF849)


class Big5Error(ValueError):
    """The bytes are not a Big5 name, or the text cannot be one. Never quotes the name."""


def eudc_char(lead: int, trail: int) -> str | None:
    """The private-use character of a user-defined code, or None for any other pair."""
    for area in EUDC_AREAS:
        code_point = area.code_point(lead, trail)
        if code_point is not None:
            return chr(code_point)
    return None


def eudc_pair(ch: str) -> bytes | None:
    """The user-defined code of a private-use character, or None for any other character."""
    for area in EUDC_AREAS:
        pair = area.pair(ord(ch))
        if pair is not None:
            return pair
    return None


def decode_name(raw: bytes) -> str:
    """The name in a card's name field (trailing NUL padding dropped)."""
    if len(raw) > NAME_BYTES:
        raise Big5Error(f"a name field has at most {NAME_BYTES} bytes")
    data = raw.rstrip(b"\x00")
    chars: list[str] = []
    i = 0
    while i < len(data):
        lead = data[i]
        if 0x20 <= lead < 0x7F:
            chars.append(chr(lead))
            i += 1
        elif 0x81 <= lead <= 0xFE and i + 1 < len(data):
            chars.append(_decode_pair(lead, data[i + 1]))
            i += 2
        else:
            raise Big5Error(f"byte {i} of the name is not Big5")
    return "".join(chars)


def _decode_pair(lead: int, trail: int) -> str:
    ch = eudc_char(lead, trail)
    if ch is not None:
        return ch
    for codec in ("big5", "cp950"):
        try:
            return bytes([lead, trail]).decode(codec)
        except UnicodeDecodeError:
            continue
    raise Big5Error("the name holds a code that is not a Big5 character")


def encode_name(name: str) -> bytes:
    """The 20-byte name field for `name`, NUL-padded."""
    out = bytearray()
    for ch in name:
        out += _encode_char(ch)
    if len(out) > NAME_BYTES:
        raise Big5Error(f"the name is longer than the card's {NAME_BYTES} bytes")
    return bytes(out).ljust(NAME_BYTES, b"\x00")


def _encode_char(ch: str) -> bytes:
    if ord(ch) in PRIVATE_USE:
        pair = eudc_pair(ch)
        if pair is None:  # cannot happen: the areas cover the whole range
            raise Big5Error("a private-use character has no user-defined code")
        return pair
    if 0x20 <= ord(ch) < 0x7F:
        return ch.encode("ascii")
    for codec in ("big5", "cp950"):
        try:
            raw = ch.encode(codec)
        except UnicodeEncodeError:
            continue
        if len(raw) != 2:
            break  # control characters: not part of a name
        if eudc_char(raw[0], raw[1]) is not None:
            raise Big5Error("a character of the name shares its code with the user-defined area")
        return raw
    raise Big5Error("a character of the name is outside Big5")
