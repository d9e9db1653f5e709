"""Configuration from the environment: common CARDREG_NATS_URL / CARDREG_DATA_DIR, the rest
under the CARDREG_REGISTRY_ prefix (e.g. CARDREG_REGISTRY_TOKEN_TTL_SECONDS=600)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cardreg_shared.bus import Credentials
from cardreg_shared.metrics import MetricsEndpoint
from cardreg_shared.postgres import is_postgres
from cardreg_shared.subjects import REGISTRY_EVENTS, Stream
from pydantic import AliasChoices, Field, FilePath, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .domain.lockout import LockoutPolicy
from .domain.reset_tokens import ResetPolicy


class RegistrySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARDREG_REGISTRY_", populate_by_name=True)

    nats_url: str = Field("nats://127.0.0.1:4222", validation_alias="CARDREG_NATS_URL")
    # Paths, not secrets: the service's NATS password (its user is the service's name) and the
    # CA that signed nats-server's certificate (TLS from the first byte). `cardreg up` sets both.
    nats_password_file: FilePath | None = Field(
        None, validation_alias=AliasChoices("CARDREG_NATS_PASSWORD_FILE", "nats_password_file")
    )
    nats_ca_file: FilePath | None = Field(
        None, validation_alias=AliasChoices("CARDREG_NATS_CA_FILE", "nats_ca_file")
    )
    # Prometheus metrics at http://<metrics_host>:<metrics_port>/metrics; off when unset.
    metrics_port: int | None = Field(None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    data_dir: Path = Field(Path("./data"), validation_alias="CARDREG_DATA_DIR")
    # Copies of each JetStream stream (and the gateway's nonce bucket): 1 on one nats-server,
    # 3 on a three-node cluster. Every service on one bus uses the same count.
    jetstream_replicas: int = Field(
        1,
        ge=1,
        le=5,
        validation_alias=AliasChoices("CARDREG_JETSTREAM_REPLICAS", "jetstream_replicas"),
    )
    # PostgreSQL instead of registry.db: postgresql://user@host/db, its schema the first of the
    # search_path (`?options=-csearch_path%3Dregistry`). A secret: it may carry a password.
    database_url: SecretStr | None = None

    # argon2id (OWASP minimum); stored hashes with other parameters are rehashed at login.
    argon2_memory_kib: int = Field(19456, ge=8)
    argon2_time_cost: int = Field(2, ge=1)
    argon2_parallelism: int = Field(1, ge=1)
    # Hashes in flight at once; 0 means one per CPU core.
    hash_concurrency: int = Field(0, ge=0)

    token_ttl_seconds: int = Field(900, ge=1)
    # Worker threads for the OpenID Connect provider's protocol logic (authlib is synchronous).
    oidc_workers: int = Field(4, ge=1, le=64)
    # An authorization code lives this long (single use; OAuth 2.0 asks for short).
    oidc_code_ttl_seconds: int = Field(60, ge=1, le=600)
    token_issuer: str = "cardreg"
    token_audience: str = "cardreg"
    # How often a running registry reads the key set again (and so notices `keys rotate`).
    keys_reload_seconds: float = Field(30.0, gt=0, le=3600)
    # The registry secret, base64url (at least 32 bytes). Unset: the file `registry-secret` in
    # the data directory, created on first start. Replicas must share one.
    secret: SecretStr | None = None

    lockout_threshold: int = Field(5, ge=1)
    lockout_base_seconds: int = Field(900, ge=1)
    lockout_cap_seconds: int = Field(86400, ge=1)
    lockout_hard_limit: int = Field(100, ge=1)

    # Shorter than a caller's usual 5 s, so it hears identity's `unavailable`, not its own timeout.
    identity_timeout_seconds: float = Field(3.0, gt=0)
    max_in_flight: int = Field(256, ge=1)

    # Where the portal is reachable: reset links are built from this, never from a request.
    # CARDREG_REGISTRY_PUBLIC_BASE_URL, else the system-wide CARDREG_PUBLIC_BASE_URL.
    public_base_url: str = Field(
        "http://127.0.0.1:8080",
        max_length=1024,
        validation_alias=AliasChoices(
            "CARDREG_REGISTRY_PUBLIC_BASE_URL", "CARDREG_PUBLIC_BASE_URL", "public_base_url"
        ),
    )
    reset_token_ttl_seconds: int = Field(1800, ge=1, le=86400)
    # Reset mails per account per window; over it the request is quietly dropped (no lock).
    reset_mail_limit: int = Field(3, ge=1)
    reset_mail_window_seconds: int = Field(3600, ge=60, le=86400)
    # Accepted reset requests a replica works off at once (a claimed batch); more wait their
    # turn in the database. Their follow-ups poll as often as the outbox relay.
    reset_follow_up_limit: int = Field(32, ge=1)
    # A replica's claim on the requests it is working off; another replica takes them after it.
    reset_follow_up_lease_seconds: float = Field(60.0, gt=0)

    outbox_poll_seconds: float = Field(1.0, gt=0)
    outbox_backoff_max_seconds: float = Field(30.0, gt=0)
    # Published rows (without their payload) are kept this long, then pruned.
    outbox_retention_seconds: int = Field(86400, ge=60)
    # A relay's claim on the rows it is publishing; another replica takes them after it.
    outbox_lease_seconds: float = Field(30.0, gt=0)
    # The REGISTRY_EVENTS stream (the audit trail) keeps events this long.
    events_retention_days: int = Field(400, ge=1)

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_postgres(value.get_secret_value()):
            raise ValueError("must be a postgresql:// URL (unset: registry.db in the data dir)")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL, e.g. https://cardreg.example.tw")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or fragment")
        return value.rstrip("/")

    @property
    def db_path(self) -> Path:
        return self.data_dir / "registry.db"

    @property
    def signing_key_path(self) -> Path:
        """The single signing key of data directories from before the key set: imported into
        the key set at the first start, read no more after that."""
        return self.data_dir / "registry-signing-key.pem"

    @property
    def secret_path(self) -> Path:
        return self.data_dir / "registry-secret"

    def events_stream(self) -> Stream:
        return replace(REGISTRY_EVENTS, max_age=timedelta(days=self.events_retention_days))

    def lockout(self) -> LockoutPolicy:
        return LockoutPolicy(
            threshold=self.lockout_threshold,
            base=timedelta(seconds=self.lockout_base_seconds),
            cap=timedelta(seconds=self.lockout_cap_seconds),
            hard_limit=self.lockout_hard_limit,
        )

    def reset_policy(self) -> ResetPolicy:
        return ResetPolicy(
            token_ttl=timedelta(seconds=self.reset_token_ttl_seconds),
            mails_per_window=self.reset_mail_limit,
            window=timedelta(seconds=self.reset_mail_window_seconds),
            public_base_url=self.public_base_url,
        )

    @property
    def nats_credentials(self) -> Credentials:
        return Credentials(self.nats_password_file, self.nats_ca_file)

    @property
    def metrics_endpoint(self) -> MetricsEndpoint | None:
        return MetricsEndpoint.of(self.metrics_port, self.metrics_host)
