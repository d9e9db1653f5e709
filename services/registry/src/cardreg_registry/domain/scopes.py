"""What a session may be used for (DESIGN "Sessions and keys"): scopes, granted by the method a
session was opened with, carried space-separated in the token's `scope` claim."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    ACCOUNT = "account"  # the holder's own account: password, email, phone, devices
    PASSBOOK = "passbook"
    COUNTER = "counter"
    ONLINE_SERVICES = "online-services"
    TAX = "tax"
    OPERATOR_COUNTER = "operator:counter"
    OPERATOR_EMPLOYER = "operator:employer"
    OPERATOR_ADMIN = "operator:admin"


# card + password on the portal; a phone (device + password) gets only PASSBOOK and COUNTER.
PORTAL = frozenset({Scope.ACCOUNT, Scope.PASSBOOK, Scope.COUNTER, Scope.ONLINE_SERVICES, Scope.TAX})
DEVICE = frozenset({Scope.PASSBOOK, Scope.COUNTER})


def scope_claim(scopes: Iterable[Scope]) -> str:
    """Space-separated, in the order of `Scope`, so equal sets always read the same."""
    granted = set(scopes)
    return " ".join(scope.value for scope in Scope if scope in granted)


def parse_scopes(claim: str) -> frozenset[Scope] | None:
    """The scopes of a claim or stored column; None when it names one we never grant."""
    try:
        return frozenset(Scope(part) for part in claim.split())
    except ValueError:
        return None
