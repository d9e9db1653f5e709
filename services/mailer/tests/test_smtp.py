"""The SMTP pool against a real server: reuse, reconnection, and how failures are sorted."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from cardreg_mailer.adapters.smtp import SmtpConfig, SmtpPool
from cardreg_mailer.flows.ports import DeliveryDeferred, DeliveryRefused


def config(port: int) -> SmtpConfig:
    return SmtpConfig(
        host="127.0.0.1",
        port=port,
        security="none",
        username=None,
        password=None,
        timeout=5,
        validate_certs=True,
        local_hostname="mailer.test",
    )


def message(n: int) -> bytes:
    msg = EmailMessage()
    msg["Message-ID"] = f"<m{n}@cardreg.localhost>"
    msg["Date"] = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    msg["From"] = "no-reply@cardreg.localhost"
    msg["To"] = "someone@example.com"
    msg["Subject"] = f"mail {n}"
    msg.set_content("hello")
    return bytes(msg)


async def send(pool: SmtpPool, n: int, to: str = "someone@example.com") -> None:
    await pool.send(message(n), sender="no-reply@cardreg.localhost", recipient=to)


async def test_connections_are_reused(sink):
    pool = SmtpPool(config(sink.port), size=2)
    try:
        for n in range(20):
            await send(pool, n)
    finally:
        await pool.close()
    assert len(sink.snapshot()) == 20
    assert sink.sessions == 1  # one after the other: the warm connection serves them all


async def test_a_server_restart_costs_no_mail(sink):
    pool = SmtpPool(config(sink.port), size=1)
    try:
        await send(pool, 1)
        sink.stop()
        sink.start()  # the pooled connection is dead now
        await send(pool, 2)
    finally:
        await pool.close()
    assert [r.message_id for r in sink.snapshot()] == [
        "<m1@cardreg.localhost>",
        "<m2@cardreg.localhost>",
    ]
    assert sink.sessions == 2


async def test_no_server_is_a_temporary_failure(idle_sink):
    pool = SmtpPool(config(idle_sink.port), size=1)
    with pytest.raises(DeliveryDeferred):
        await send(pool, 1)
    idle_sink.start()
    await send(pool, 2)  # and it recovers by itself
    await pool.close()
    assert len(idle_sink.snapshot()) == 1


async def test_5xx_is_final_and_4xx_is_not(sink):
    pool = SmtpPool(config(sink.port), size=1)
    sink.refuse_recipients.add("gone@example.com")
    try:
        with pytest.raises(DeliveryRefused) as refused:
            await send(pool, 1, to="gone@example.com")
        assert refused.value.reason == "recipient 550"
        sink.data_reply = "452 4.3.1 insufficient storage"
        with pytest.raises(DeliveryDeferred) as deferred:
            await send(pool, 2)
        assert deferred.value.reason == "data 452"
        sink.data_reply = "554 5.6.0 content rejected"
        with pytest.raises(DeliveryRefused):
            await send(pool, 3)
        sink.data_reply = None
        await send(pool, 4)  # the session is still good after refusals
    finally:
        await pool.close()
    assert [r.message_id for r in sink.snapshot()] == ["<m4@cardreg.localhost>"]
    assert sink.sessions == 1


async def test_refusal_reasons_never_quote_the_address(sink):
    pool = SmtpPool(config(sink.port), size=1)
    sink.refuse_recipients.add("secret.person@example.com")
    try:
        with pytest.raises(DeliveryRefused) as refused:
            await send(pool, 1, to="secret.person@example.com")
    finally:
        await pool.close()
    assert "secret" not in str(refused.value) and refused.value.__cause__ is None
