"""Two mailers on one PostgreSQL ledger and one MAIL stream, every request published twice
(under two message ids, so the stream keeps both copies): each mail arrives once."""

from __future__ import annotations

from contextlib import AsyncExitStack


async def test_two_mailers_racing_over_copies_send_each_mail_once(lab, sink, postgres_url):
    mails = [lab.reset() for _ in range(15)] + [lab.changed() for _ in range(15)]
    async with AsyncExitStack() as stack:
        for _ in range(2):
            await stack.enter_async_context(lab.mailer(sink, database_url=postgres_url))
        for mail in mails:
            await lab.publish(mail)
            await lab.publish(mail)
        await lab.wait_for(lab.settled, what="every copy acked", timeout=30)
        stats = await lab.stats()

    copies = sink.by_request()
    assert sorted(copies) == sorted(f"<{m.request_id}@cardreg.localhost>" for m in mails)
    assert set(copies.values()) == {1}
    # The counters are the shared ledger's: both mailers' work, whichever answers.
    assert (stats.sent, stats.duplicates_skipped) == (30, 30)
