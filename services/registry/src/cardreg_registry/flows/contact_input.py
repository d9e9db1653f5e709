"""Contact details as requests carry them: blank means none, anything else must pass the
rules in domain/contacts.py."""

from __future__ import annotations

from collections.abc import Callable

from cardreg_shared.errors import ErrorCode, ServiceFailure

from ..domain.contacts import InvalidContact


def optional_contact(value: str | None, normalise: Callable[[str], str]) -> str | None:
    """None or blank -> None (a form left blank sends ""); otherwise the normalised value, or
    `invalid_request` naming the rule that failed (never the value)."""
    if value is None or not value.strip():
        return None
    try:
        return normalise(value)
    except InvalidContact as exc:
        raise ServiceFailure(ErrorCode.INVALID_REQUEST, str(exc)) from None
