"""The five account languages (zh-TW, en, vi, id, th): in the contract and carried on every
mail the account gets. Storage keeps each one: storage/test_accounts.py, test_sqlite_store.py."""

from __future__ import annotations

from typing import get_args

import pytest
from cardreg_shared.models.common import Language

from .conftest import PASSWORD

FOREIGN_RESIDENTS = ("vi", "id", "th")


def test_the_contract_has_the_five_languages():
    assert get_args(Language) == ("zh-TW", "en", "vi", "id", "th")


@pytest.mark.parametrize("language", FOREIGN_RESIDENTS)
async def test_a_foreign_residents_mail_goes_out_in_their_language(
    api, identity, mail_stream, language
):
    me = identity.enrol("foreigner")
    await api.register(me, email="worker@example.com", language=language)
    token_ = (await api.login(me)).access_token
    assert (await api.account(token_)).language == language

    await api.forgot(me)
    subject, reset = await mail_stream.next_mail()
    assert (subject, reset.language) == ("mail.password_reset", language)

    other = "th" if language != "th" else "vi"
    assert (await api.update(token_, language=other)).language == other
    await api.change_password(token_, PASSWORD, "river-lantern-orchid")
    subject, notice = await mail_stream.next_mail()
    assert (subject, notice.language) == ("mail.password_changed", other)
