"""Subjects -> flows: the only module that knows the bus; replies and errors are ServiceHost's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from cardreg_shared.bus import ServiceHost
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.metrics import OK
from cardreg_shared.models.registry import SessionCreateReply, SessionCreateRequest
from cardreg_shared.subjects import (
    ACCOUNT_ACTIVITY,
    ACCOUNT_EVENTS_GET,
    ACCOUNT_GET,
    ACCOUNT_REGISTER,
    ACCOUNT_UPDATE,
    COUNTER_REGISTER,
    DEACTIVATE,
    DEVICE_BINDING_COMPLETE,
    DEVICE_BINDING_OPTIONS,
    DEVICE_BINDING_START,
    DEVICE_LIST,
    DEVICE_REMOVE,
    DEVICE_SESSION_CREATE,
    DEVICE_SESSION_OPTIONS,
    EMPLOYER_REGISTER,
    JWKS_GET,
    OIDC_AUTHORIZE,
    OIDC_CONSENT_WITHDRAW,
    OIDC_CONSENTS_LIST,
    OIDC_ENDPOINT,
    OPERATOR_ADD,
    OPERATOR_DISABLE,
    OPERATOR_LIST,
    OPERATOR_PASSWORD_CHANGE,
    OPERATOR_RESET,
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
from .flows.device_binding import BindingOptions, CompleteBinding, StartBinding
from .flows.device_login import CreateDeviceSession, DeviceLoginOptions
from .flows.devices import ListDevices, RemoveDevice
from .flows.jwks import PublishKeys
from .flows.lookup import LookupRegistration
from .flows.oidc_provider import Authorize, Endpoint, ListConsents, WithdrawConsent
from .flows.operator_admin import OperatorAdmin
from .flows.operator_password import ChangeOperatorPassword
from .flows.operator_session import CreateOperatorSession
from .flows.password_reset_complete import CompletePasswordReset
from .flows.password_reset_request import RequestPasswordReset
from .flows.register import Register
from .flows.revoke_session import RevokeSession
from .flows.setup_complete import CompleteSetup
from .flows.update_account import UpdateAccount
from .metrics import LOGINS


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
    start_binding: StartBinding,
    binding_options: BindingOptions,
    complete_binding: CompleteBinding,
    list_devices: ListDevices,
    remove_device: RemoveDevice,
    device_login_options: DeviceLoginOptions,
    create_device_session: CreateDeviceSession,
    oidc_authorize: Authorize,
    oidc_endpoint: Endpoint,
    list_consents: ListConsents,
    withdraw_consent: WithdrawConsent,
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
    host.add(SESSION_CREATE, _counting_logins(create_session))
    host.add(SESSION_REVOKE, revoke_session)
    host.add(ACCOUNT_GET, get_account)
    host.add(JWKS_GET, publish_keys)
    host.add(PASSWORD_RESET_REQUEST, request_reset)
    host.add(PASSWORD_RESET_COMPLETE, complete_reset)
    host.add(PASSWORD_CHANGE, change_password)
    host.add(ACCOUNT_UPDATE, update_account)
    host.add(DEVICE_BINDING_START, start_binding)
    host.add(DEVICE_BINDING_OPTIONS, binding_options)
    host.add(DEVICE_BINDING_COMPLETE, complete_binding)
    host.add(DEVICE_LIST, list_devices)
    host.add(DEVICE_REMOVE, remove_device)
    host.add(DEVICE_SESSION_OPTIONS, device_login_options)
    host.add(DEVICE_SESSION_CREATE, create_device_session)
    host.add(OIDC_AUTHORIZE, oidc_authorize)
    host.add(OIDC_ENDPOINT, oidc_endpoint)
    host.add(OIDC_CONSENTS_LIST, list_consents)
    host.add(OIDC_CONSENT_WITHDRAW, withdraw_consent)

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
    host.add(OPERATOR_RESET, operator_admin.reset)


def _counting_logins(
    create_session: CreateSession,
) -> Callable[[SessionCreateRequest], Awaitable[SessionCreateReply]]:
    """Logins by outcome (`cardreg_logins_total`): ok, or the error code of the refusal."""

    async def login(request: SessionCreateRequest) -> SessionCreateReply:
        outcome = ErrorCode.INTERNAL.value
        try:
            reply = await create_session(request)
            outcome = OK
            return reply
        except ServiceFailure as failure:
            outcome = failure.code.value
            raise
        finally:
            LOGINS.labels(outcome).inc()

    return login
