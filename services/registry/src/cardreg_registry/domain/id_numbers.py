"""The ID number as the registry keeps it for the password rule: a keyed hash, never the number.

HMAC-SHA256 under a key derived from the registry's secret, which lives beside the database and
not in it (adapters/registry_secret.py): with ID numbers there are too few candidates for a
plain hash to hide anything, so a copy of the database alone must not let anyone test them.

"The password must not contain the ID number" (case-insensitive) becomes: no window of the
normalised password as long as the normalised ID number has the same keyed hash. Both are
folded the same way first, so this answers exactly what `id_no in password` answered.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

ID_NO_LENGTH = 10  # the IdNo contract: a letter, a letter or digit, eight digits


def fold(text: str) -> str:
    """NFKC, then case-folded: full-width or lower-case forms of an ID number are the same."""
    return unicodedata.normalize("NFKC", text).casefold()


class IdNumberKey:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the ID-number key must have at least 256 bits")
        self._key = key

    def fingerprint(self, id_no: str) -> str:
        """What an account stores in place of the ID number."""
        return self._mac(fold(id_no).strip())

    def found_in(self, password: str, fingerprint: str) -> bool:
        """Does the password (any form) contain the ID number whose fingerprint this is?"""
        folded = fold(password)
        windows = {folded[i : i + ID_NO_LENGTH] for i in range(len(folded) - ID_NO_LENGTH + 1)}
        # Every window is compared, found or not: the time says nothing about where.
        found = False
        for window in windows:
            found |= hmac.compare_digest(self._mac(window), fingerprint)
        return found

    def _mac(self, text: str) -> str:
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()
