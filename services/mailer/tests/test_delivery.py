"""The mailer end to end: requests on the real MAIL stream, mail to a real SMTP server."""

from __future__ import annotations

import logging
from html.parser import HTMLParser

from cardreg_shared import logs
from cardreg_shared.models.mail import MailerStatsReply


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href"]


def mailer_log(caplog) -> str:
    """What the mailer's side logged (the test's SMTP server, `mail.log`, logs addresses)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")


async def test_a_reset_request_becomes_exactly_one_mail(lab, sink, caplog):
    # DEBUG everywhere, libraries quietened as every service's logs.configure does.
    caplog.set_level(logging.DEBUG)
    for name in logs.QUIET:
        caplog.set_level(logging.INFO, logger=name)
    mail = lab.reset(reset_url="https://portal.example/reset?token=T0k3n_abc-DEF&lang=zh-TW")
    async with lab.mailer(sink):
        await lab.publish(mail)
        await lab.wait_for(lambda: len(sink.snapshot()) == 1, what="the mail")
        await lab.wait_for(lab.settled, what="the ack")
        stats = await lab.stats()

    [received] = sink.snapshot()
    message = received.message
    assert received.rcpt_tos == ("mei.lin@example.com",)
    assert received.mail_from == "no-reply@cardreg.localhost"
    assert message["To"] == "mei.lin@example.com"
    assert message["From"] == "cardreg <no-reply@cardreg.localhost>"
    assert message["Subject"] == "「健保卡網路服務註冊」重設註冊密碼"
    assert message["Message-ID"] == f"<{mail.request_id}@cardreg.localhost>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert mail.reset_url in text.split()
    links = Links()
    links.feed(html)
    assert links.hrefs and set(links.hrefs) == {mail.reset_url}
    assert "30 分鐘" in text and "30 分鐘" in html
    assert stats == MailerStatsReply(sent=1, duplicates_skipped=0, retries=0, dead_lettered=0)
    logged = mailer_log(caplog)
    assert mail.request_id in logged and "outcome=sent" in logged
    for secret in ("mei.lin", "example.com", "T0k3n_abc-DEF", "portal.example"):
        assert secret not in logged


async def test_the_same_request_published_twice_is_sent_once(lab, sink):
    mail = lab.changed(language="en", how="reset")
    async with lab.mailer(sink):
        await lab.publish(mail, msg_id="outbox-1")
        await lab.publish(mail, msg_id="outbox-2")  # another Nats-Msg-Id: the stream keeps both
        await lab.wait_for(lab.settled, what="both acked")
        stats = await lab.stats()

    [received] = sink.snapshot()
    assert received.message_id == f"<{mail.request_id}@cardreg.localhost>"
    assert received.message["Subject"].endswith("your registration password was reset")
    assert (stats.sent, stats.duplicates_skipped) == (1, 1)


async def test_mail_waits_while_smtp_is_down_then_each_arrives_once(lab, idle_sink):
    mails = [lab.reset() for _ in range(12)]
    async with lab.mailer(idle_sink, max_attempts=1000):
        for mail in mails:
            await lab.publish(mail)

        async def retried() -> bool:
            return (await lab.stats()).retries >= 2 * len(mails)

        await lab.wait_for(retried, what="retries while SMTP is down")
        assert await lab.waiting() == len(mails)  # nothing acked while nothing was accepted
        idle_sink.start()
        await lab.wait_for(lab.settled, what="every mail accepted and acked")
        stats = await lab.stats()

    copies = idle_sink.by_request()
    assert set(copies) == {f"<{m.request_id}@cardreg.localhost>" for m in mails}
    assert set(copies.values()) == {1}
    assert (stats.sent, stats.dead_lettered) == (len(mails), 0)
    assert await lab.dead_letters() == []


async def test_an_unreadable_request_is_dead_lettered_and_the_mailer_goes_on(lab, sink):
    mail = lab.reset()
    async with lab.mailer(sink):
        await lab.js.publish("mail.password_reset", b'{"not": "a request"}')
        await lab.js.publish("mail.unheard_of", mail.model_dump_json().encode())
        await lab.js.publish("mail.password_changed", b"\xff\xfe binary")
        await lab.publish(mail)
        await lab.wait_for(lab.settled, what="all settled")
        stats = await lab.stats()

    letters = await lab.dead_letters()
    assert sorted((subject, letter.reason) for subject, letter in letters) == [
        ("deadletter.mail.password_changed", "unreadable"),
        ("deadletter.mail.password_reset", "unreadable"),
        ("deadletter.mail.unheard_of", "unreadable"),
    ]
    first = next(letter for subject, letter in letters if subject.endswith("password_reset"))
    assert first.payload == '{"not": "a request"}' and first.attempts == 1
    assert [r.message_id for r in sink.snapshot()] == [f"<{mail.request_id}@cardreg.localhost>"]
    assert (stats.dead_lettered, stats.sent) == (3, 1)


async def test_a_recipient_refused_with_550_is_dead_lettered_at_once(lab, sink):
    refused = lab.reset(to="gone@example.com")
    sink.refuse_recipients.add("gone@example.com")
    async with lab.mailer(sink):
        await lab.publish(refused)
        await lab.wait_for(lab.settled, what="settled")
        stats = await lab.stats()

    [(subject, letter)] = await lab.dead_letters()
    assert subject == "deadletter.mail.password_reset"
    assert letter.reason == "refused: recipient 550"
    assert letter.attempts == 1
    assert refused.request_id in letter.payload  # the original, to publish again
    assert sink.snapshot() == []
    assert (stats.dead_lettered, stats.retries, stats.sent) == (1, 0, 0)


async def test_temporary_failures_end_in_a_dead_letter_after_max_attempts(lab, sink):
    sink.data_reply = "451 4.3.0 try again later"
    async with lab.mailer(sink, max_attempts=3):
        await lab.publish(lab.reset())
        await lab.wait_for(lab.settled, what="given up")
        stats = await lab.stats()

    [(_, letter)] = await lab.dead_letters()
    assert letter.attempts == 3
    assert letter.reason == "attempts exhausted: data 451"
    assert (stats.retries, stats.dead_lettered, stats.sent) == (2, 1, 0)
    assert sink.snapshot() == []


async def test_a_request_that_cannot_be_sent_as_it_stands_is_dead_lettered(lab, sink):
    bad_link = lab.reset(reset_url="javascript:alert(1)")
    bad_address = lab.changed(to="someone@example.com\r\nBcc: many@example.com")
    async with lab.mailer(sink):
        await lab.publish(bad_link)
        await lab.publish(bad_address)
        await lab.wait_for(lab.settled, what="settled")

    reasons = sorted(letter.reason for _, letter in await lab.dead_letters())
    assert reasons == ["invalid reset_url", "invalid to"]
    assert sink.snapshot() == []


async def test_counters_and_ledger_survive_a_restart(lab, sink):
    mail = lab.reset()
    async with lab.mailer(sink):
        await lab.publish(mail)
        await lab.wait_for(lab.settled, what="sent")
    async with lab.mailer(sink):
        await lab.publish(mail)  # republished after the restart: the ledger remembers
        await lab.wait_for(lab.settled, what="skipped")
        stats = await lab.stats()
    assert (stats.sent, stats.duplicates_skipped) == (1, 1)
    assert len(sink.snapshot()) == 1


async def test_stopping_settles_every_mail_in_hand(lab, sink):
    sink.data_delay = 0.1  # slow sends, so several are in hand when the stop comes
    mails = [lab.reset() for _ in range(30)]
    async with lab.mailer(sink, connections=2):
        for mail in mails:
            await lab.publish(mail)
        await lab.wait_for(lambda: len(sink.snapshot()) >= 2, what="the first mails")
    # Stopped: nothing is left held unacknowledged, nothing was sent twice, the rest waits.
    consumer = await lab.js.consumer_info("MAIL", "mailer")
    assert consumer.num_ack_pending == 0
    delivered = sink.by_request()
    assert set(delivered.values()) == {1}
    assert await lab.waiting() == len(mails) - len(delivered) > 0

    async with lab.mailer(sink):
        await lab.wait_for(lab.settled, what="the rest after a restart")
    assert len(sink.by_request()) == len(mails) and set(sink.by_request().values()) == {1}


async def test_a_deleted_consumer_is_restored_and_mail_flows_again(lab, sink):
    async with lab.mailer(sink):
        await lab.js.delete_consumer("MAIL", "mailer")
        mail = lab.reset()
        await lab.publish(mail)
        await lab.wait_for(lambda: len(sink.snapshot()) == 1, what="the mail after the restore")
    assert sink.snapshot()[0].message_id == f"<{mail.request_id}@cardreg.localhost>"
