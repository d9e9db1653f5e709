"""The operator API (`/api/v1/operator`, DESIGN "Counters and employers"), served only on the
operator listener. Every call but the login carries an operator's token; the registry checks
role and scope (a citizen's token is refused here as an operator's is on the public API)."""

from __future__ import annotations

from typing import Annotated

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Document, IdNo, Language, Model, Password, UnitId
from cardreg_shared.models.registry import (
    AccountEventsReply,
    AccountEventsRequest,
    AccountStateReply,
    Consent,
    CounterRegistrationRequest,
    Deactivation,
    DeactivationRequest,
    Email,
    EmployerRegistrationRequest,
    OperatorAddRequest,
    OperatorDisableRequest,
    OperatorEnrolment,
    OperatorInfo,
    OperatorListReply,
    OperatorListRequest,
    OperatorPasswordChangeRequest,
    OperatorRegistrationReply,
    OperatorResetRequest,
    OperatorRole,
    OperatorSessionCreateReply,
    OperatorSessionCreateRequest,
    PersonRef,
    PersonSearchReply,
    PersonSearchRequest,
    Phone,
    ReactivationRequest,
    Setup,
    SetupIssueRequest,
    Username,
)
from cardreg_shared.subjects import (
    ACCOUNT_EVENTS_GET,
    COUNTER_REGISTER,
    DEACTIVATE,
    EMPLOYER_REGISTER,
    OPERATOR_ADD,
    OPERATOR_DISABLE,
    OPERATOR_LIST,
    OPERATOR_PASSWORD_CHANGE,
    OPERATOR_RESET,
    OPERATOR_SESSION_CREATE,
    PERSON_SEARCH,
    REACTIVATE,
    SETUP_ISSUE,
)
from fastapi import APIRouter, Query, Response
from pydantic import Field

from .deps import GatewayDep, TokenDep
from .errors import BODY_ERRORS, error_responses

router = APIRouter(prefix="/api/v1/operator", tags=["operator"])

OPERATOR_ERRORS = (
    ErrorCode.UNAUTHORIZED,
    ErrorCode.INSUFFICIENT_SCOPE,
    ErrorCode.OPERATOR_DISABLED,
    ErrorCode.PASSWORD_CHANGE_REQUIRED,
)


class OperatorLogin(Model):
    username: str = Field(min_length=1, max_length=64)
    password: Password
    totp: str = Field(min_length=1, max_length=16)


class PasswordChange(Model):
    current_password: Password
    new_password: Password


class SearchBody(Model):
    id_no: IdNo


class RegistrationBody(Model):
    """A counter sends `person_ref` and `document` (email and phone optional); an employer
    sends `id_no`, `consent` and `email`."""

    person_ref: PersonRef | None = None
    document: Document | None = None
    id_no: IdNo | None = None
    consent: Consent | None = None
    email: Email | None = None
    phone: Phone | None = None
    language: Language = "zh-TW"


class DeactivationBody(Model):
    person_ref: PersonRef
    document: Document
    reason: Deactivation


class ReactivationBody(Model):
    person_ref: PersonRef
    document: Document


@router.post(
    "/sessions",
    status_code=201,
    response_model=OperatorSessionCreateReply,
    summary="Operator login: username, password and a TOTP code",
    responses=error_responses(
        *BODY_ERRORS,
        ErrorCode.INVALID_CREDENTIALS,
        ErrorCode.ACCOUNT_LOCKED,
        ErrorCode.OPERATOR_DISABLED,
    ),
)
async def log_in(body: OperatorLogin, gateway: GatewayDep) -> OperatorSessionCreateReply:
    try:
        request = OperatorSessionCreateRequest(
            username=body.username.lower(), password=body.password, totp=body.totp.strip()
        )
    except ValueError:
        # A username or code no operator can have: the same answer as a wrong one.
        raise ServiceFailure(ErrorCode.INVALID_CREDENTIALS) from None
    return await gateway.registry.ask(OPERATOR_SESSION_CREATE, request)


