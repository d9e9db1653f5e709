"""Contact details: basic email syntax and Taiwanese phone numbers, normalised for storage.

Errors name the rule that failed, never the value (it is personal data).
"""

from __future__ import annotations

import re

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART = 64

_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_MOBILE = re.compile(r"09[0-9]{8}")
# Area codes 02-08 (e.g. 02, 037, 049, 0826); 9 or 10 digits in all with the leading 0.
_LANDLINE = re.compile(r"0[2-8][0-9]{7,8}")


class InvalidContact(ValueError):
    """A contact detail breaks a syntax rule; the message is safe to show."""


def normalise_email(email: str) -> str:
    """`Name@Example.COM` -> `Name@example.com`: the domain is case-insensitive, the local part may not be."""
    text = email.strip()
    if len(text) > MAX_EMAIL_LENGTH:
        raise InvalidContact(f"email must be at most {MAX_EMAIL_LENGTH} characters")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidContact("email must look like name@example.com")
    if (
        len(local) > MAX_LOCAL_PART
        or not _LOCAL_PART.fullmatch(local)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
    ):
        raise InvalidContact("email has an invalid part before the @")
    domain = domain.lower()
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        raise InvalidContact("email has an invalid domain")
    return f"{local}@{domain}"


def normalise_phone(phone: str) -> str:
    """Digits only, national form: `+886 912-345-678` -> `0912345678`, `02-2345-6789` -> `0223456789`."""
    digits = _PHONE_SEPARATORS.sub("", phone)
    if digits.startswith("+886"):
        rest = digits[4:]
        digits = rest if rest.startswith("0") else "0" + rest
    if not (_MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits)):
        raise InvalidContact(
            "phone must be a Taiwanese mobile (09xxxxxxxx) or landline (e.g. 02-2345-6789) number"
        )
    return digits
