"""A small pool of reused SMTP connections (aiosmtplib).

Reusing connections is most of SMTP throughput (one connection per mail costs the greeting,
EHLO, maybe TLS and AUTH every time). A connection is opened on first use, kept while it works
and dropped when it breaks; a mail that found its reused connection closed by the server is
tried once more on a fresh one straight away.

Failures are sorted for the flow: the server refusing this mail with a 5xx is final
(`DeliveryRefused`); anything else, from a refused TCP connection to a 4xx or a failed login,
may pass (`DeliveryDeferred`). Reasons are class names and codes only: aiosmtplib's messages
can quote the addresses.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiosmtplib
from pydantic import SecretStr

from ..flows.ports import DeliveryDeferred, DeliveryRefused

log = logging.getLogger("cardreg.mailer.smtp")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # none | starttls | tls
    username: str | None
    password: SecretStr | None
    timeout: float
    validate_certs: bool
    local_hostname: str | None


class _Connection:
    """One SMTP session, opened lazily."""

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self._client: aiosmtplib.SMTP | None = None

    @property
    def is_open(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def send(self, data: bytes, sender: str, recipient: str) -> None:
        reused = self.is_open
        try:
            await self._send_once(data, sender, recipient)
        except DeliveryDeferred as exc:
            if not (reused and exc.reason == "SMTPServerDisconnected"):
                raise
            # The server closed an idle connection under us: not this mail's fault.
            await self._send_once(data, sender, recipient)

    async def _send_once(self, data: bytes, sender: str, recipient: str) -> None:
        client = await self._open()
        try:
            await client.sendmail(sender, [recipient], data)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            code = exc.recipients[0].code if exc.recipients else 0
            raise _by_code(code, "recipient") from None
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:  # the server is closing this session
                await self.close()
            raise _by_code(exc.code, _stage(exc)) from None
        except aiosmtplib.SMTPNotSupported:
            raise DeliveryRefused("SMTPNotSupported") from None
        except ValueError:
            # An address aiosmtplib will not put on the wire; checked before sending anything.
            raise DeliveryRefused("address") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Disconnected, timed out mid-dialogue, socket errors: the session is unusable.
            await self.close()
            raise DeliveryDeferred(type(exc).__name__) from None

    async def _open(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        config = self._config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password.get_secret_value() if config.password else None,
            local_hostname=config.local_hostname,
            timeout=config.timeout,
            use_tls=config.security == "tls",
            start_tls=config.security == "starttls",
            validate_certs=config.validate_certs,
        )
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            # A configuration problem, not the mail's: keep it for a retry after the fix.
            log.error("smtp login refused code=%d", exc.code)
            client.close()
            raise DeliveryDeferred(f"auth {exc.code}") from None
        except aiosmtplib.SMTPResponseException as exc:
            client.close()
            raise DeliveryDeferred(f"connect {exc.code}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            raise DeliveryDeferred(type(exc).__name__) from None
        self._client = client
        return client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        if client.is_connected:
            try:
                await asyncio.wait_for(client.quit(), timeout=2)
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()
        else:
            client.close()


def _stage(exc: aiosmtplib.SMTPResponseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return "sender"
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return "data"
    return "response"


def _by_code(code: int, stage: str) -> DeliveryDeferred | DeliveryRefused:
    reason = f"{stage} {code}"
    return DeliveryRefused(reason) if 500 <= code < 600 else DeliveryDeferred(reason)


class SmtpPool:
    """`size` connections; a send waits for a free one, so at most `size` mails are in flight."""

    def __init__(self, config: SmtpConfig, size: int) -> None:
        self._connections = [_Connection(config) for _ in range(size)]
        self._idle: asyncio.LifoQueue[_Connection] = asyncio.LifoQueue()
        for connection in self._connections:
            self._idle.put_nowait(connection)

    async def send(self, data: bytes, *, sender: str, recipient: str) -> None:
        # LIFO: under light load the same warm connection serves, the others may idle out.
        connection = await self._idle.get()
        try:
            await connection.send(data, sender, recipient)
        finally:
            self._idle.put_nowait(connection)

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self._connections))
