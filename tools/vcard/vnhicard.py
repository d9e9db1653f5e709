"""A virtual NHI card for vsmartcard's vpcd driver: a wallet line, served as a T=1 chip card.

    python tools/vcard/vnhicard.py --card WALLET_LINE_FILE [--host 127.0.0.1 --port 35963]
                                   [--mode normal|profile-only|wrong-card|remove-after-select|remove-on-proof]

pcscd loads vpcd (`/etc/reader.conf.d/vpcd`), which listens on 127.0.0.1:35963. Inserting the
card = connecting to it; removing it = closing the socket. vpcd frames every message as a 2-byte
big-endian length + payload; a 1-byte payload is a control (0 power off, 1 power on, 2 reset,
4 get ATR), anything longer is a command APDU to answer with a response APDU.

The card answers as DESIGN "Cards" says: SELECT of the NHI applet → 9000; READ PROFILE → the 57
profile bytes built from the wallet entry (Big5 name, ROC dates) + 9000; the proof APDU
`80 88 00 00 20 <nonce> 40` → the Ed25519 signature over
`b"cardreg/card-auth/v1\\x00" + nonce + card_no` + 9000; any other instruction → 6D00.
Modes let tests act out the failures a reader meets: a real NHI card without our signing
command (`profile-only`: the proof APDU → 6D00), another kind of card (`wrong-card`: SELECT →
6A82), and a card pulled out mid-read (`remove-after-select`, `remove-on-proof`: the socket is
closed instead of answering).

The vpcd side is the standard library only. Signing needs the `cryptography` package (the
standard library has no Ed25519); without it only `profile-only` and `wrong-card` work. The
Big5 encoder is a copy of `cardreg_agent.big5.encode_name` (this file imports nothing
from the project, so it runs with any Python 3.11); keep the two in step.

Importable: `VirtualNhiCard(wallet_line).insert()` / `.remove()` from a test, in a thread.
"""

from __future__ import annotations

import argparse
import base64
import json
import signal
import socket
import struct
import sys
import threading
import time
from datetime import date
from enum import StrEnum
from pathlib import Path

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
except ImportError:  # signing is optional: see the module docstring
    Ed25519PrivateKey = None

VPCD_HOST = "127.0.0.1"
VPCD_PORT = 35963
# pcscd polls slots: a slot left empty for less than this may look as if it never emptied.
EMPTY_SLOT_SECONDS = 0.5

# TS=3B (direct convention), T0=88 (TD1 follows, 8 historical bytes), TD1=01 (T=1 only),
# historical bytes "NHI-VCRD", TCK = XOR of T0 .. the last historical byte.
_ATR_BODY = bytes([0x88, 0x01]) + b"NHI-VCRD"


def _with_tck(body: bytes) -> bytes:
    tck = 0
    for byte in body:
        tck ^= byte
    return b"\x3b" + body + bytes([tck])


ATR = _with_tck(_ATR_BODY)

NHI_AID = bytes.fromhex("D1580000010000000000000000000011")
AUTH_CONTEXT = b"cardreg/card-auth/v1\x00"

SW_OK = b"\x90\x00"
SW_FILE_NOT_FOUND = b"\x6a\x82"
SW_WRONG_LENGTH = b"\x67\x00"
SW_NOT_SELECTED = b"\x69\x85"
SW_WRONG_P1P2 = b"\x6b\x00"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"
SW_CLA_NOT_SUPPORTED = b"\x6e\x00"

CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET, CTRL_GET_ATR = 0, 1, 2, 4


class Mode(StrEnum):
    NORMAL = "normal"
    PROFILE_ONLY = "profile-only"
    WRONG_CARD = "wrong-card"
    REMOVE_AFTER_SELECT = "remove-after-select"
    REMOVE_ON_PROOF = "remove-on-proof"


# --- the card's data: Big5 names (copy of cardreg_agent.big5) and ROC dates ----------

NAME_BYTES = 20
# Big5 user-defined areas (Microsoft / Taiwan EUDC convention), in private-use order: each
# (first lead byte, last lead byte, first trail of the first lead, first code point).
_EUDC_AREAS = (
    (0xFA, 0xFE, 0x40, 0xE000),
    (0x8E, 0xA0, 0x40, 0xE311),
    (0x81, 0x8D, 0x40, 0xEEB8),
    (0xC6, 0xC8, 0xA1, 0xF6B1),
)
_TRAILS = tuple(range(0x40, 0x7F)) + tuple(range(0xA1, 0xFF))


