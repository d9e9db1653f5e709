"""FAQ 10: the holder's bound devices, listed and removed from the portal (scope `account`,
so a card login; a phone's own token cannot remove a phone). Removing a device ends the
sessions opened with it in the same commit."""

from __future__ import annotations

from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Empty
from cardreg_shared.models.registry import (
    DeviceList,
    DeviceRemoveRequest,
    DeviceSummary,
    TokenRequest,
)

from ..domain.scopes import Scope
from .bearer import signed_in
from .methods import session_origin
from .ports import Clock, DeviceGone, Storage, Tokens
from .retry import until_committed


@dataclass(frozen=True)
class ListDevices:
    storage: Storage
    tokens: Tokens
    clock: Clock

    async def __call__(self, request: TokenRequest) -> DeviceList:
        uow = self.storage.unit_of_work()
        _, account = await signed_in(
            uow, self.tokens, request.access_token, self.clock(), needs=Scope.ACCOUNT
        )
        devices = await uow.devices.of_account(account.account_id)
        return DeviceList(
            devices=[
                DeviceSummary(
                    device_id=d.device_id,
                    name=d.name,
                    created_at=d.created_at,
                    last_used_at=d.last_used_at,
                )
                for d in devices
            ]
        )


@dataclass(frozen=True)
class RemoveDevice:
    storage: Storage
    tokens: Tokens
    clock: Clock

    async def __call__(self, request: DeviceRemoveRequest) -> Empty:
        async def attempt() -> None:
            uow = self.storage.unit_of_work()
            session, account = await signed_in(
                uow, self.tokens, request.access_token, self.clock(), needs=Scope.ACCOUNT
            )
            now = self.clock()
            account.remove_device(request.device_id, now, session_origin(session.method))
            uow.devices.remove(account.account_id, request.device_id)
            uow.sessions.revoke_device(request.device_id, now)
            uow.accounts.save(account)
            try:
                await uow.commit()
            except DeviceGone:
                raise ServiceFailure(ErrorCode.NOT_FOUND, "No such device.") from None

        await until_committed(attempt)
        return Empty()
