"""The PC/SC backend (`cardreg agent --pcsc`): a chip card in a real reader, through pcscd.

pyscard's low-level `smartcard.scard` API, with a fresh PC/SC context per call: pyscard's
high-level classes share one context for the life of the process, and that context stays dead
after pcscd restarts. Each read connects with T=1, holds a PC/SC transaction over its three
APDUs (so no other program's commands interleave) and leaves the card as it was.

PC/SC results map to FAQ 15 codes (pyscard's exception names in brackets):

- service / reader listing fails — pcscd not running [EstablishContextException], no reader,
  the configured reader missing — `8013`
- connect: SCARD_E_NO_SMARTCARD, SCARD_W_REMOVED_CARD [NoCardException] — `7004`;
  SCARD_E_PROTO_MISMATCH (no T=1), unresponsive or unsupported card — `7002`;
  SCARD_E_SHARING_VIOLATION (another program holds the card) — `7001`; anything else — `8013`
- during the read: reader or service gone — `8013`; unresponsive or unsupported card — `7002`;
  anything else [CardConnectionException: SCARD_W_REMOVED_CARD 0x80100069,
  SCARD_E_NOT_TRANSACTED, or hresult 0 with an empty answer under vpcd] — `7001`
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from types import ModuleType

from .card_protocol import CardReadout, Transmit, read_card
from .errors import ReaderError, ReaderErrorCode
from .reader import ReaderStatus

# PC/SC result codes (winscard.h), as unsigned 32-bit values.
SCARD_S_SUCCESS = 0
SCARD_E_INVALID_HANDLE = 0x80100003
SCARD_E_UNKNOWN_READER = 0x80100009
SCARD_E_SHARING_VIOLATION = 0x8010000B
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_E_PROTO_MISMATCH = 0x8010000F
SCARD_E_READER_UNAVAILABLE = 0x80100017
SCARD_E_CARD_UNSUPPORTED = 0x8010001C
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_E_SERVICE_STOPPED = 0x8010001E
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
SCARD_W_UNSUPPORTED_CARD = 0x80100065
SCARD_W_UNRESPONSIVE_CARD = 0x80100066
SCARD_W_REMOVED_CARD = 0x80100069

READER_GONE = frozenset(
    {
        SCARD_E_INVALID_HANDLE,  # pcscd restarted under an open context
        SCARD_E_UNKNOWN_READER,
        SCARD_E_READER_UNAVAILABLE,
        SCARD_E_NO_SERVICE,
        SCARD_E_SERVICE_STOPPED,
        SCARD_E_NO_READERS_AVAILABLE,
    }
)
NOT_THIS_CARD = frozenset(
    {
        SCARD_E_PROTO_MISMATCH,
        SCARD_E_CARD_UNSUPPORTED,
        SCARD_W_UNSUPPORTED_CARD,
        SCARD_W_UNRESPONSIVE_CARD,
    }
)
NO_CARD = frozenset({SCARD_E_NO_SMARTCARD, SCARD_W_REMOVED_CARD})


class Stage(Enum):
    SERVICE = "service"
    CONNECT = "connect"
    READ = "read"


def error_code(hresult: int, stage: Stage) -> ReaderErrorCode:
    """The FAQ code for a PC/SC failure at a stage of the read."""
    hresult &= 0xFFFFFFFF
    if stage is Stage.SERVICE or hresult in READER_GONE:
        return ReaderErrorCode.READER_GONE
    if hresult in NOT_THIS_CARD:
        return ReaderErrorCode.UNEXPECTED_CARD
    if stage is Stage.CONNECT:
        if hresult in NO_CARD:
            return ReaderErrorCode.NO_CARD
        if hresult == SCARD_E_SHARING_VIOLATION:
            return ReaderErrorCode.CARD_REMOVED
        return ReaderErrorCode.READER_GONE
    return ReaderErrorCode.CARD_REMOVED


class PcscUnavailable(RuntimeError):
    """pyscard is not installed."""


def load_scard() -> ModuleType:
    try:
        from smartcard import scard
    except ImportError as exc:
        raise PcscUnavailable(
            "PC/SC needs pyscard: install cardreg-reader-gateway[pcsc] (and pcscd)"
        ) from exc
    return scard


class PcscReader:
    """The reader named `reader_name` (exactly, or the first whose name starts with it), or
    else the first reader holding a card, or else the first reader."""

    def __init__(self, reader_name: str | None = None, scard: ModuleType | None = None) -> None:
        self.reader_name = reader_name
        self._scard = scard or load_scard()

    def status(self) -> ReaderStatus:
        try:
            with self._context() as context:
                reader, state = self._pick(context)
        except ReaderError:
            return ReaderStatus(reader=None, card_present=False)
        return ReaderStatus(
            reader=reader, card_present=bool(state & self._scard.SCARD_STATE_PRESENT)
        )

    def read(self, nonce: bytes) -> CardReadout:
        with self._context() as context:
            reader, _ = self._pick(context)
            with self._connection(context, reader) as transmit:
                return read_card(transmit, nonce)

    @contextmanager
    def _context(self) -> Iterator[int]:
        scard = self._scard
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        self._check(hresult, Stage.SERVICE, "establish context")
        try:
            yield context
        finally:
            scard.SCardReleaseContext(context)

    def _pick(self, context: int) -> tuple[str, int]:
        """(reader name, its state flags)."""
        scard = self._scard
        hresult, readers = scard.SCardListReaders(context, [])
        self._check(hresult, Stage.SERVICE, "list readers")
        if self.reader_name is not None:
            named = [r for r in readers if r == self.reader_name] or [
                r for r in readers if r.startswith(self.reader_name)
            ]
            readers = named[:1]
        if not readers:
            raise ReaderError(ReaderErrorCode.READER_GONE, "no such reader")
        hresult, states = scard.SCardGetStatusChange(
            context, 0, [(reader, scard.SCARD_STATE_UNAWARE) for reader in readers]
        )
        self._check(hresult, Stage.SERVICE, "reader status")
        present = [s for s in states if s[1] & scard.SCARD_STATE_PRESENT]
        reader, state, _atr = (present or states)[0]
        return reader, state

    @contextmanager
    def _connection(self, context: int, reader: str) -> Iterator[Transmit]:
        scard = self._scard
        hresult, card, _protocol = scard.SCardConnect(
            context, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T1
        )
        self._check(hresult, Stage.CONNECT, "connect")
        try:
            self._check(scard.SCardBeginTransaction(card), Stage.READ, "begin transaction")
            try:
                yield lambda apdu: self._transmit(card, apdu)
            finally:
                scard.SCardEndTransaction(card, scard.SCARD_LEAVE_CARD)
        finally:
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)

    def _transmit(self, card: int, apdu: bytes) -> bytes:
        hresult, response = self._scard.SCardTransmit(card, self._scard.SCARD_PCI_T1, list(apdu))
        self._check(hresult, Stage.READ, "transmit")
        return bytes(response)

    def _check(self, hresult: int, stage: Stage, step: str) -> None:
        if hresult == SCARD_S_SUCCESS:
            return
        code = error_code(hresult, stage)
        raise ReaderError(code, f"{step}: PC/SC 0x{hresult & 0xFFFFFFFF:08X}")
