"""How identifiers show in replies: enough for the owner to recognise, too little to reuse."""

from __future__ import annotations


def mask_id_no(id_no: str) -> str:
    """`A123456789` -> `A12*****89`."""
    return id_no[:3] + "*" * (len(id_no) - 5) + id_no[-2:]


def mask_card_no(card_no: str) -> str:
    """`000012345678` -> `********5678`."""
    return "*" * (len(card_no) - 4) + card_no[-4:]


def mask_email(email: str) -> str:
    """`alice@example.com` -> `a***@example.com`; always three stars, so the length stays hidden."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """`0912345678` -> `0912***678`; landlines likewise keep the first 4 and last 3 digits."""
    return phone[:4] + "*" * (len(phone) - 7) + phone[-3:]
