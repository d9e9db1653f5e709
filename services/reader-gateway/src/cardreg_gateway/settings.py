"""Configuration from the environment: common CARDREG_NATS_URL, the rest under the
CARDREG_GATEWAY_ prefix (e.g. CARDREG_GATEWAY_HTTP_PORT=8080)."""

from __future__ import annotations

from cardreg_shared.bus import Credentials, replicated
from cardreg_shared.metrics import MetricsEndpoint
from cardreg_shared.subjects import READER_EVENTS, Stream
from pydantic import AliasChoices, AnyHttpUrl, Field, FilePath, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARDREG_GATEWAY_", populate_by_name=True)

    nats_url: str = Field("nats://127.0.0.1:4222", validation_alias="CARDREG_NATS_URL")
    # Paths, not secrets: the service's NATS password (its user is the service's name) and the
    # CA that signed nats-server's certificate (TLS from the first byte). `cardreg up` sets both.
    nats_password_file: FilePath | None = Field(
        None, validation_alias=AliasChoices("CARDREG_NATS_PASSWORD_FILE", "nats_password_file")
    )
    nats_ca_file: FilePath | None = Field(
        None, validation_alias=AliasChoices("CARDREG_NATS_CA_FILE", "nats_ca_file")
    )

    http_host: str = "127.0.0.1"
    # 0 picks a free port (the chosen one is logged).
    http_port: int = Field(8080, ge=0, le=65535)
    # The counter console and the operator API listen apart from the public portal, so that a
    # firewall can keep them to the counters' network. 0 picks a free port; None: not served.
    operator_host: str = "127.0.0.1"
    operator_port: int | None = Field(8081, ge=0, le=65535)
    # Prometheus metrics: at /metrics on the HTTP listeners when unset; set, they move to
    # http://<metrics_host>:<metrics_port>/metrics alone (a port a firewall keeps to the
    # monitoring network) and the HTTP listeners answer /metrics 404.
    metrics_port: int | None = Field(None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"

    # DESIGN: nonces are single use and live at most 120 s.
    nonce_ttl_seconds: int = Field(120, ge=1, le=120)
    # The used challenges (a hash each, kept as long as a nonce can live) and the keys nonces
    # are tagged with: both shared by every replica.
    nonce_bucket: str = Field("used_nonces", pattern=r"^[A-Za-z0-9_-]+$")
    challenge_key_bucket: str = Field("challenge_keys", pattern=r"^[A-Za-z0-9_-]+$")
    # A new challenge key this often; the one before stays accepted until the next rotation.
    challenge_key_rotate_seconds: float = Field(86400.0, ge=600)
    # Copies of each JetStream stream (and the gateway's nonce bucket): 1 on one nats-server,
    # 3 on a three-node cluster. Every service on one bus uses the same count.
    jetstream_replicas: int = Field(
        1,
        ge=1,
        le=5,
        validation_alias=AliasChoices("CARDREG_JETSTREAM_REPLICAS", "jetstream_replicas"),
    )
    request_timeout_seconds: float = Field(5.0, gt=0, le=60)
    # Ready (`/readyz`) means connected to NATS and these services answering discovery: the
    # ones the gateway sends requests to.
    required_services: tuple[str, ...] = ("registry",)
    max_body_bytes: int = Field(64 * 1024, ge=1024, le=1024 * 1024)
    # The OpenID Connect token endpoint, per peer address and client id, per replica.
    oidc_token_rate_per_second: float = Field(5.0, gt=0, le=1000)
    oidc_token_burst: int = Field(20, ge=1, le=10_000)

    # Pilot mode for real NHI cards without our proof of possession (DESIGN "Cards"): off by
    # default, and logged loudly when on.
    profile_only: bool = Field(
        False,
        validation_alias=AliasChoices(
            "CARDREG_GATEWAY_PROFILE_ONLY", "CARDREG_PROFILE_ONLY", "profile_only"
        ),
    )
    # Where the portal is reachable, as people and relying services reach it: the OpenID
    # Connect issuer and the base of every endpoint the discovery document names (never taken
    # from a request's Host header). CARDREG_GATEWAY_PUBLIC_BASE_URL, else the system-wide
    # CARDREG_PUBLIC_BASE_URL (`cardreg up` sets it).
    public_base_url: AnyHttpUrl = Field(
        AnyHttpUrl("http://127.0.0.1:8080"),
        validation_alias=AliasChoices(
            "CARDREG_GATEWAY_PUBLIC_BASE_URL", "CARDREG_PUBLIC_BASE_URL", "public_base_url"
        ),
    )
    # Swagger UI at /docs; the OpenAPI document itself is always served.
    docs_enabled: bool = True

    # Where the portal's pages find the reader agent on the user's PC. The portal's CSP allows
    # connections to this origin only (besides its own), so it is an origin: no path.
    agent_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:7777")

    @field_validator("agent_url")
    @classmethod
    def _agent_origin_only(cls, url: AnyHttpUrl) -> AnyHttpUrl:
        if url.path not in (None, "", "/") or url.query or url.fragment or url.username:
            raise ValueError("the agent URL is an origin: scheme, host and port only")
        return url

    @property
    def agent_origin(self) -> str:
        """`http://127.0.0.1:7777`: what the browser sends as Origin, and what CSP names."""
        url = self.agent_url
        default_port = {"http": 80, "https": 443}[url.scheme]
        port = "" if url.port in (None, default_port) else f":{url.port}"
        return f"{url.scheme}://{url.host}{port}"

    def streams(self) -> list[Stream]:
        """The streams the gateway publishes to, with the configured copies."""
        return replicated([READER_EVENTS], self.jetstream_replicas)

    @property
    def issuer(self) -> str:
        """The OpenID Connect issuer: the public base URL without a trailing slash."""
        return str(self.public_base_url).rstrip("/")

    @property
    def nats_credentials(self) -> Credentials:
        return Credentials(self.nats_password_file, self.nats_ca_file)

    @property
    def metrics_endpoint(self) -> MetricsEndpoint | None:
        return MetricsEndpoint.of(self.metrics_port, self.metrics_host)
