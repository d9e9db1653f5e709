"""Names as an NHI card holds them: 20 bytes of Big5.

Rare characters live in Big5's user-defined areas; identity stores them as the Unicode
private-use characters those areas map to (U+E000..U+F848), two bytes each on the card.
"""

from __future__ import annotations

import unicodedata

CARD_NAME_BYTES = 20
BIG5_USER_DEFINED = range(0xE000, 0xF849)
# On a card, C6A1..C8FE is a user-defined area too, although Python's big5 codec puts kana,
# Cyrillic and circled numbers there: such symbols would read back as private-use characters.
_CARD_USER_DEFINED_BYTES = range(0xC6A1, 0xC8FF)


def _big5_size(ch: str) -> int | None:
    if ord(ch) in BIG5_USER_DEFINED:
        return 2
    for codec in ("big5", "cp950"):  # cp950 adds a few standard characters, e.g. 碁
        try:
            encoded = ch.encode(codec)
        except UnicodeEncodeError:
            continue
        if len(encoded) == 2 and int.from_bytes(encoded, "big") in _CARD_USER_DEFINED_BYTES:
            return None
        return len(encoded)
    return None


def name_problem(name: str) -> str | None:
    """Why `name` cannot be on a card, or None. The reason never repeats the name."""
    if not name or name != name.strip():
        return "empty or padded with spaces"
    size = 0
    for ch in name:
        if unicodedata.category(ch) == "Cc":
            return "contains control characters"
        char_size = _big5_size(ch)
        if char_size is None:
            return "has a character outside Big5"
        size += char_size
    if size > CARD_NAME_BYTES:
        return f"longer than the card's {CARD_NAME_BYTES} bytes"
    return None