def _eudc_bytes(code_point: int) -> bytes | None:
    for first_lead, last_lead, first_trail, base in _EUDC_AREAS:
        skipped = _TRAILS.index(first_trail)
        position = code_point - base + skipped  # counted from the first lead's trail 0x40
        if skipped <= position < (last_lead - first_lead + 1) * len(_TRAILS):
            lead, trail = divmod(position, len(_TRAILS))
            return bytes([first_lead + lead, _TRAILS[trail]])
    return None


def _in_eudc(pair: bytes) -> bool:
    code = int.from_bytes(pair, "big")
    return any(
        (first_lead << 8 | first_trail) <= code <= (last_lead << 8 | 0xFE)
        for first_lead, last_lead, first_trail, _ in _EUDC_AREAS
    )


def encode_name(name: str) -> bytes:
    """The 20 NUL-padded Big5 bytes of `name`; ValueError if it cannot be on a card."""
    out = bytearray()
    for ch in name:
        raw = _eudc_bytes(ord(ch))
        if raw is None:
            for codec in ("big5", "cp950"):
                try:
                    raw = ch.encode(codec)
                    break
                except UnicodeEncodeError:
                    continue
            else:
                raise ValueError("a character of the name is outside Big5")
            if len(raw) == 2 and _in_eudc(raw):
                raise ValueError("a character of the name collides with the user-defined area")
        out += raw
    if len(out) > NAME_BYTES or b"\x00" in out:
        raise ValueError("the name does not fit the card's 20 bytes")
    return bytes(out).ljust(NAME_BYTES, b"\x00")


def roc_date(iso: str) -> bytes:
    day = date.fromisoformat(iso)
    if day.year <= 1911:
        raise ValueError("dates before 1912 have no ROC year")
    return f"{day.year - 1911:03d}{day.month:02d}{day.day:02d}".encode("ascii")


def build_profile(card: dict) -> bytes:
    """The 57 bytes READ PROFILE answers with (DESIGN "Cards")."""
    profile = (
        card["card_no"].encode("ascii")
        + encode_name(card["name"])
        + card["id_no"].encode("ascii")
        + roc_date(card["birth_date"])
        + card["sex"].encode("ascii")
        + roc_date(card["issued_on"])
    )
    if len(profile) != 57:
        raise ValueError("the wallet entry's card fields do not fit the profile layout")
    return profile


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the applet -----------------------------------------------------------------------------


class NhiApplet:
    """Answers command APDUs as an NHI card carrying the cardreg proof applet would."""

    def __init__(self, wallet_line: dict, mode: Mode = Mode.NORMAL) -> None:
        self.card = wallet_line["card"]
        self.mode = Mode(mode)
        self.profile = build_profile(self.card)
        self._seed = _b64url_decode(wallet_line["card_key"])
        self.selected = False

    def reset(self) -> None:
        self.selected = False

    def answer(self, apdu: bytes) -> bytes | None:
        """The response APDU, or None when the card is pulled out instead of answering."""
        if len(apdu) < 4:
            return SW_WRONG_LENGTH
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        if (cla, ins) == (0x00, 0xA4):
            return self._select(p1, p2, body)
        if (cla, ins) == (0x00, 0xCA):
            return self._read_profile(p1, p2)
        if (cla, ins) == (0x80, 0x88):
            return self._sign(p1, p2, body)
        return SW_INS_NOT_SUPPORTED if cla in (0x00, 0x80) else SW_CLA_NOT_SUPPORTED

    def _select(self, p1: int, p2: int, body: bytes) -> bytes:
        if self.mode is Mode.WRONG_CARD:
            return SW_FILE_NOT_FOUND
        if (p1, p2) != (0x04, 0x00) or not body or body[1 : 1 + body[0]] != NHI_AID:
            self.selected = False
            return SW_FILE_NOT_FOUND
        self.selected = True
        return SW_OK

    def _read_profile(self, p1: int, p2: int) -> bytes:
        if not self.selected:
            return SW_NOT_SELECTED
        if (p1, p2) != (0x11, 0x00):
            return SW_WRONG_P1P2
        return self.profile + SW_OK

    def _sign(self, p1: int, p2: int, body: bytes) -> bytes | None:
        if self.mode is Mode.REMOVE_ON_PROOF:
            return None
        if self.mode is Mode.PROFILE_ONLY or Ed25519PrivateKey is None:
            return SW_INS_NOT_SUPPORTED
        if not self.selected:
            return SW_NOT_SELECTED
        if (p1, p2) != (0, 0):
            return SW_WRONG_P1P2
        if len(body) != 34 or body[0] != 32 or body[33] != 64:
            return SW_WRONG_LENGTH
        nonce = body[1:33]
        message = AUTH_CONTEXT + nonce + self.card["card_no"].encode("ascii")
        return Ed25519PrivateKey.from_private_bytes(self._seed).sign(message) + SW_OK


