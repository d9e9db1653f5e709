"""Recovery and settings flows log ids and outcomes, never tokens, addresses or passwords.

Run at DEBUG, with the libraries that log statement parameters held at INFO exactly as the
service's log set-up does (`cardreg_shared.logs.QUIET`)."""

from __future__ import annotations

import logging

import jwt
import pytest
from cardreg_shared.logs import QUIET

from .conftest import PASSWORD, token_of

NEW_PASSWORD = "river-lantern-orchid"
NEWER_PASSWORD = "copper-kettle-meadow"


@pytest.fixture
def debug_logs(caplog):
    levels = {name: logging.getLogger(name).level for name in QUIET}
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.INFO)
    caplog.set_level(logging.DEBUG)
    yield caplog
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_no_token_address_or_password_in_the_logs(
    debug_logs, api, identity, registry, mail_stream
):
    me, other = identity.enrol("citizen"), identity.enrol("foreigner")
    await api.register(me, email="mei.lin@example.com", phone="0912345678")
    await api.register(other)

    await api.forgot(me)
    _, link = await mail_stream.next_mail()
    token = token_of(link.reset_url)
    await api.failure(api.complete(token, "password"))  # weak
    await api.complete(token, NEW_PASSWORD)
    await api.failure(api.complete(token, NEW_PASSWORD))  # used
    await mail_stream.next_mail()  # the notice

    await api.forgot(other, residence=other.residence, email="ana.given@example.org")
    _, other_link = await mail_stream.next_mail()
    await api.complete(token_of(other_link.reset_url), NEW_PASSWORD)

    access = (await api.login(me, NEW_PASSWORD)).access_token
    await api.failure(api.change_password(access, "wrong-password-here", NEWER_PASSWORD))
    await api.change_password(access, NEW_PASSWORD, NEWER_PASSWORD)
    await api.update(access, email="mei.new@example.net", phone="+886 2 2345 6789")
    await api.failure(api.update(access, email="broken@@example.net"))
    await registry.settled()
    for _ in range(3):  # the notices, published by the relay (which logs too)
        await mail_stream.next_mail()

    text = debug_logs.text
    assert "link queued" in text and "password changed" in text  # the flows did log
    secrets = [
        token,
        token_of(other_link.reset_url),
        "mei.lin",
        "ana.given",
        "mei.new",
        "broken@@",
        "0912345678",
        "0223456789",
        "2345 6789",
        PASSWORD,
        NEW_PASSWORD,
        NEWER_PASSWORD,
        "wrong-password-here",
        access,
        jwt.decode(access, options={"verify_signature": False})["jti"],
        me.id_no,
        other.id_no,
        me.card.fields.card_no,
        me.person_id,
    ]
    leaked = [s for s in secrets if s in text]
    assert not leaked
