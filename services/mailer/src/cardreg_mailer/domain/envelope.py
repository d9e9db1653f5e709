"""The message as it goes over SMTP: headers that stay the same on every (re)send, both parts.

A resend after a crash must be recognisable as the same mail: the Message-ID and the MIME
boundary come from the request id and the Date from the request time, so two copies are
byte-for-byte alike.

The bytes are written directly (RFC 5322 headers, multipart/alternative, UTF-8 parts in
base64) rather than through `email.message.EmailMessage`: its header registry made building
one message cost ~4 ms here, more than sending it. The structure is fixed and small; the tests
read every message back with the standard parser.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

from .requests import MailRequest

_CRLF = "\r\n"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class OutgoingMail:
    message_id: str
    data: bytes


def message_id(request_id: str, mail_from: str) -> str:
    """`<request_id@domain of the From address>`: stable for a request, unique per sender."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2]
    return f"<{request_id}@{domain}>"


def from_header(mail_from: str) -> str:
    """`name <address>` with a non-ASCII name encoded (RFC 2047); computed once at start."""
    name, address = parseaddr(mail_from)
    return formataddr((name, address), charset="utf-8")


@lru_cache(maxsize=64)  # subjects are a handful of fixed texts per kind and language
def _encoded(name: str, value: str) -> str:
    charset = "us-ascii" if value.isascii() else "utf-8"
    return Header(value, charset, header_name=name).encode(linesep=_CRLF)


def _part(content_type: str, text: str) -> str:
    body = base64.encodebytes(text.encode("utf-8")).decode("ascii").replace("\n", _CRLF)
    return (
        f'Content-Type: {content_type}; charset="utf-8"{_CRLF}'
        f"Content-Transfer-Encoding: base64{_CRLF}{_CRLF}{body}"
    )


def compose(request: MailRequest, rendered: RenderedMail, sender: str) -> OutgoingMail:
    """`sender` is the From header as `from_header` made it. The recipient must have passed
    `check_request` (one bare ASCII address, nothing that could end a header)."""
    requested_at = request.requested_at
    if requested_at.tzinfo is None:
        requested_at = requested_at.replace(tzinfo=UTC)
    mid = message_id(request.request_id, sender)
    # "=_" never occurs in base64, so the boundary cannot collide with a part; folded onto
    # its own line it stays within 78 characters for the longest request id.
    boundary = f"=_{request.request_id}"
    headers = (
        f"Message-ID: {mid}",
        f"Date: {format_datetime(requested_at)}",
        f"From: {sender}",
        f"To: {request.to}",
        f"Subject: {_encoded('Subject', rendered.subject)}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative;{_CRLF} boundary="{boundary}"',
        f"Content-Language: {request.language}",
        # RFC 3834: no auto-replies ("out of office") to a machine's notice.
        "Auto-Submitted: auto-generated",
    )
    message = _CRLF.join(
        (
            *headers,
            "",
            f"--{boundary}",
            _part("text/plain", rendered.text),
            f"--{boundary}",
            _part("text/html", rendered.html),
            f"--{boundary}--",
            "",
        )
    )
    return OutgoingMail(message_id=mid, data=message.encode("ascii"))
