"""Prometheus metrics of every service of `cardreg up`: scraped before and after real traffic
(registration, logins, a lock, a reset mail), the counters moved, and no label or value
carries anything personal."""

from __future__ import annotations

import re
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from .system import RunningSystem, error_code

PASSWORD = "lantern-orchard-river"
EMAIL = "metrics-person@example.com"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def endpoints(system: RunningSystem) -> dict[str, str]:
    """service -> metrics URL, as `cardreg up` printed them."""
    lines = system.log.read_text(errors="replace").splitlines()
    (line,) = [x for x in lines if x.strip().startswith("metrics:")][-1:]
    found = dict(re.findall(r"(\w+) (http://\S+/metrics)", line))
    assert set(found) == {"gateway", "identity", "registry", "mailer"}, line
    return found


def scrape(url: str) -> tuple[str, Samples]:
    reply = httpx.get(url, timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return reply.text, samples


def total(samples: Samples, name: str, /, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def scrape_all(system: RunningSystem) -> dict[str, tuple[str, Samples]]:
    return {service: scrape(url) for service, url in endpoints(system).items()}


def test_every_service_counts_the_traffic_and_labels_nothing_personal(
    system, people, portal, mailbox
):
    before = {s: samples for s, (_, samples) in scrape_all(system).items()}

    me, locked = people.citizen(), people.citizen()
    assert portal.register(me, PASSWORD, email=EMAIL).status_code == 201
    assert portal.register(locked, PASSWORD).status_code == 201
    assert portal.login(me, PASSWORD).status_code == 201
    codes = [error_code(portal.login(locked, "not-the-password")) for _ in range(5)]
    assert codes[-1] == "account_locked"
    assert portal.forgot(me).status_code == 202
    mailbox.wait_for(EMAIL)
    # A raw path full of personal data must not become a label.
    assert portal.http.get(f"/api/v1/people/{me.card.id_no}/{me.card.name}").status_code == 404

    # Mail counters and gauges are settled shortly after the reply; wait for the mailer.
    deadline = time.monotonic() + 20
    while True:
        after = scrape_all(system)
        sent = total(after["mailer"][1], "cardreg_mails_total", outcome="sent")
        if sent > total(before["mailer"], "cardreg_mails_total", outcome="sent"):
            break
        assert time.monotonic() < deadline, "the mailer's sent counter never moved"
        time.sleep(0.2)

    def delta(where: str, name: str, /, **labels: str) -> float:
        return total(after[where][1], name, **labels) - total(before[where], name, **labels)

    # The gateway: routes by template, and what it asked on the bus.
    assert (
        delta("gateway", "cardreg_http_requests_total", route="/api/v1/sessions", status="201") >= 1
    )
    assert delta("gateway", "cardreg_http_requests_total", route="<unmatched>", status="404") >= 1
    assert (
        delta("gateway", "cardreg_http_request_duration_seconds_count", route="/api/v1/sessions")
        >= 6
    )
    assert (
        delta("gateway", "cardreg_bus_client_requests_total", subject="registry.session.create")
        >= 6
    )
    # The registry: per subject with outcome, logins, the lock, the outbox.
    served = {"service": "registry", "subject": "registry.session.create"}
    assert delta("registry", "cardreg_bus_requests_total", outcome="ok", **served) >= 1
    assert delta("registry", "cardreg_bus_requests_total", outcome="account_locked", **served) >= 1
    assert delta("registry", "cardreg_bus_request_duration_seconds_count", **served) >= 6
    assert delta("registry", "cardreg_logins_total", outcome="ok") >= 1
    assert delta("registry", "cardreg_logins_total", outcome="invalid_credentials") >= 4
    assert delta("registry", "cardreg_account_locks_total") >= 1
    assert delta("registry", "cardreg_outbox_published_total") >= 1
    registry = after["registry"][1]
    for gauge in ("cardreg_argon2_waiting", "cardreg_argon2_running", "cardreg_outbox_backlog"):
        assert (gauge, frozenset()) in registry, gauge
    assert ("cardreg_outbox_lag_seconds", frozenset()) in registry
    # identity answered the registry's card checks.
    assert delta("identity", "cardreg_bus_requests_total", service="identity", outcome="ok") >= 7
    # The mailer: the mail, and its consumer's lag.
    assert delta("mailer", "cardreg_mails_total", outcome="sent") >= 1
    lag = frozenset({("stream", "MAIL"), ("consumer", "mailer")})
    assert ("cardreg_jetstream_consumer_pending", lag) in after["mailer"][1]
    assert ("cardreg_jetstream_consumer_ack_pending", lag) in after["mailer"][1]
    # Process metrics everywhere.
    for service, (_, samples) in after.items():
        assert total(samples, "process_cpu_seconds_total") > 0, service
        assert total(samples, "process_resident_memory_bytes") > 0, service

    secrets = {PASSWORD, EMAIL, "not-the-password"}
    for entry in people.all:
        secrets |= {entry.card.id_no, entry.card.card_no, entry.card.name, entry.card_key}
    for service, (text, samples) in after.items():
        labels = {value for _, ls in samples for _, value in ls}
        assert not [s for s in secrets if any(s in value for value in labels)], service
        assert not [s for s in secrets if s in text], service
        routes = {value for _, ls in samples for key, value in ls if key == "route"}
        assert all(r == "<unmatched>" or r.startswith("/") for r in routes), routes
        assert not any(re.search(r"\d{6,}", r) for r in routes), routes
