"""identity.*: card verification against the roster, household and residence proofs, people
found by ID number at a counter, their documents and insured units."""

from __future__ import annotations

from pydantic import Field

from .common import (
    CardNo,
    CardRead,
    Document,
    Household,
    IdNo,
    Model,
    PersonKind,
    PersonName,
    Residence,
    UnitId,
)


class CardVerifyRequest(Model):
    card: CardRead


class CardVerifyReply(Model):
    """The holder as the roster knows it: the server trusts this, never the client's fields."""

    person_id: str
    kind: PersonKind
    card_no: CardNo
    id_no: IdNo


class HouseholdVerifyRequest(Model):
    person_id: str
    household: Household


class ResidenceVerifyRequest(Model):
    person_id: str
    residence: Residence


class ProofVerifyReply(Model):
    verified: bool


class PersonFindRequest(Model):
    """A clerk or an employer names a person by ID number (never in a subject or log)."""

    id_no: IdNo


class PersonFindReply(Model):
    person_id: str
    kind: PersonKind
    id_no: IdNo = Field(description="As the register holds it (canonical form).")
    under_14: bool = Field(description="Without an ID card: the household register serves.")


class PersonClaimsRequest(Model):
    """The registry signs a person in at a relying service (OpenID Connect)."""

    person_id: str


class PersonClaims(Model):
    """What a relying service may be told about the person, by scope: the name as the
    register holds it (the registry masks it) and the ID number (only for clients registered
    for `nhi_id`). Never logged, never in an event."""

    name: PersonName
    id_no: IdNo = Field(description="As the register holds it (canonical form).")


class DocumentVerifyRequest(Model):
    person_id: str
    document: Document


class InsuranceVerifyRequest(Model):
    person_id: str
    unit_id: UnitId
