"""FAQ 10: log in on a bound phone with the ID number, the password and the phone's passkey.
The session carries only `passbook counter` and `amr ["pwd","hwk"]`.

No enumeration: the request options for an ID number without an account (or without
devices) have the same shape as real ones — one credential id, made up deterministically from
the ID number's keyed hash, so asking twice gives the same answer — and every failure before
the password is checked answers `invalid_credentials` after the same argon2 work as a wrong
password. The assertion is checked first: without the phone nobody can try passwords. Then the
password, through the account's lockout (wrong ones count). The signature counter must move
forward (py_webauthn refuses one that does not, unless both are 0, as synced passkeys send),
and the challenge is spent in the commit that opens the session, so an assertion works once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.registry import (
    DeviceLoginOptionsRequest,
    DeviceSessionCreateReply,
    DeviceSessionCreateRequest,
    PasskeyOptions,
)

from ..domain.accounts import Account
from ..domain.challenges import (
    ChallengeKey,
    b64url,
    challenge_hash,
    challenge_in,
    credential_id_in,
)
from ..domain.devices import Device, KnownPasskey, PasskeyRejected
from ..domain.lifecycle import Refused
from ..domain.lockout import LockoutPolicy
from ..domain.scopes import scope_claim
from ..domain.sessions import Session
from .device_binding import known
from .methods import DEVICE_AND_PASSWORD
from .password_check import PasswordCheck
from .ports import (
    ChallengeSpent,
    Clock,
    IdNumbers,
    Passkeys,
    PasswordHashing,
    Storage,
    Tokens,
    UnitOfWork,
)
from .retry import until_committed

log = logging.getLogger("cardreg.registry.device_login")

LOGIN = "device-login"
DECOY_TRANSPORTS = ("hybrid", "internal")


@dataclass(frozen=True)
class DeviceLoginOptions:
    storage: Storage
    passkeys: Passkeys
    challenges: ChallengeKey
    id_numbers: IdNumbers
    clock: Clock

    async def __call__(self, request: DeviceLoginOptionsRequest) -> PasskeyOptions:
        fingerprint = self.id_numbers.fingerprint(request.id_no)
        uow = self.storage.unit_of_work()
        account = await uow.accounts.by_id_number(fingerprint)
        usable = account is not None and account.has_password
        devices = await uow.devices.of_account(account.account_id if usable and account else "")
        allow = known(devices) or [
            KnownPasskey(b64url(self.challenges.decoy(fingerprint)), DECOY_TRANSPORTS)
        ]
        challenge = self.challenges.mint(LOGIN, fingerprint, self.clock())
        return PasskeyOptions(options=self.passkeys.request_options(challenge, allow))


@dataclass(frozen=True)
class CreateDeviceSession:
    storage: Storage
    passkeys: Passkeys
    challenges: ChallengeKey
    hasher: PasswordHashing
    tokens: Tokens
    id_numbers: IdNumbers
    lockout: LockoutPolicy
    clock: Clock

    async def __call__(self, request: DeviceSessionCreateRequest) -> DeviceSessionCreateReply:
        login = _DeviceLogin(self, request)
        return await until_committed(login.attempt)


class _DeviceLogin:
    """One device login; `attempt` may run again after a conflicting commit."""

    def __init__(self, flow: CreateDeviceSession, request: DeviceSessionCreateRequest) -> None:
        self.flow = flow
        self.request = request
        self.method = DEVICE_AND_PASSWORD
        self.password = self.method.knowledge.secret(request.password)
        self.fingerprint = flow.id_numbers.fingerprint(request.id_no)
        self.check = PasswordCheck(flow.hasher, flow.lockout, flow.clock)

    async def attempt(self) -> DeviceSessionCreateReply:
        flow, origin = self.flow, self.method.origin()
        uow = flow.storage.unit_of_work()
        account = await uow.accounts.by_id_number(self.fingerprint)
        if account is None or not account.has_password:
            return await self._refuse(None)
        found = await self._proven_device(uow, account)
        if found is None:
            return await self._refuse(account, uow)
        device, challenge, expires, sign_count = found
        await self.check(uow, account, self.password, origin)

        now = flow.clock()
        try:
            account.log_in(now, origin, card_no=None, device_id=device.device_id)
        except Refused as refused:  # deactivated: every factor right, still no session
            account.login_refused(now, origin, refused.code)
            await uow.commit()
            raise
        session = Session.open(
            account.account_id,
            now,
            flow.tokens.ttl,
            method=self.method.name,
            amr=self.method.amr,
            scopes=self.method.scopes,
            device_id=device.device_id,
        )
        issued = flow.tokens.issue(session)
        uow.accounts.save(account)
        uow.devices.used(device, sign_count, now)
        uow.spent_challenges.spend(challenge_hash(challenge), expires)
        uow.sessions.add(session)
        try:
            await uow.commit()
        except ChallengeSpent:
            log.info("a device assertion was replayed account_id=%s", account.account_id)
            raise ServiceFailure(ErrorCode.INVALID_CREDENTIALS) from None
        return DeviceSessionCreateReply(
            access_token=issued.token,
            expires_in=int((issued.expires_at - issued.issued_at).total_seconds()),
            scope=scope_claim(session.scopes),
        )

    async def _proven_device(
        self, uow: UnitOfWork, account: Account
    ) -> tuple[Device, bytes, datetime, int] | None:
        """(device, challenge, its expiry, the new counter) when the assertion is one of the
        account's devices over a challenge we made for this ID number; None otherwise."""
        flow, credential = self.flow, self.request.credential
        challenge = challenge_in(credential)
        now = flow.clock()
        expires = (
            None
            if challenge is None
            else flow.challenges.expiry(challenge, LOGIN, self.fingerprint, now)
        )
        credential_id = credential_id_in(credential)
        if challenge is None or expires is None or credential_id is None:
            return None
        device = await uow.devices.by_credential(credential_id)
        if device is None or device.account_id != account.account_id:
            return None
        try:
            sign_count = flow.passkeys.verify_assertion(
                credential, challenge, device.public_key, device.sign_count
            )
        except PasskeyRejected as rejected:
            log.info(
                "device assertion refused account_id=%s device_id=%s: %s",
                account.account_id,
                device.device_id,
                rejected,
            )
            return None
        return device, challenge, expires, sign_count

    async def _refuse(
        self, account: Account | None, uow: UnitOfWork | None = None
    ) -> DeviceSessionCreateReply:
        """`invalid_credentials` after the work a wrong password costs; an attempt on a real
        account is recorded (the holder sees it in the activity)."""
        await self.flow.hasher.verify_dummy(self.password)
        if account is not None and uow is not None:
            account.login_refused(
                self.flow.clock(), self.method.origin(), ErrorCode.INVALID_CREDENTIALS
            )
            await uow.commit()
        raise ServiceFailure(ErrorCode.INVALID_CREDENTIALS)
