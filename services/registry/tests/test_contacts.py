"""Email and Taiwanese phone numbers: accepted forms, normalisation, refusals."""

from __future__ import annotations

import pytest
from cardreg_registry.domain.contacts import InvalidContact, normalise_email, normalise_phone


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("mei@example.com", "mei@example.com"),
        ("Mei.Lin@Example.COM", "Mei.Lin@example.com"),
        ("  mei+nhi@mail.example.com.tw ", "mei+nhi@mail.example.com.tw"),
        ("o'brien@example.org", "o'brien@example.org"),
    ],
)
def test_good_emails_are_normalised(given, stored):
    assert normalise_email(given) == stored


@pytest.mark.parametrize(
    "email",
    [
        "mei",
        "mei@",
        "@example.org",
        "mei@localhost",
        "mei@@example.com",
        "mei lin@example.com",
        ".mei@example.com",
        "mei.@example.com",
        "me..i@example.com",
        "mei@-example.com",
        "mei@example..com",
        "a" * 65 + "@example.com",
        "mei@" + "a" * 250 + ".com",
    ],
)
def test_bad_emails_are_refused_without_echoing_them(email):
    with pytest.raises(InvalidContact) as caught:
        normalise_email(email)
    assert "email" in str(caught.value)
    assert email.strip() not in str(caught.value)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("0912345678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("+886912345678", "0912345678"),
        ("+886 912-345-678", "0912345678"),
        ("+886-2-2345-6789", "0223456789"),
        ("02-2345-6789", "0223456789"),
        ("(02) 2345-6789", "0223456789"),
        ("03-123-4567", "031234567"),
        ("07-1234567", "071234567"),
        ("049-2345678", "0492345678"),
        ("+886 (0)2 2345 6789", "0223456789"),
    ],
)
def test_taiwanese_numbers_are_normalised_to_digits(given, stored):
    assert normalise_phone(given) == stored


@pytest.mark.parametrize(
    "phone",
    [
        "",
        "12345",
        "0912-345-67",  # a digit short
        "09123456789",  # a digit too many
        "0112345678",  # no such area code
        "+1 415 555 0100",
        "0912345678#12",
        "０９１２３４５６７８",  # full-width digits are not digits here
        "phone",
    ],
)
def test_other_numbers_are_refused(phone):
    with pytest.raises(InvalidContact) as caught:
        normalise_phone(phone)
    assert "phone" in str(caught.value)
