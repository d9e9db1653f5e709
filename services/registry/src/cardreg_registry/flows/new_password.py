"""A new password as the flows take it: the rules it must meet (domain/passwords.py), and the
notice that it changed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Language
from cardreg_shared.models.mail import PasswordChangedMail
from cardreg_shared.subjects import MAIL_PASSWORD_CHANGED
from pydantic import SecretStr

from ..domain.outbox import OutboxMessage, new_request_id
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


def password_changed_notice(
    to: str | None, language: Language, how: Literal["reset", "change"], now: datetime
) -> OutboxMessage | None:
    """The mail telling the owner the password changed; none without an address."""
    if to is None:
        return None
    return OutboxMessage.mail(
        MAIL_PASSWORD_CHANGED,
        PasswordChangedMail(
            request_id=new_request_id(), to=to, language=language, requested_at=now, how=how
        ),
    )
