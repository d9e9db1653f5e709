"""Subjects -> flows: the only module that knows the bus; replies and errors are ServiceHost's."""

from __future__ import annotations

from cardreg_shared.bus import ServiceHost
from cardreg_shared.subjects import (
    ACCOUNT_GET,
    ACCOUNT_REGISTER,
    ACCOUNT_UPDATE,
    JWKS_GET,
    OPERATOR_PASSWORD_CHANGE,
    OPERATOR_SESSION_CREATE,
    PASSWORD_CHANGE,
    PASSWORD_RESET_COMPLETE,
    PASSWORD_RESET_REQUEST,
    REGISTRATION_LOOKUP,
    SESSION_CREATE,
    SESSION_REVOKE,
)

from .flows.account_profile import GetAccount
from .flows.change_password import ChangePassword
from .flows.create_session import CreateSession
from .flows.jwks import PublishKeys
from .flows.lookup import LookupRegistration
from .flows.operator_password import ChangeOperatorPassword
from .flows.operator_session import CreateOperatorSession
from .flows.password_reset_complete import CompletePasswordReset
from .flows.password_reset_request import RequestPasswordReset
from .flows.register import Register
from .flows.revoke_session import RevokeSession
from .flows.update_account import UpdateAccount


def register(
    host: ServiceHost,
    *,
    lookup: LookupRegistration,
    register: Register,
    create_session: CreateSession,
    revoke_session: RevokeSession,
    get_account: GetAccount,
    publish_keys: PublishKeys,
    request_reset: RequestPasswordReset,
    complete_reset: CompletePasswordReset,
    change_password: ChangePassword,
    update_account: UpdateAccount,
    create_operator_session: CreateOperatorSession,
    change_operator_password: ChangeOperatorPassword,
) -> None:
    host.add(REGISTRATION_LOOKUP, lookup)
    host.add(ACCOUNT_REGISTER, register)
    host.add(SESSION_CREATE, create_session)
    host.add(SESSION_REVOKE, revoke_session)
    host.add(ACCOUNT_GET, get_account)
    host.add(JWKS_GET, publish_keys)
    host.add(PASSWORD_RESET_REQUEST, request_reset)
    host.add(PASSWORD_RESET_COMPLETE, complete_reset)
    host.add(PASSWORD_CHANGE, change_password)
    host.add(ACCOUNT_UPDATE, update_account)
    host.add(OPERATOR_SESSION_CREATE, create_operator_session)
    host.add(OPERATOR_PASSWORD_CHANGE, change_operator_password)
