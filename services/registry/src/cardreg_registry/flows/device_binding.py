"""FAQ 10: bind a phone. On the PC, after a card + password login (scope `account`), a
single-use 5-minute link; on the phone, creation options for it, then the passkey, verified
(user verification required) and bound under a name. At most 5 devices, counted inside the
commit that binds; the link is used up by that commit, so of two racing completions one wins.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.registry import (
    BindingRequest,
    BindingStartReply,
    DeviceBindReply,
    DeviceBindRequest,
    PasskeyOptions,
    TokenRequest,
)

from ..domain.accounts import Account, Origin
from ..domain.challenges import ChallengeKey, challenge_in
from ..domain.devices import (
    BINDING_TTL,
    MAX_DEVICES,
    Device,
    DeviceBinding,
    KnownPasskey,
    PasskeyRejected,
    binding_url,
    hash_binding_secret,
    new_binding_secret,
    new_device_id,
)
from ..domain.lifecycle import Activity
from ..domain.scopes import Scope
from .bearer import signed_in
from .ports import (
    BindingSpent,
    Clock,
    DeviceLimitReached,
    DuplicateCredential,
    Passkeys,
    Storage,
    Tokens,
    UnitOfWork,
)
from .retry import until_committed

log = logging.getLogger("cardreg.registry.devices")

BIND = "device-binding"
# The phone has no session yet: the link it opened is what it proves.
BINDING_LINK = Origin(channel="device", method="binding_link")


def known(devices: list[Device]) -> list[KnownPasskey]:
    return [KnownPasskey(d.credential_id, d.transports) for d in devices]


def user_handle(key: bytes, account_id: str) -> bytes:
    """The WebAuthn user id: stable per account, opaque, never the ID number."""
    return hmac.new(key, b"user\x00" + account_id.encode(), hashlib.sha256).digest()[:16]


@dataclass(frozen=True)
class StartBinding:
    storage: Storage
    tokens: Tokens
    clock: Clock
    public_base_url: str

    async def __call__(self, request: TokenRequest) -> BindingStartReply:
        uow = self.storage.unit_of_work()
        _, account = await signed_in(
            uow, self.tokens, request.access_token, self.clock(), needs=Scope.ACCOUNT
        )
        account.require(Activity.CHANGE_CREDENTIALS)
        if len(await uow.devices.of_account(account.account_id)) >= MAX_DEVICES:
            raise ServiceFailure(ErrorCode.DEVICE_LIMIT_REACHED)
        secret = new_binding_secret()
        uow.device_bindings.issue(DeviceBinding.issue(secret, account.account_id, self.clock()))
        await uow.commit()
        return BindingStartReply(
            binding_url=binding_url(self.public_base_url, secret),
            expires_in=int(BINDING_TTL / timedelta(seconds=1)),
        )


async def usable_binding(uow: UnitOfWork, secret: str, clock: Clock) -> tuple[str, Account]:
    """The binding link's hash and its account, or `binding_invalid`."""
    token_hash = hash_binding_secret(secret)
    binding = await uow.device_bindings.by_hash(token_hash)
    if binding is None or not binding.usable_at(clock()):
        raise ServiceFailure(ErrorCode.BINDING_INVALID)
    account = await uow.accounts.by_id(binding.account_id)
    if account is None:
        raise ServiceFailure(ErrorCode.BINDING_INVALID)
    account.require(Activity.CHANGE_CREDENTIALS)
    return token_hash, account


@dataclass(frozen=True)
class BindingOptions:
    storage: Storage
    passkeys: Passkeys
    challenges: ChallengeKey
    handle_key: bytes
    clock: Clock

    async def __call__(self, request: BindingRequest) -> PasskeyOptions:
        uow = self.storage.unit_of_work()
        token_hash, account = await usable_binding(uow, request.binding, self.clock)
        devices = await uow.devices.of_account(account.account_id)
        challenge = self.challenges.mint(BIND, token_hash, self.clock())
        options = self.passkeys.creation_options(
            challenge,
            user_handle(self.handle_key, account.account_id),
            account.id_no_masked,
            known(devices),
        )
        return PasskeyOptions(options=options)


@dataclass(frozen=True)
class CompleteBinding:
    storage: Storage
    passkeys: Passkeys
    challenges: ChallengeKey
    clock: Clock

    async def __call__(self, request: DeviceBindRequest) -> DeviceBindReply:
        async def attempt() -> Device:
            uow = self.storage.unit_of_work()
            token_hash, account = await usable_binding(uow, request.binding, self.clock)
            challenge = challenge_in(request.credential)
            now = self.clock()
            if (
                challenge is None
                or self.challenges.expiry(challenge, BIND, token_hash, now) is None
            ):
                raise ServiceFailure(ErrorCode.PASSKEY_INVALID)
            try:
                passkey = self.passkeys.verify_creation(request.credential, challenge)
            except PasskeyRejected as rejected:
                log.info("passkey refused at binding: %s", rejected)
                raise ServiceFailure(ErrorCode.PASSKEY_INVALID) from None
            device = Device(
                device_id=new_device_id(),
                account_id=account.account_id,
                credential_id=passkey.credential_id,
                public_key=passkey.public_key,
                sign_count=passkey.sign_count,
                transports=passkey.transports,
                aaguid=passkey.aaguid,
                name=request.name,
                created_at=now,
            )
            account.bind_device(device.device_id, now, BINDING_LINK)
            uow.device_bindings.consume(token_hash, now)
            uow.devices.add(device, limit=MAX_DEVICES)
            uow.accounts.save(account)
            try:
                await uow.commit()
            except BindingSpent:
                raise ServiceFailure(ErrorCode.BINDING_INVALID) from None
            except DeviceLimitReached:
                raise ServiceFailure(ErrorCode.DEVICE_LIMIT_REACHED) from None
            except DuplicateCredential:
                raise ServiceFailure(
                    ErrorCode.PASSKEY_INVALID, "This passkey is bound already."
                ) from None
            log.info(
                "device bound account_id=%s device_id=%s attestation=%s",
                account.account_id,
                device.device_id,
                passkey.attestation_format,
            )
            return device

        device = await until_committed(attempt)
        return DeviceBindReply(device_id=device.device_id, name=device.name)
