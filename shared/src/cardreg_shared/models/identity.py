"""identity.*: card verification against the roster, household and residence proofs."""

from __future__ import annotations

from .common import CardNo, CardRead, Household, IdNo, Model, PersonKind, Residence


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
