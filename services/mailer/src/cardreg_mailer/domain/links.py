"""The reset link as the mail gives it: the registry's link plus the mail's language.

`lang=<code>` opens the portal page in the language the mail is written in, whatever the
browser that opens it prefers (a shared PC, a phone set to another language); the portal
remembers it as the person's choice. Any `lang` already in the query is replaced; everything
else in the link stays byte for byte (the token is its `token` parameter).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit


def in_language(url: str, language: str) -> str:
    parts = urlsplit(url)
    kept = [p for p in parts.query.split("&") if p and p != "lang" and not p.startswith("lang=")]
    query = "&".join([*kept, f"lang={quote(language, safe='')}"])
    return urlunsplit(parts._replace(query=query))
