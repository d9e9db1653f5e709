"""mailer.stats.get on the real nats-server: a typed reply, a typed error, never a timeout."""

from __future__ import annotations

import json

from cardreg_shared.models.common import ErrorReply
from cardreg_shared.models.mail import MailerStatsReply
from cardreg_shared.subjects import MAILER_STATS
from nats.micro.request import ERROR_CODE_HEADER, ERROR_HEADER


async def test_stats_answers_with_the_counters(lab, sink):
    async with lab.mailer(sink):
        reply = await lab.stats()
        raw = await lab.nc.request(MAILER_STATS.name, b"{}", timeout=2)
    assert reply == MailerStatsReply(sent=0, duplicates_skipped=0, retries=0, dead_lettered=0)
    assert set(json.loads(raw.data)) == {"sent", "duplicates_skipped", "retries", "dead_lettered"}


async def test_malformed_stats_requests_get_invalid_request(lab, sink):
    async with lab.mailer(sink):
        for body in (b"not json", b'{"unexpected": 1}', b"[]"):
            reply = await lab.nc.request(MAILER_STATS.name, body, timeout=2)
            assert reply.headers[ERROR_HEADER] == "invalid_request"
            assert reply.headers[ERROR_CODE_HEADER] == "400"
            assert ErrorReply.model_validate_json(reply.data).error.code == "invalid_request"


async def test_the_service_is_discoverable_as_mailer(lab, sink):
    async with lab.mailer(sink):
        info = json.loads((await lab.nc.request("$SRV.INFO.mailer", b"", timeout=2)).data)
    assert info["name"] == "mailer"
    assert [e["subject"] for e in info["endpoints"]] == ["mailer.stats.get"]
