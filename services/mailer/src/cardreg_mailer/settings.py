"""Configuration from the environment: common CARDREG_NATS_URL / CARDREG_DATA_DIR, the rest
under the CARDREG_MAILER_ prefix (e.g. CARDREG_MAILER_SMTP_HOST=mail.example)."""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from cardreg_shared.bus import Credentials
from cardreg_shared.metrics import MetricsEndpoint
from cardreg_shared.postgres import is_postgres
from pydantic import AliasChoices, Field, FilePath, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .domain.retry import RetryPolicy


class MailerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARDREG_MAILER_", populate_by_name=True)

    # The URL may carry credentials: never log it.
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
    # PostgreSQL instead of mailer.db, shared by every mailer replica: postgresql://user@host/db,
    # its schema the first of the search_path. A secret: it may carry a password.
    database_url: SecretStr | None = None

    smtp_host: str = "localhost"
    smtp_port: int = Field(25, ge=1, le=65535)
    # none: plain SMTP (a local catcher); starttls: upgrade on the submission port; tls: 465.
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    smtp_validate_certs: bool = True
    # The EHLO name; None asks the OS for this host's FQDN.
    smtp_local_hostname: str | None = None
    mail_from: str = "cardreg <no-reply@cardreg.localhost>"
    # Shown in the notices' "if it was not you" line, e.g. a service desk number; empty: none.
    support_contact: str = ""

    # Reused SMTP connections, i.e. mails in flight at once.
    connections: int = Field(4, ge=1, le=64)
    max_attempts: int = Field(10, ge=1)
    backoff_base_seconds: float = Field(1.0, gt=0)
    backoff_cap_seconds: float = Field(300.0, gt=0)
    # JetStream redelivers a message not acked within this; in-progress acks extend it.
    ack_wait_seconds: float = Field(60.0, ge=1)
    # How long one pull waits for new requests; also how long shutdown may wait for it.
    fetch_wait_seconds: float = Field(1.0, gt=0, le=30)
    # Sent request ids are kept this long, so a republished request is still recognised.
    ledger_retention_days: int = Field(30, ge=1)

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_postgres(value.get_secret_value()):
            raise ValueError("must be a postgresql:// URL (unset: mailer.db in the data dir)")
        return value

    @field_validator("mail_from")
    @classmethod
    def _a_mailbox(cls, value: str) -> str:
        _, addr_spec = parseaddr(value)
        if "@" not in addr_spec or not Address(addr_spec=addr_spec).domain:
            raise ValueError("mail_from needs an address such as 'cardreg <no-reply@example.org>'")
        return value

    @property
    def db_path(self) -> Path:
        return self.data_dir / "mailer.db"

    @property
    def sender_address(self) -> str:
        """The bare address of `mail_from`: the SMTP envelope sender."""
        return parseaddr(self.mail_from)[1]

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            base_seconds=self.backoff_base_seconds,
            cap_seconds=self.backoff_cap_seconds,
            max_attempts=self.max_attempts,
        )

    @property
    def nats_credentials(self) -> Credentials:
        return Credentials(self.nats_password_file, self.nats_ca_file)

    @property
    def metrics_endpoint(self) -> MetricsEndpoint | None:
        return MetricsEndpoint.of(self.metrics_port, self.metrics_host)
