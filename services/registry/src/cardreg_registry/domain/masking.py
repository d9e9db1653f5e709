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


NAME_MASK = "○"  # the mark Taiwan's government services mask names with


def mask_name(name: str) -> str:
    """`王小明` -> `王○明`, `王明` -> `王○`, `歐陽小明` -> `歐○○明`; a name in Latin letters keeps
    its first and last letter and its spaces: `NGUYEN VAN AN` -> `N○○○○○ ○○○ ○N`."""
    letters = [i for i, ch in enumerate(name) if not ch.isspace()]
    if len(letters) <= 1:
        return name
    if len(letters) == 2:
        return name[: letters[1]] + NAME_MASK + name[letters[1] + 1 :]
    keep = {letters[0], letters[-1]}
    return "".join(ch if i in keep or ch.isspace() else NAME_MASK for i, ch in enumerate(name))