@router.put(
    "/password",
    status_code=204,
    response_class=Response,
    summary="Change the operator's password (the enrolment's initial one first)",
    responses=error_responses(
        *BODY_ERRORS, *OPERATOR_ERRORS, ErrorCode.INVALID_CREDENTIALS, ErrorCode.WEAK_PASSWORD
    ),
)
async def change_password(body: PasswordChange, token: TokenDep, gateway: GatewayDep) -> Response:
    request = OperatorPasswordChangeRequest(
        access_token=token,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    await gateway.registry.ask(OPERATOR_PASSWORD_CHANGE, request)
    return Response(status_code=204)


@router.post(
    "/people/search",
    response_model=PersonSearchReply,
    summary="Find a person by ID number (audited); masked",
    responses=error_responses(
        *BODY_ERRORS, *OPERATOR_ERRORS, ErrorCode.NOT_FOUND, ErrorCode.INSURANCE_MISMATCH
    ),
)
async def search(body: SearchBody, token: TokenDep, gateway: GatewayDep) -> PersonSearchReply:
    request = PersonSearchRequest(access_token=token, id_no=body.id_no)
    return await gateway.registry.ask(PERSON_SEARCH, request)


@router.post(
    "/registrations",
    status_code=201,
    response_model=OperatorRegistrationReply,
    summary="Register at a counter (FAQ 5) or for an employer (FAQ 4): pending + setup code",
    responses=error_responses(
        *BODY_ERRORS,
        *OPERATOR_ERRORS,
        ErrorCode.NOT_FOUND,
        ErrorCode.DOCUMENT_MISMATCH,
        ErrorCode.INSURANCE_MISMATCH,
        ErrorCode.VERIFICATION_LOCKED,
        ErrorCode.ALREADY_REGISTERED,
        ErrorCode.ACCOUNT_DEACTIVATED,
    ),
)
async def register(
    body: RegistrationBody, token: TokenDep, gateway: GatewayDep
) -> OperatorRegistrationReply:
    if body.person_ref is not None and body.document is not None and body.id_no is None:
        counter = CounterRegistrationRequest(
            access_token=token,
            person_ref=body.person_ref,
            document=body.document,
            email=body.email,
            phone=body.phone,
            language=body.language,
        )
        return await gateway.registry.ask(COUNTER_REGISTER, counter)
    if body.id_no is not None and body.consent is not None and body.email is not None:
        if body.person_ref is not None or body.document is not None or body.phone is not None:
            raise ServiceFailure(
                ErrorCode.INVALID_REQUEST, "an employer sends id_no, consent, email"
            )
        employer = EmployerRegistrationRequest(
            access_token=token,
            id_no=body.id_no,
            consent=body.consent,
            email=body.email,
            language=body.language,
        )
        return await gateway.registry.ask(EMPLOYER_REGISTER, employer)
    raise ServiceFailure(
        ErrorCode.INVALID_REQUEST,
        "a counter sends person_ref and document; an employer id_no, consent and email",
    )


@router.post(
    "/accounts/{account_id}/setups",
    status_code=201,
    response_model=Setup,
    summary="A new setup code for a pending account (the old one is void)",
    responses=error_responses(*OPERATOR_ERRORS, ErrorCode.NOT_FOUND, ErrorCode.INVALID_REQUEST),
)
async def new_setup(account_id: str, token: TokenDep, gateway: GatewayDep) -> Setup:
    if not 1 <= len(account_id) <= 64:
        raise ServiceFailure(ErrorCode.NOT_FOUND)
    request = SetupIssueRequest(access_token=token, account_id=account_id)
    return await gateway.registry.ask(SETUP_ISSUE, request)


@router.post(
    "/deactivations",
    response_model=AccountStateReply,
    summary="Deactivate a registration, or block a person without one (FAQ 13)",
    responses=error_responses(
        *BODY_ERRORS, *OPERATOR_ERRORS, ErrorCode.NOT_FOUND, ErrorCode.DOCUMENT_MISMATCH
    ),
)
async def deactivate(
    body: DeactivationBody, token: TokenDep, gateway: GatewayDep
) -> AccountStateReply:
    request = DeactivationRequest(
        access_token=token, person_ref=body.person_ref, document=body.document, reason=body.reason
    )
    return await gateway.registry.ask(DEACTIVATE, request)


@router.post(
    "/reactivations",
    response_model=AccountStateReply,
    summary="Reactivate a registration, or lift the block",
    responses=error_responses(
        *BODY_ERRORS, *OPERATOR_ERRORS, ErrorCode.NOT_FOUND, ErrorCode.DOCUMENT_MISMATCH
    ),
)
async def reactivate(
    body: ReactivationBody, token: TokenDep, gateway: GatewayDep
) -> AccountStateReply:
    request = ReactivationRequest(
        access_token=token, person_ref=body.person_ref, document=body.document
    )
    return await gateway.registry.ask(REACTIVATE, request)


@router.get(
    "/accounts/{account_id}/events",
    response_model=AccountEventsReply,
    summary="An account's audit events, newest first, paged (counter, admin)",
    responses=error_responses(*OPERATOR_ERRORS, ErrorCode.NOT_FOUND, ErrorCode.INVALID_REQUEST),
)
async def account_events(
    account_id: str,
    token: TokenDep,
    gateway: GatewayDep,
    before: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> AccountEventsReply:
    if not 1 <= len(account_id) <= 64:
        raise ServiceFailure(ErrorCode.NOT_FOUND)
    request = AccountEventsRequest(access_token=token, account_id=account_id, before=before)
    return await gateway.registry.ask(ACCOUNT_EVENTS_GET, request)


class OperatorAddBody(Model):
    username: Username
    role: OperatorRole
    unit_id: UnitId | None = None


@router.post(
    "/operators",
    status_code=201,
    response_model=OperatorEnrolment,
    summary="Enrol an operator (admin): the one-time enrolment, shown once",
    responses=error_responses(*BODY_ERRORS, *OPERATOR_ERRORS, ErrorCode.ALREADY_REGISTERED),
)
async def add_operator(
    body: OperatorAddBody, token: TokenDep, gateway: GatewayDep
) -> OperatorEnrolment:
    request = OperatorAddRequest(
        access_token=token, username=body.username, role=body.role, unit_id=body.unit_id
    )
    return await gateway.registry.ask(OPERATOR_ADD, request)


@router.get(
    "/operators",
    response_model=OperatorListReply,
    summary="Every operator (admin)",
    responses=error_responses(*OPERATOR_ERRORS),
)
async def list_operators(token: TokenDep, gateway: GatewayDep) -> OperatorListReply:
    return await gateway.registry.ask(OPERATOR_LIST, OperatorListRequest(access_token=token))


@router.post(
    "/operators/{username}/disable",
    response_model=OperatorInfo,
    summary="Disable an operator (admin); its sessions end at once",
    responses=error_responses(*OPERATOR_ERRORS, ErrorCode.NOT_FOUND),
)
async def disable_operator(username: str, token: TokenDep, gateway: GatewayDep) -> OperatorInfo:
    try:
        request = OperatorDisableRequest(access_token=token, username=username)
    except ValueError:
        raise ServiceFailure(ErrorCode.NOT_FOUND) from None
    return await gateway.registry.ask(OPERATOR_DISABLE, request)


@router.post(
    "/operators/{username}/reset",
    response_model=OperatorEnrolment,
    summary="Re-enrol an operator (admin): new initial password and TOTP secret, shown once",
    description="For an operator who lost the authenticator or the password, or is locked out: "
    "unlocked, every session ended at once, the password to change at the next login.",
    responses=error_responses(*OPERATOR_ERRORS, ErrorCode.NOT_FOUND),
)
async def reset_operator(username: str, token: TokenDep, gateway: GatewayDep) -> OperatorEnrolment:
    try:
        request = OperatorResetRequest(access_token=token, username=username)
    except ValueError:
        raise ServiceFailure(ErrorCode.NOT_FOUND) from None
    return await gateway.registry.ask(OPERATOR_RESET, request)
