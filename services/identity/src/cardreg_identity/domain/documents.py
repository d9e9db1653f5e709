"""The documents a person can show at a counter (FAQ 5), and whether one is theirs.

Three follow from what the register already holds: a citizen of 14 or more has an ID card
(`national_id`, its number the ID number); a younger citizen shows the household register
(`household_register`, the household number); a foreign resident the residence permit
(`residence_permit`, its number the resident's ID number). Passports and driving licences are
kept per person. Numbers compare in canonical form (NFKC, upper case, no spaces), so what a
clerk types from the document matches what the register holds.
"""

from __future__ import annotations

from datetime import date

from cardreg_shared.models.common import DocumentType

from .normalise import canonical_code
from .people import Person

ID_CARD_AGE = 14


def age_on(birth_date: date, today: date) -> int:
    years = today.year - birth_date.year
    return years - ((today.month, today.day) < (birth_date.month, birth_date.day))


def under_14(birth_date: date, today: date) -> bool:
    return age_on(birth_date, today) < ID_CARD_AGE


def documents_of(person: Person, today: date) -> dict[DocumentType, str]:
    """Every document the person has, type -> number."""
    documents: dict[DocumentType, str] = {}
    if person.kind == "citizen":
        if under_14(person.birth_date, today):
            if person.household is not None:
                documents["household_register"] = person.household.household_no
        else:
            documents["national_id"] = person.id_no
    else:
        documents["residence_permit"] = person.id_no
    if person.passport_no is not None:
        documents["passport"] = person.passport_no
    if person.driving_licence_no is not None:
        documents["driving_licence"] = person.driving_licence_no
    return documents


def document_matches(person: Person, today: date, document_type: DocumentType, number: str) -> bool:
    held = documents_of(person, today).get(document_type)
    return held is not None and canonical_code(number) == canonical_code(held)
