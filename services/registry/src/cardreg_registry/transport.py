"""Subjects -> flows: the only module that knows the bus; replies and errors are ServiceHost's."""

from __future__ import annotations

from cardreg_shared.bus import ServiceHost
from cardreg_shared.subjects import (
    ACCOUNT_ACTIVITY,
    ACCOUNT_EVENTS_GET,
    ACCOUNT_GET,
    ACCOUNT_REGISTER,
    ACCOUNT_UPDATE,
    COUNTER_REGISTER,
    DEACTIVATE,
    EMPLOYER_REGISTER,
    JWKS_GET,
    OPERATOR_ADD,
    OPERATOR_DISABLE,
    OPERATOR_LIST,
    OPERATOR_PASSWORD_CHANGE,
    OPERATOR_SESSION_CREATE,
    PASSWORD_CHANGE,
    PASSWORD_RESET_COMPLETE,
    PASSWORD_RESET_REQUEST,
    PERSON_SEARCH,
    REACTIVATE,
    REGISTRATION_LOOKUP,
    SESSION_CREATE,
    SESSION_REVOKE,
    SETUP_COMPLETE,
    SETUP_ISSUE,
)

from .flows.account_profile import GetAccount
from .flows.activity import AccountActivity, AccountEvents
from .flows.change_password import ChangePassword
from .flows.counter import CounterDesk
from .flows.create_session import CreateSession
from .flows.jwks import PublishKeys
from .flows.lookup import LookupRegistration
from .flows.operator_admin import OperatorAdmin
from .flows.operator_password import ChangeOperatorPassword
from .flows.operator_session import CreateOperatorSession
from .flows.password_reset_complete import CompletePasswordReset
from .flows.password_reset_request import RequestPasswordReset
from .flows.register import Register
from .flows.revoke_session import RevokeSession
from .flows.setup_complete import CompleteSetup
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
    counter: CounterDesk,
    complete_setup: CompleteSetup,
    activity: AccountActivity,
    account_events: AccountEvents,
    operator_admin: OperatorAdmin,
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
    host.add(PERSON_SEARCH, counter.search)
    host.add(COUNTER_REGISTER, counter.register_at_counter)
    host.add(EMPLOYER_REGISTER, counter.register_for_employer)
    host.add(SETUP_ISSUE, counter.issue_setup)
    host.add(DEACTIVATE, counter.deactivate)
    host.add(REACTIVATE, counter.reactivate)
    host.add(SETUP_COMPLETE, complete_setup)
    host.add(ACCOUNT_ACTIVITY, activity)
    host.add(ACCOUNT_EVENTS_GET, account_events)
    host.add(OPERATOR_ADD, operator_admin.add)
    host.add(OPERATOR_LIST, operator_admin.list_all)
    host.add(OPERATOR_DISABLE, operator_admin.disable)
