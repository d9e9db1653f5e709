"""The registry's own Prometheus metrics (the common ones are in `cardreg_shared.metrics`).

Labels are outcomes from the code (`ok` or an error code), never anything about an account.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

LOGINS = Counter(
    "cardreg_logins", "Login attempts (registry.session.create) by outcome", ["outcome"]
)
LOCKS = Counter("cardreg_account_locks", "Accounts locked after too many wrong passwords")
ARGON2_WAITING = Gauge("cardreg_argon2_waiting", "Password hashes waiting for a free core")
ARGON2_RUNNING = Gauge("cardreg_argon2_running", "Password hashes being computed")
OUTBOX_BACKLOG = Gauge("cardreg_outbox_backlog", "Outbox rows not yet handed to JetStream")
OUTBOX_LAG = Gauge(
    "cardreg_outbox_lag_seconds", "Age of the oldest outbox row not yet handed to JetStream"
)
OUTBOX_PUBLISHED = Counter("cardreg_outbox_published", "Outbox rows handed to JetStream")
OUTBOX_FAILURES = Counter("cardreg_outbox_relay_failures", "Relay passes that failed")
