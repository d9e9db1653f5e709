"""Synthetic people look real: valid numbers, real places, Big5 names, consistent dates."""

from __future__ import annotations

import random
import re
from datetime import date

from cardreg_identity.domain import id_numbers
from cardreg_identity.domain.card_names import name_problem
from cardreg_identity.domain.documents import age_on, documents_of, under_14
from cardreg_identity.domain.places import CITIES, split_township
from cardreg_identity.domain.sample_data import GIVEN_CHARS, SURNAMES, TOWNSHIPS, VILLAGE_STEMS
from cardreg_identity.domain.synthetic import SyntheticPeople

TODAY = date(2026, 6, 1)


def test_word_lists_are_big5_and_townships_are_well_formed() -> None:
    text = "".join(TOWNSHIPS) + "".join(VILLAGE_STEMS) + "".join(s for s, _ in SURNAMES)
    (text + "".join(GIVEN_CHARS.values())).encode("big5")
    assert len(TOWNSHIPS) >= 30 and len(set(TOWNSHIPS)) == len(TOWNSHIPS)
    assert all(split_township(t) is not None for t in TOWNSHIPS)
    assert len({t[:3] for t in TOWNSHIPS}) >= 15


def test_people_are_realistic() -> None:
    people = SyntheticPeople(random.Random(3), TODAY)
    made = [people.make("citizen") for _ in range(400)] + [
        people.make("foreigner") for _ in range(200)
    ]
    for synthetic in made:
        person = synthetic.person
        assert id_numbers.kind_of(person.id_no) == person.kind
        assert id_numbers.sex_of(person.id_no) == person.sex
        assert name_problem(person.name) is None
        child = person.kind == "citizen" and under_14(person.birth_date, TODAY)
        if child:
            assert date(2013, 6, 1) <= person.birth_date < TODAY
        else:
            assert date(1930, 1, 1) <= person.birth_date <= date(2008, 12, 31)
        assert person.birth_date <= synthetic.card_issued_on < TODAY
        assert synthetic.card_issued_on >= date(2004, 1, 1)
        assert re.fullmatch(r"[0-9]{12}", synthetic.card_no)
        if person.kind == "citizen":
            household = person.household
            assert household is not None and person.permit is None
            assert household.township in TOWNSHIPS
            assert re.fullmatch(r"[A-Z][0-9]{7}", household.household_no)
            assert household.household_no[0] == CITIES[household.township[:3]]
            assert household.village.endswith("村" if household.township.endswith("鄉") else "里")
            assert 1 <= household.neighborhood <= 30
        else:
            permit = person.permit
            assert permit is not None and person.household is None
            assert person.name.isascii() and person.name.isupper() and len(person.name) <= 20
            assert re.fullmatch(r"[A-Z]{2}[0-9]{8}", permit.serial_no)
            assert permit.issued_on <= TODAY < permit.expires_on
    assert len({s.person.id_no for s in made}) == len(made)
    assert len({s.card_no for s in made}) == len(made)
    assert any(s.person.id_no[1].isalpha() for s in made)  # some older ARC numbers too
    children = [s for s in made if under_14(s.person.birth_date, TODAY)]
    assert 5 <= len(children) <= 50 and all(s.person.kind == "citizen" for s in children)


def test_people_have_documents_and_most_working_age_ones_an_employer() -> None:
    people = SyntheticPeople(random.Random(5), TODAY)
    units = people.units(5)
    assert len({u.unit_id for u in units}) == 5
    assert all(re.fullmatch(r"[0-9]{9}", u.unit_id) and u.name for u in units)
    made = [people.make("citizen") for _ in range(600)] + [
        people.make("foreigner") for _ in range(200)
    ]
    unit_ids = {u.unit_id for u in units}
    working = [s.person for s in made if 15 <= age_on(s.person.birth_date, TODAY) < 65]
    insured = [p for p in working if p.insured_unit is not None]
    assert 0.7 <= len(insured) / len(working) <= 0.9
    assert {p.insured_unit for p in insured} == unit_ids
    for synthetic in made:
        person = synthetic.person
        documents = documents_of(person, TODAY)
        if person.kind == "foreigner":
            assert documents["residence_permit"] == person.id_no
            assert "passport" not in documents
        elif under_14(person.birth_date, TODAY):
            assert documents == {"household_register": person.household.household_no}
            assert person.insured_unit is None
        else:
            assert documents["national_id"] == person.id_no
        if "passport" in documents:
            assert re.fullmatch(r"3[0-9]{8}", documents["passport"])
        if "driving_licence" in documents:
            assert documents["driving_licence"] == person.id_no
    assert any(p.passport_no for p in (s.person for s in made))
    assert any(p.driving_licence_no for p in (s.person for s in made))


def test_renumbering_keeps_the_person_and_changes_only_what_was_asked() -> None:
    people = SyntheticPeople(random.Random(4), TODAY)
    for kind in ("citizen", "foreigner"):
        original = people.make(kind)
        fresh = people.renumbered(original, id_no=True, card_no=False)
        assert fresh.person.id_no != original.person.id_no
        assert id_numbers.kind_of(fresh.person.id_no) == kind
        assert id_numbers.sex_of(fresh.person.id_no) == original.person.sex
        assert fresh.card_no == original.card_no
        assert fresh.person.name == original.person.name
        other = people.renumbered(original, id_no=False, card_no=True)
        assert other.card_no != original.card_no and other.person == original.person
