"""The mailer's own Prometheus metrics (the common ones are in `cardreg_shared.metrics`)."""

from __future__ import annotations

from prometheus_client import Counter

MAILS = Counter(
    "cardreg_mails",
    "Mail deliveries settled, by outcome: sent, retried, dead_lettered, duplicate_skipped",
    ["outcome"],
)
