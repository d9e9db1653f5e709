"""WebAuthn with py_webauthn: creation and request options, and the checks of what a passkey
sends back. User verification is required on both ceremonies; attestation is not asked for
(`none`, the privacy-friendly default of passkeys) but a `packed` statement an authenticator
sends anyway is verified too, as py_webauthn verifies every format it knows.

The relying-party id is the host of the public base URL and the only accepted origin is that
URL's origin (scheme, host, port): `cardreg up` serves on `http://localhost:PORT`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import b64url_decode
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..domain.devices import KnownPasskey, NewPasskey, PasskeyRejected

RP_NAME = "cardreg"
TIMEOUT_MS = 120_000
_TRANSPORTS = {t.value: t for t in AuthenticatorTransport}
# What malformed input makes py_webauthn's parsers raise besides its own exceptions.
_MALFORMED = (WebAuthnException, ValueError, KeyError, TypeError, AttributeError)


def relying_party(public_base_url: str) -> tuple[str, str]:
    """(rp id, origin) from the public base URL; ValueError for an IP address."""
    parts = urlsplit(public_base_url)
    host = parts.hostname or ""
    if not host or host.replace(".", "").isdigit() or ":" in host:
        raise ValueError("a WebAuthn relying-party id must be a domain name, not an IP address")
    return host, f"{parts.scheme}://{parts.netloc}"


class Passkeys:
    def __init__(self, rp_id: str, origin: str) -> None:
        self.rp_id = rp_id
        self.origin = origin

    def creation_options(
        self, challenge: bytes, user_id: bytes, user_name: str, exclude: list[KnownPasskey]
    ) -> dict[str, Any]:
        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=RP_NAME,
            user_id=user_id,
            user_name=user_name,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[_descriptor(known) for known in exclude],
        )
        return json.loads(options_to_json(options))

    def request_options(self, challenge: bytes, allow: list[KnownPasskey]) -> dict[str, Any]:
        options = generate_authentication_options(
            rp_id=self.rp_id,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            allow_credentials=[_descriptor(known) for known in allow],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return json.loads(options_to_json(options))

    def verify_creation(self, credential: dict[str, Any], challenge: bytes) -> NewPasskey:
        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                require_user_verification=True,
            )
            transports = credential["response"].get("transports") or []
        except _MALFORMED as exc:
            raise PasskeyRejected(type(exc).__name__) from None
        return NewPasskey(
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=bytes_to_base64url(verified.credential_public_key),
            sign_count=verified.sign_count,
            aaguid=verified.aaguid,
            transports=tuple(t for t in transports if t in _TRANSPORTS),
            attestation_format=str(verified.fmt),
        )

    def verify_assertion(
        self, credential: dict[str, Any], challenge: bytes, public_key: str, sign_count: int
    ) -> int:
        """The new signature counter; `PasskeyRejected` for a bad signature, no user
        verification, or a counter that did not move forward (unless both are 0)."""
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                credential_public_key=b64url_decode(public_key),
                credential_current_sign_count=sign_count,
                require_user_verification=True,
            )
        except _MALFORMED as exc:
            raise PasskeyRejected(type(exc).__name__) from None
        return verified.new_sign_count


def _descriptor(known: KnownPasskey) -> PublicKeyCredentialDescriptor:
    return PublicKeyCredentialDescriptor(
        id=b64url_decode(known.credential_id),
        transports=[_TRANSPORTS[t] for t in known.transports if t in _TRANSPORTS] or None,
    )


class PasskeysUnconfigured:
    """Stands in when the public base URL's host is an IP address, which WebAuthn does not
    accept as a relying-party id: every device call answers `unavailable` saying so."""

    def _refuse(self) -> ServiceFailure:
        return ServiceFailure(
            ErrorCode.UNAVAILABLE,
            "Devices need CARDREG_PUBLIC_BASE_URL with a domain name (e.g. http://localhost:8080).",
        )

    def creation_options(self, *args: Any) -> dict[str, Any]:
        raise self._refuse()

    def request_options(self, *args: Any) -> dict[str, Any]:
        raise self._refuse()

    def verify_creation(self, *args: Any) -> NewPasskey:
        raise self._refuse()

    def verify_assertion(self, *args: Any) -> int:
        raise self._refuse()


def passkeys_for(public_base_url: str) -> Passkeys | PasskeysUnconfigured:
    try:
        rp_id, origin = relying_party(public_base_url)
    except ValueError:
        return PasskeysUnconfigured()
    return Passkeys(rp_id, origin)
