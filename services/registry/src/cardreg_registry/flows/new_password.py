"""The rules a new password must meet (domain/passwords.py), as the flows apply them."""

from __future__ import annotations

from cardreg_shared.errors import ErrorCode, ServiceFailure
from pydantic import SecretStr

from ..domain.passwords import MESSAGES, normalise_password, weakness
from .ports import Identity


def refuse_weak(password: str, id_no: str) -> None:
    """`weak_password` with the rule as `reason`, when the (normalised) password breaks one."""
    reason = weakness(password, id_no)
    if reason is not None:
        raise ServiceFailure(ErrorCode.WEAK_PASSWORD, MESSAGES[reason], reason=reason.value)


async def acceptable_new_password(identity: Identity, person_id: str, given: SecretStr) -> str:
    """The normalised new password of a registered person, checked against every rule.

    The registry keeps only a masked ID number, so identity supplies the real one.
    """
    password = normalise_password(given.get_secret_value())
    person = await identity.person(person_id)
    refuse_weak(password, person.id_no)
    return password
