"""identity.card.verify: is this card read genuine, unaltered and from the holder's newest card?

The checks, in order: the card is in the roster; its signature over the nonce verifies with
the roster's key; every profile field equals the roster (a valid signature covers only the
nonce and the card number, so altered fields are caught here); the card has not been replaced.
The reply comes from the roster, never from the client's fields. Whether the nonce is fresh
is the gateway's business.

A read without a signature (profile-only: a real NHI card, which cannot sign our challenge) is
refused as `card_signature_invalid` unless the profile-only pilot mode is on; then the other
checks still run and every such read is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from cardreg_shared.card import auth_message
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import CardRead, b64url_decode
from cardreg_shared.models.identity import CardVerifyReply, CardVerifyRequest

from .ports import IdentityStore, RosterEntry

# (public key, signature, message) -> does the signature verify? (`adapters.card_keys`)
SignatureCheck = Callable[[bytes, bytes, bytes], bool]

log = logging.getLogger("cardreg.identity.card")


def _fields_match(card: CardRead, entry: RosterEntry) -> bool:
    return (
        card.id_no == entry.id_no
        and card.name == entry.name
        and card.birth_date == entry.birth_date
        and card.sex == entry.sex
        and card.issued_on == entry.issued_on
    )


class CardVerification:
    def __init__(
        self, store: IdentityStore, signature_valid: SignatureCheck, *, profile_only: bool = False
    ) -> None:
        self._store = store
        self._signature_valid = signature_valid
        self._profile_only = profile_only

    async def __call__(self, request: CardVerifyRequest) -> CardVerifyReply:
        card = request.card
        entry = await self._store.roster_entry(card.card_no)
        if entry is None:
            raise ServiceFailure(ErrorCode.CARD_UNKNOWN)
        if card.signature is None:
            if not self._profile_only:
                raise ServiceFailure(ErrorCode.CARD_SIGNATURE_INVALID)
            log.warning("profile-only card read accepted (pilot mode): no proof of possession")
        else:
            message = auth_message(b64url_decode(card.nonce), card.card_no)
            if not self._signature_valid(entry.public_key, b64url_decode(card.signature), message):
                raise ServiceFailure(ErrorCode.CARD_SIGNATURE_INVALID)
        if not _fields_match(card, entry):
            raise ServiceFailure(ErrorCode.CARD_DATA_MISMATCH)
        if entry.status != "active":
            raise ServiceFailure(ErrorCode.CARD_REPLACED)
        return CardVerifyReply(
            person_id=entry.person_id, kind=entry.kind, card_no=entry.card_no, id_no=entry.id_no
        )
