"""Which of the portal's languages a first visit gets: the browser's `Accept-Language`.

Tags are matched by their primary subtag (RFC 4647 lookup, simplified to what five languages
need): `vi-VN` is Vietnamese, `en-GB` English, any `zh` (zh-TW, zh-Hant, even zh-CN) the
portal's Traditional Chinese, and the old ISO code `in` (still sent by some Android and Java
clients) Indonesian. The highest q-value wins, the header's order breaks ties; `q=0` excludes
a tag, `*` is ignored. Nothing usable means the default, zh-TW.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT = "zh-TW"
_ALIASES = {"in": "id"}
_ITEM = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")
MAX_HEADER = 1024  # a longer header is not a browser's


def preferred(accept_language: str | None) -> list[str]:
    """The header's tags, most wanted first (q=0 and malformed items dropped)."""
    if not accept_language or len(accept_language) > MAX_HEADER:
        return []
    weighted = []
    for position, item in enumerate(accept_language.split(",")):
        match = _ITEM.match(item)
        if not match or match.group(1) == "*":
            continue
        try:
            q = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if 0 < q <= 1:
            weighted.append((-q, position, match.group(1)))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(accept_language: str | None, available: Iterable[str]) -> str:
    by_primary = {code.split("-")[0].lower(): code for code in available}
    exact = {code.lower(): code for code in by_primary.values()}
    for tag in preferred(accept_language):
        tag = tag.lower()
        if tag in exact:
            return exact[tag]
        primary = tag.split("-")[0]
        primary = _ALIASES.get(primary, primary)
        if primary in by_primary:
            return by_primary[primary]
    return DEFAULT