# --- the vpcd link --------------------------------------------------------------------------


# When each vpcd slot last lost its card, whichever card object that was.
_emptied_at: dict[tuple[str, int], float] = {}


class VirtualNhiCard:
    """One card in vpcd's slot. `insert()` connects and serves in a thread; `remove()` pulls it.

    `mode` may be changed between reads. In the remove-* modes the card pulls itself out
    mid-read; `removed` is set whenever the card leaves the slot, for whatever reason.
    """

    def __init__(
        self,
        wallet_line: dict,
        *,
        host: str = VPCD_HOST,
        port: int = VPCD_PORT,
        mode: Mode | str = Mode.NORMAL,
    ) -> None:
        if Mode(mode) not in (Mode.PROFILE_ONLY, Mode.WRONG_CARD) and Ed25519PrivateKey is None:
            raise RuntimeError("signing needs the 'cryptography' package")
        self.applet = NhiApplet(wallet_line, Mode(mode))
        self.address = (host, port)
        self.removed = threading.Event()
        self.removed.set()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def mode(self) -> Mode:
        return self.applet.mode

    @mode.setter
    def mode(self, mode: Mode | str) -> None:
        self.applet.mode = Mode(mode)

    @property
    def inserted(self) -> bool:
        return not self.removed.is_set()

    def insert(self) -> None:
        with self._lock:
            if self.inserted:
                return
            # Not a pacing sleep: the slot must stay empty long enough for pcscd to see it.
            ready_at = _emptied_at.get(self.address, float("-inf")) + EMPTY_SLOT_SECONDS
            if (wait := ready_at - time.monotonic()) > 0:
                time.sleep(wait)
            sock = socket.create_connection(self.address, timeout=5)
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _quickack(sock)
            self.applet.reset()
            self._sock = sock
            self.removed.clear()
            self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._thread.start()

    def remove(self) -> None:
        with self._lock:
            sock, thread = self._sock, self._thread
            if sock is not None:
                _close(sock)
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=5)

    def _serve(self, sock: socket.socket) -> None:
        try:
            while (message := _receive(sock)) is not None:
                reply, leave = self._handle(message)
                if reply:
                    sock.sendall(struct.pack(">H", len(reply)) + reply)
                if leave:
                    break
        except OSError:
            pass  # the socket was closed under us: that is what removal is
        finally:
            _close(sock)
            self._sock = None
            _emptied_at[self.address] = time.monotonic()
            self.removed.set()

    def _handle(self, message: bytes) -> tuple[bytes, bool]:
        """(reply, then leave the slot); an empty reply sends nothing."""
        if len(message) == 1:
            if message[0] == CTRL_GET_ATR:
                return ATR, False
            if message[0] in (CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET):
                self.applet.reset()
            return b"", False
        reply = self.applet.answer(message)
        if reply is None:
            return b"", True
        selected = message[1] == 0xA4 and reply == SW_OK
        return reply, selected and self.applet.mode is Mode.REMOVE_AFTER_SELECT


def _quickack(sock: socket.socket) -> None:
    # Linux clears TCP_QUICKACK after a while: set it again after each receive.
    if hasattr(socket, "TCP_QUICKACK"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def _receive(sock: socket.socket) -> bytes | None:
    header = _receive_exactly(sock, 2)
    if header is None:
        return None
    return _receive_exactly(sock, struct.unpack(">H", header)[0])


def _receive_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        _quickack(sock)
        data += chunk
    return bytes(data)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already disconnected
    sock.close()


def load_wallet_line(path: Path) -> dict:
    lines = [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    if len(lines) != 1:
        raise ValueError("the card file must hold exactly one wallet line")
    return json.loads(lines[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vnhicard", description=__doc__.split("\n\n")[0])
    parser.add_argument("--card", type=Path, required=True, help="file with one wallet line")
    parser.add_argument("--host", default=VPCD_HOST)
    parser.add_argument("--port", type=int, default=VPCD_PORT)
    parser.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.NORMAL.value)
    args = parser.parse_args(argv)
    try:
        card = VirtualNhiCard(
            load_wallet_line(args.card), host=args.host, port=args.port, mode=args.mode
        )
        card.insert()
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        print(f"vnhicard: {exc}", file=sys.stderr)
        return 1
    print(f"card inserted into vpcd at {args.host}:{args.port}; Ctrl-C removes it", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.is_set() and card.inserted:
            stop.wait(0.2)
    except KeyboardInterrupt:
        pass
    card.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
