"""A new password as the flows take it: the rules it must meet (domain/passwords.py), and the
notice that it changed.

After registration the registry knows the ID number only by its keyed hash, which is what the
"must not contain the ID number" rule is checked against. An account registered before those
hashes were kept gets its hash the next time its card is checked (login, reset request);
until then a new password cannot be checked against the number, and the flow asks for the
card first (`missing_hash`) rather than skip the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Language
from cardreg_shared.models.mail import PasswordChangedMail
from cardreg_shared.subjects import MAIL_PASSWORD_CHANGED
from pydantic import SecretStr

from ..domain.accounts import Account
from ..domain.outbox import OutboxMessage, new_request_id
from ..domain.passwords import MESSAGES, IdNoCheck, normalise_password, weakness
from .ports import IdNumbers


def refuse_weak(password: str, id_no: str | IdNoCheck) -> None:
    """`weak_password` with the rule as `reason`, when the (normalised) password breaks one."""
    reason = weakness(password, id_no)
    if reason is not None:
        raise ServiceFailure(ErrorCode.WEAK_PASSWORD, MESSAGES[reason], reason=reason.value)


def acceptable_new_password(
    given: SecretStr,
    account: Account,
    id_numbers: IdNumbers,
    *,
    missing_hash: Callable[[], ServiceFailure],
) -> str:
    """The normalised new password of a registered account, checked against every rule."""
    fingerprint = account.id_no_hash
    if fingerprint is None:
        raise missing_hash()
    password = normalise_password(given.get_secret_value())
    refuse_weak(password, lambda candidate: id_numbers.found_in(candidate, fingerprint))
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
