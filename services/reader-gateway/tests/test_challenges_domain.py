"""Pure challenge rules: nonce size, store key, ticket encoding and expiry."""

from __future__ import annotations

import hashlib

from cardreg_gateway.domain.challenges import USED, Ticket, new_nonce, nonce_key


def test_nonce_is_256_random_bits() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(len(n) == 32 for n in nonces)


def test_key_is_sha256_hex_of_the_raw_nonce() -> None:
    raw = bytes(range(32))
    assert nonce_key(raw) == hashlib.sha256(raw).hexdigest()
    assert raw.hex() not in nonce_key(raw)


def test_ticket_round_trips_and_expires() -> None:
    ticket = Ticket(expires_at=1000.5)
    assert Ticket.decode(ticket.encode()) == ticket
    assert ticket.is_live(1000.0)
    assert not ticket.is_live(1000.5)


def test_used_marker_and_garbage_are_no_ticket() -> None:
    for value in (USED, b"", b"{", b"[]", b'{"exp": "soon"}', b'{"exp": true}', b"\xff", b"7"):
        assert Ticket.decode(value) is None
