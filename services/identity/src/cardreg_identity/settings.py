"""Configuration from the environment: CARDREG_NATS_URL and CARDREG_DATA_DIR are shared by all
services; CARDREG_IDENTITY_<FIELD> overrides anything here (e.g. CARDREG_IDENTITY_DB_PATH)."""

from __future__ import annotations

from pathlib import Path

from cardreg_shared.bus import Credentials
from cardreg_shared.metrics import MetricsEndpoint
from cardreg_shared.postgres import is_postgres
from pydantic import AliasChoices, Field, FilePath, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .domain.guessing import GuessPolicy


class IdentitySettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CARDREG_IDENTITY_", extra="ignore", populate_by_name=True
    )

    # The URL may carry credentials: never log it.
    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        validation_alias=AliasChoices("CARDREG_IDENTITY_NATS_URL", "CARDREG_NATS_URL", "nats_url"),
    )
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
    data_dir: Path = Field(
        Path("./data"),
        validation_alias=AliasChoices("CARDREG_IDENTITY_DATA_DIR", "CARDREG_DATA_DIR", "data_dir"),
    )
    db_path: Path | None = None  # default: <data_dir>/identity.db
    # PostgreSQL instead of identity.db: postgresql://user@host/db, its schema the first of the
    # search_path (`?options=-csearch_path%3Didentity`). A secret: it may carry a password.
    database_url: SecretStr | None = None
    busy_timeout_ms: int = Field(5000, ge=0)
    max_in_flight: int = Field(256, ge=1)
    guess_limit: int = Field(5, ge=1)
    lock_seconds: int = Field(15 * 60, ge=1)
    max_lock_seconds: int = Field(24 * 60 * 60, ge=1)
    # Pilot mode for real NHI cards, which cannot sign our challenge (DESIGN "Cards"): accept a
    # read without proof of possession. Off by default; logged at start and on every such read.
    profile_only: bool = Field(
        False,
        validation_alias=AliasChoices(
            "CARDREG_IDENTITY_PROFILE_ONLY", "CARDREG_PROFILE_ONLY", "profile_only"
        ),
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_postgres(value.get_secret_value()):
            raise ValueError("must be a postgresql:// URL (unset: identity.db in the data dir)")
        return value

    @property
    def database(self) -> Path:
        return self.db_path or self.data_dir / "identity.db"

    @property
    def guess_policy(self) -> GuessPolicy:
        return GuessPolicy(self.guess_limit, self.lock_seconds, self.max_lock_seconds)

    @property
    def nats_credentials(self) -> Credentials:
        return Credentials(self.nats_password_file, self.nats_ca_file)

    @property
    def metrics_endpoint(self) -> MetricsEndpoint | None:
        return MetricsEndpoint.of(self.metrics_port, self.metrics_host)
