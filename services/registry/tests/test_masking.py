"""Masking rules for replies: what the owner sees of each identifier."""

from __future__ import annotations

from cardreg_registry.domain.masking import (
    mask_card_no,
    mask_email,
    mask_id_no,
    mask_name,
    mask_phone,
)


def test_id_number_keeps_three_leading_and_two_trailing():
    assert mask_id_no("A123456789") == "A12*****89"
    assert mask_id_no("AB12345678") == "AB1*****78"


def test_card_number_keeps_last_four():
    assert mask_card_no("000012345678") == "********5678"


def test_email_keeps_first_letter_and_domain_and_hides_length():
    assert mask_email("alice@example.com") == "a***@example.com"
    assert mask_email("a@example.com") == "a***@example.com"
    assert mask_email("alexandria.long@example.com") == "a***@example.com"


def test_phone_keeps_first_four_and_last_three_digits():
    assert mask_phone("0912345678") == "0912***678"
    assert mask_phone("0223456789") == "0223***789"
    assert mask_phone("031234567") == "0312**567"


def test_a_name_keeps_its_first_and_last_character():
    assert mask_name("王小明") == "王○明"
    assert mask_name("王明") == "王○"
    assert mask_name("歐陽小明") == "歐○○明"
    assert mask_name("NGUYEN VAN AN") == "N○○○○○ ○○○ ○N"
    assert mask_name("李") == "李"
