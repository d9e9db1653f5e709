"""Stable error codes: one place, each with the HTTP status the gateway answers with.

Codes are part of the public contract (HTTP bodies, NATS error replies). Messages are English
defaults; clients translate by code. No message ever carries personal data.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_REQUEST = "invalid_request"
    INTERNAL = "internal"
    UNAVAILABLE = "unavailable"
    NONCE_INVALID = "nonce_invalid"
    CARD_UNKNOWN = "card_unknown"
    CARD_SIGNATURE_INVALID = "card_signature_invalid"
    CARD_DATA_MISMATCH = "card_data_mismatch"
    CARD_REPLACED = "card_replaced"
    PROOF_KIND_MISMATCH = "proof_kind_mismatch"
    HOUSEHOLD_MISMATCH = "household_mismatch"
    RESIDENCE_MISMATCH = "residence_mismatch"
    VERIFICATION_LOCKED = "verification_locked"
    ALREADY_REGISTERED = "already_registered"
    ACCOUNT_DEACTIVATED = "account_deactivated"
    WEAK_PASSWORD = "weak_password"
    INVALID_CREDENTIALS = "invalid_credentials"
    ACCOUNT_LOCKED = "account_locked"
    UNAUTHORIZED = "unauthorized"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    NOT_FOUND = "not_found"
    RESET_TOKEN_INVALID = "reset_token_invalid"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    BINDING_INVALID = "binding_invalid"
    PASSKEY_INVALID = "passkey_invalid"
    DEVICE_LIMIT_REACHED = "device_limit_reached"
    OPERATOR_DISABLED = "operator_disabled"
    PASSWORD_CHANGE_REQUIRED = "password_change_required"
    DOCUMENT_MISMATCH = "document_mismatch"
    INSURANCE_MISMATCH = "insurance_mismatch"
    SETUP_INVALID = "setup_invalid"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.INTERNAL: 500,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.NONCE_INVALID: 400,
    ErrorCode.CARD_UNKNOWN: 401,
    ErrorCode.CARD_SIGNATURE_INVALID: 401,
    ErrorCode.CARD_DATA_MISMATCH: 401,
    ErrorCode.CARD_REPLACED: 403,
    ErrorCode.PROOF_KIND_MISMATCH: 422,
    ErrorCode.HOUSEHOLD_MISMATCH: 403,
    ErrorCode.RESIDENCE_MISMATCH: 403,
    ErrorCode.VERIFICATION_LOCKED: 429,
    ErrorCode.ALREADY_REGISTERED: 409,
    ErrorCode.ACCOUNT_DEACTIVATED: 403,
    ErrorCode.WEAK_PASSWORD: 422,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.ACCOUNT_LOCKED: 423,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.INSUFFICIENT_SCOPE: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.RESET_TOKEN_INVALID: 400,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.BINDING_INVALID: 400,
    ErrorCode.PASSKEY_INVALID: 400,
    ErrorCode.DEVICE_LIMIT_REACHED: 409,
    ErrorCode.OPERATOR_DISABLED: 403,
    ErrorCode.PASSWORD_CHANGE_REQUIRED: 403,
    ErrorCode.DOCUMENT_MISMATCH: 403,
    ErrorCode.INSURANCE_MISMATCH: 403,
    ErrorCode.SETUP_INVALID: 400,
}

DEFAULT_MESSAGE: dict[ErrorCode, str] = {
    ErrorCode.INVALID_REQUEST: "The request is malformed or a field is invalid.",
    ErrorCode.INTERNAL: "Something went wrong on our side; quote the correlation id.",
    ErrorCode.UNAVAILABLE: "A service needed for this request is unavailable; try again shortly.",
    ErrorCode.NONCE_INVALID: "The card challenge is unknown, expired or already used; read the card again.",
    ErrorCode.CARD_UNKNOWN: "This card is not in the card roster.",
    ErrorCode.CARD_SIGNATURE_INVALID: "The card's proof of possession is invalid or missing.",
    ErrorCode.CARD_DATA_MISMATCH: "The card data does not match the card roster.",
    ErrorCode.CARD_REPLACED: "This card has been replaced by a newer card; use the newest card.",
    ErrorCode.PROOF_KIND_MISMATCH: "Citizens prove household data; foreign residents prove residence-permit data.",
    ErrorCode.HOUSEHOLD_MISMATCH: "The household data does not match the household register.",
    ErrorCode.RESIDENCE_MISMATCH: "The residence-permit data does not match our records.",
    ErrorCode.VERIFICATION_LOCKED: "Too many failed verifications; try again later.",
    ErrorCode.ALREADY_REGISTERED: "This person has already registered.",
    ErrorCode.ACCOUNT_DEACTIVATED: "This registration is deactivated; reactivation is done at a counter.",
    ErrorCode.WEAK_PASSWORD: "The password does not meet the password rules.",
    ErrorCode.INVALID_CREDENTIALS: "Card or password is wrong.",
    ErrorCode.ACCOUNT_LOCKED: "Too many wrong passwords; the account is temporarily locked.",
    ErrorCode.UNAUTHORIZED: "Sign in first; the session is missing, expired or revoked.",
    ErrorCode.INSUFFICIENT_SCOPE: "This sign-in does not allow this; sign in with your card.",
    ErrorCode.NOT_FOUND: "Not found.",
    ErrorCode.RESET_TOKEN_INVALID: "The reset link is invalid, used or expired; request a new one.",
    ErrorCode.METHOD_NOT_ALLOWED: "This method is not allowed here.",
    ErrorCode.PAYLOAD_TOO_LARGE: "The request body is too large.",
    ErrorCode.BINDING_INVALID: "The binding link is invalid, used or expired; start again on the computer.",
    ErrorCode.PASSKEY_INVALID: "The passkey was not accepted (user verification is required); try again.",
    ErrorCode.DEVICE_LIMIT_REACHED: "Five devices are bound already; remove one first.",
    ErrorCode.OPERATOR_DISABLED: "This operator has been disabled; ask an administrator.",
    ErrorCode.PASSWORD_CHANGE_REQUIRED: "Change the initial password before anything else.",
    ErrorCode.DOCUMENT_MISMATCH: "The document does not belong to this person.",
    ErrorCode.INSURANCE_MISMATCH: "This person is not insured through this unit.",
    ErrorCode.SETUP_INVALID: "The setup code is invalid, used or expired, or not for this card; ask the counter for a new one.",
}


class ServiceFailure(Exception):
    """A typed failure a handler raises; the bus turns it into an error reply.

    `reason` refines a code (e.g. which password rule failed); `retry_after` is in seconds.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        *,
        reason: str | None = None,
        retry_after: int | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.code = ErrorCode(code)
        self.message = message or DEFAULT_MESSAGE[self.code]
        self.reason = reason
        self.retry_after = retry_after
        self.correlation_id = correlation_id
        super().__init__(self.code.value)

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]
