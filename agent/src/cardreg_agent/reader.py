"""What the HTTP layer needs from a card reader: its status, and one card read.

Backends (`pcsc.PcscReader`, `virtual.VirtualReader`) are blocking: the server calls them in a
worker thread, one read at a time. A failed read raises `ReaderError` with its FAQ code.
"""

from __future__ import annotations

from typing import Protocol

from cardreg_shared.models.common import Model

from .card_protocol import CardReadout


class ReaderStatus(Model):
    reader: str | None  # the reader a read would use; None when there is none
    card_present: bool


class CardReader(Protocol):
    def status(self) -> ReaderStatus: ...

    def read(self, nonce: bytes) -> CardReadout: ...
