"""The counter console's work (FAQ 4, 5, 13): search a person, register at a counter or by an
employer, issue a new setup, deactivate, reactivate.

Every call carries an operator's token (operator_bearer.py) and is refused for the wrong role.
A counter acts on a person in front of the clerk, after seeing an original document (identity
checks it belongs to the person; a wrong number counts as a guess). An employer acts only for
people insured through its own unit, only with their consent and an email. Every action is an
event with the operator's opaque id and the document's type, never its number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Document
from cardreg_shared.models.identity import PersonFindReply
from cardreg_shared.models.mail import ReactivatedMail, SetupMail
from cardreg_shared.models.registry import (
    AccountStateReply,
    AccountSummary,
    CounterRegistrationRequest,
    DeactivationRequest,
    EmployerRegistrationRequest,
    OperatorRegistrationReply,
    PersonSearchReply,
    PersonSearchRequest,
    ReactivationRequest,
    SetupIssueRequest,
)
from cardreg_shared.models.registry import Setup as SetupReply
from cardreg_shared.subjects import MAIL_REACTIVATED, MAIL_SETUP

from ..adapters.person_refs import PersonRefs
from ..domain.accounts import Account, DuplicateAccount, Origin
from ..domain.contacts import normalise_email, normalise_phone
from ..domain.masking import mask_id_no
from ..domain.operators import Operator
from ..domain.outbox import OutboxMessage, new_request_id
from ..domain.scopes import Scope
from ..domain.setups import Setup, setup_url
from .contact_input import optional_contact
from .operator_bearer import operator_signed_in
from .ports import Clock, Identity, IdNumbers, Storage, Tokens, UnitOfWork
from .retry import until_committed

COUNTER = (Scope.OPERATOR_COUNTER,)
EMPLOYER = (Scope.OPERATOR_EMPLOYER,)
EITHER = (Scope.OPERATOR_COUNTER, Scope.OPERATOR_EMPLOYER)


def counter_origin(operator: Operator, document: Document) -> Origin:
    return Origin("counter", f"counter+{document.type}", operator.operator_id)


def employer_origin(operator: Operator) -> Origin:
    return Origin("employer", "employer+consent", operator.operator_id)


@dataclass(frozen=True)
class CounterDesk:
    identity: Identity
    storage: Storage
    tokens: Tokens
    refs: PersonRefs
    id_numbers: IdNumbers
    clock: Clock
    # Mailed setup links are built from configuration, never from a request.
    public_base_url: str = "http://127.0.0.1:8080"

    async def _operator(self, uow: UnitOfWork, token: str, needs: Iterable[Scope]) -> Operator:
        _, operator = await operator_signed_in(
            uow, self.tokens, token.strip(), self.clock(), needs=needs
        )
        return operator

    # search

    async def search(self, request: PersonSearchRequest) -> PersonSearchReply:
        uow = self.storage.unit_of_work()
        operator = await self._operator(uow, request.access_token, EITHER)
        person = await self.identity.find_person(request.id_no)
        if operator.role == "employer":
            await self._insured(person, operator)
        account = await uow.accounts.by_person(person.person_id)
        operator.searched(self.clock(), account.account_id if account else None)
        await uow.commit()
        summary = None
        if account is not None:
            summary = AccountSummary(
                account_id=account.account_id,
                status=account.status,
                channel=account.channel,
                created_at=account.created_at,
            )
        return PersonSearchReply(
            person_ref=self.refs.issue(person, self.clock()),
            kind=person.kind,
            under_14=person.under_14,
            account=summary,
        )

    # registration

    async def register_at_counter(
        self, request: CounterRegistrationRequest
    ) -> OperatorRegistrationReply:
        operator = await self._operator(self.storage.unit_of_work(), request.access_token, COUNTER)
        person = self.refs.open(request.person_ref, self.clock())
        await self.identity.verify_document(person.person_id, request.document)
        origin = counter_origin(operator, request.document)
        email = optional_contact(request.email, normalise_email)
        phone = optional_contact(request.phone, normalise_phone)

        async def attempt() -> OperatorRegistrationReply:
            return await self._open_pending(
                person, "counter", origin, email, phone, request.language
            )

        return await until_committed(attempt)

    async def register_for_employer(
        self, request: EmployerRegistrationRequest
    ) -> OperatorRegistrationReply:
        operator = await self._operator(self.storage.unit_of_work(), request.access_token, EMPLOYER)
        email = optional_contact(request.email, normalise_email)
        if email is None:
            raise ServiceFailure(ErrorCode.INVALID_REQUEST, "email: the setup link is mailed there")
        person = await self.identity.find_person(request.id_no)
        await self._insured(person, operator)
        origin = employer_origin(operator)
        consent = request.consent

        async def attempt() -> OperatorRegistrationReply:
            return await self._open_pending(
                person,
                "employer",
                origin,
                email,
                None,
                request.language,
                consent=(consent.reference, consent.given_on.isoformat()),
            )

        return await until_committed(attempt)

    async def _open_pending(
        self,
        person: PersonFindReply,
        channel,
        origin: Origin,
        email: str | None,
        phone: str | None,
        language,
        *,
        consent: tuple[str, str] | None = None,
    ) -> OperatorRegistrationReply:
        uow = self.storage.unit_of_work()
        existing = await uow.accounts.by_person(person.person_id)
        now = self.clock()
        account = Account.open_pending(
            existing,
            person_id=person.person_id,
            kind=person.kind,
            id_no_masked=mask_id_no(person.id_no),
            id_no_hash=self.id_numbers.fingerprint(person.id_no),
            email=email or None,
            phone=phone or None,
            channel=channel,
            language=language,
            now=now,
            origin=origin,
        )
        if consent is not None:
            account.record_consent(*consent, now, origin)
        uow.accounts.add(account)  # before its setup, which refers to it
        setup, code = self._setup(uow, account, now, origin)
        if account.email is not None:
            link = SetupMail(
                request_id=new_request_id(),
                to=account.email,
                language=account.language,
                requested_at=now,
                setup_url=setup_url(self.public_base_url, code),
                channel=channel,
                expires_on=setup.expires_at.date(),
            )
            uow.outbox.add(OutboxMessage.mail(MAIL_SETUP, link), now)
        try:
            await uow.commit()
        except DuplicateAccount:
            raise ServiceFailure(ErrorCode.ALREADY_REGISTERED) from None
        return OperatorRegistrationReply(
            account_id=account.account_id,
            status=account.status,
            setup=SetupReply(code=code, expires_at=setup.expires_at),
        )

    def _setup(
        self, uow: UnitOfWork, account: Account, now: datetime, origin: Origin
    ) -> tuple[Setup, str]:
        account.setup_issued(now, origin)
        setup, code = Setup.issue(account.account_id, now)
        uow.setups.issue(setup)
        return setup, code

    async def issue_setup(self, request: SetupIssueRequest) -> SetupReply:
        async def attempt() -> SetupReply:
            uow = self.storage.unit_of_work()
            operator = await self._operator(uow, request.access_token, COUNTER)
            account = await uow.accounts.by_id(request.account_id)
            if account is None:
                raise ServiceFailure(ErrorCode.NOT_FOUND)
            now = self.clock()
            origin = Origin("counter", "counter", operator.operator_id)
            setup, code = self._setup(uow, account, now, origin)
            uow.accounts.save(account)
            await uow.commit()
            return SetupReply(code=code, expires_at=setup.expires_at)

        return await until_committed(attempt)

    # deactivation and reactivation (counter only, with the person's document)

    async def deactivate(self, request: DeactivationRequest) -> AccountStateReply:
        operator = await self._operator(self.storage.unit_of_work(), request.access_token, COUNTER)
        person = self.refs.open(request.person_ref, self.clock())
        await self.identity.verify_document(person.person_id, request.document)
        origin = counter_origin(operator, request.document)
        reason, note = request.reason.code, request.reason.text.strip()

        async def attempt() -> AccountStateReply:
            uow = self.storage.unit_of_work()
            account = await uow.accounts.by_person(person.person_id)
            now = self.clock()
            if account is None:
                account = Account.deactivate_person(
                    person_id=person.person_id,
                    kind=person.kind,
                    id_no_masked=mask_id_no(person.id_no),
                    id_no_hash=self.id_numbers.fingerprint(person.id_no),
                    now=now,
                    origin=origin,
                    reason=reason,
                    note=note,
                )
                uow.accounts.add(account)
            else:
                account.deactivate(now, origin, reason=reason, note=note)
                uow.accounts.save(account)
                # Everything at once: sessions (portal, phones), relying services' sign-ins
                # (so no refresh token works again after a reactivation), reset links, setups.
                uow.sessions.revoke_all(account.account_id, now)
                uow.grants.revoke_all(account.account_id, now)
                uow.reset_tokens.void_all(account.account_id, now)
                uow.setups.void_all(account.account_id, now)
            try:
                await uow.commit()
            except DuplicateAccount:
                raise ServiceFailure(ErrorCode.UNAVAILABLE) from None
            return AccountStateReply(account_id=account.account_id, status=account.status)

        return await until_committed(attempt)

    async def reactivate(self, request: ReactivationRequest) -> AccountStateReply:
        operator = await self._operator(self.storage.unit_of_work(), request.access_token, COUNTER)
        person = self.refs.open(request.person_ref, self.clock())
        await self.identity.verify_document(person.person_id, request.document)
        origin = counter_origin(operator, request.document)

        async def attempt() -> AccountStateReply:
            uow = self.storage.unit_of_work()
            account = await uow.accounts.by_person(person.person_id)
            if account is None:
                raise ServiceFailure(ErrorCode.NOT_FOUND, "This person has no registration.")
            now = self.clock()
            if account.reactivate(now, origin):
                uow.accounts.save(account)
                if account.email is not None:
                    notice = ReactivatedMail(
                        request_id=new_request_id(),
                        to=account.email,
                        language=account.language,
                        requested_at=now,
                    )
                    uow.outbox.add(OutboxMessage.mail(MAIL_REACTIVATED, notice), now)
                await uow.commit()
                return AccountStateReply(account_id=account.account_id, status=account.status)
            uow.accounts.remove(account)
            await uow.commit()
            return AccountStateReply(account_id=None, status=None)

        return await until_committed(attempt)

    async def _insured(self, person: PersonFindReply, operator: Operator) -> None:
        if operator.unit_id is None:  # an employer always has its unit (domain/operators.py)
            raise ServiceFailure(ErrorCode.INSUFFICIENT_SCOPE)
        await self.identity.verify_insurance(person.person_id, operator.unit_id)
