"""The signed-in account (FAQ 8, 9, 13): profile with identifiers masked, contact details and
mail language, password change."""

from __future__ import annotations

from typing import Annotated, Any

from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.common import Language, Model, Password
from cardreg_shared.models.registry import (
    AccountProfile,
    AccountUpdateRequest,
    ActivityReply,
    ActivityRequest,
    Email,
    PasswordChangeRequest,
    Phone,
)
from cardreg_shared.subjects import ACCOUNT_ACTIVITY
from fastapi import APIRouter, Query, Response
from pydantic import Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from .deps import GatewayDep, TokenDep
from .errors import BEARER_ERRORS, BODY_ERRORS, error_responses

router = APIRouter(prefix="/api/v1/account", tags=["account"])


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # a null default would contradict "never null"


class AccountChanges(Model):
    """A JSON merge patch: a field left out stays as it is; null or "" removes it."""

    email: Email | None = Field(None, description='New address; null or "" removes it.')
    phone: Phone | None = Field(None, description='New number; null or "" removes it.')
    # Optional, but never null: the schema says so, and the validator refuses a null (a merge
    # patch's "remove") with invalid_request, as the mail needs a language.
    language: Language | SkipJsonSchema[None] = Field(
        None,
        description="Language of the account's mail; cannot be removed, so never null.",
        json_schema_extra=_no_default,
    )

    @field_validator("language", mode="before")
    @classmethod
    def _language_stays(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("the mail language cannot be removed")
        return value

    def to_request(self, access_token: str) -> AccountUpdateRequest:
        return AccountUpdateRequest(
            access_token=access_token,
            email=self._contact("email"),
            phone=self._contact("phone"),
            language=self.language,
        )

    def _contact(self, name: str) -> str | None:
        value = getattr(self, name)
        if value is None and name in self.model_fields_set:
            return ""  # removed; the registry spells removal ""
        return value


class PasswordChange(Model):
    current_password: Password
    new_password: Password


@router.get(
    "",
    response_model=AccountProfile,
    summary="The signed-in account's profile, identifiers masked",
    description="Needs a session with scope `account` (a card + password login).",
    responses=error_responses(*BEARER_ERRORS),
)
async def profile(token: TokenDep, gateway: GatewayDep) -> AccountProfile:
    return await gateway.registry.account(token)


@router.patch(
    "",
    response_model=AccountProfile,
    summary="Change email, phone or mail language (FAQ 9)",
    description="Replies with the updated profile, identifiers masked. A changed email "
    "address is announced to the old one. Needs scope `account`.",
    responses=error_responses(*BODY_ERRORS, *BEARER_ERRORS),
)
async def change_details(
    body: AccountChanges, token: TokenDep, gateway: GatewayDep
) -> AccountProfile:
    return await gateway.registry.update_account(body.to_request(token))


@router.put(
    "/password",
    status_code=204,
    response_class=Response,
    summary="Change the password with the current one (FAQ 8)",
    description="Wrong current passwords count toward the account's lockout, as at login. "
    "Every other session is signed out and a notice is mailed. Needs scope `account`.",
    responses=error_responses(
        *BODY_ERRORS,
        *BEARER_ERRORS,
        ErrorCode.INVALID_CREDENTIALS,
        ErrorCode.ACCOUNT_LOCKED,
        ErrorCode.WEAK_PASSWORD,
    ),
)
async def change_password(body: PasswordChange, token: TokenDep, gateway: GatewayDep) -> Response:
    await gateway.registry.change_password(
        PasswordChangeRequest(
            access_token=token,
            current_password=body.current_password,
            new_password=body.new_password,
        )
    )
    return Response(status_code=204)


@router.get(
    "/activity",
    response_model=ActivityReply,
    summary="The holder's own activity, newest first, paged",
    description="Logins (also failed ones), card rebinds, changes of password, email and "
    "phone, resets, counter and employer actions: where each came in and how, never which "
    "operator. Pass `next` as `before` for older events. Needs scope `account` or `passbook`.",
    responses=error_responses(ErrorCode.INVALID_REQUEST, *BEARER_ERRORS),
)
async def activity(
    token: TokenDep,
    gateway: GatewayDep,
    before: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ActivityReply:
    request = ActivityRequest(access_token=token, before=before, limit=limit)
    return await gateway.registry.ask(ACCOUNT_ACTIVITY, request)
