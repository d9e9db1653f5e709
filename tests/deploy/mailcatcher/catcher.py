"""A stand-in for the `local-mail` profile's Mailpit, for the compose boot test only.

No registry is reachable where the tests run, so the image under Mailpit's name is built here:
this file and aiosmtpd (with its two pure-Python dependencies) on the test's Debian base. It
speaks the part of Mailpit's interface the test uses, so the test would read a real Mailpit the
same way: SMTP on `MP_SMTP_BIND_ADDR` (default 0.0.0.0:1025), and on `MP_UI_BIND_ADDR`
(default 0.0.0.0:8025) `GET /readyz`, `GET /api/v1/messages` (newest first, as Mailpit) and
`GET /api/v1/message/{ID}` with the `Text` and `HTML` bodies. Mail stays in memory.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import threading
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


class Mailbox:
    """Every message accepted, in order of arrival."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's handler hook
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self._messages.append(_summary(parsed, envelope.rcpt_tos))
        return "250 OK"

    def listing(self) -> dict[str, Any]:
        with self._lock:
            newest_first = [
                {k: v for k, v in m.items() if k not in ("Text", "HTML")}
                for m in reversed(self._messages)
            ]
        return {"total": len(newest_first), "count": len(newest_first), "messages": newest_first}

    def message(self, message_id: str) -> dict[str, Any] | None:
        with self._lock:
            return next((m for m in self._messages if m["ID"] == message_id), None)


def _summary(message: EmailMessage, recipients: list[str]) -> dict[str, Any]:
    def body(kind: str) -> str:
        part = message.get_body(preferencelist=(kind,))
        return "" if part is None else str(part.get_content())

    return {
        "ID": uuid.uuid4().hex,
        "MessageID": str(message.get("Message-ID", "")).strip("<>"),
        "From": {"Name": "", "Address": str(message.get("From", ""))},
        "To": [{"Name": "", "Address": address} for address in recipients],
        "Subject": str(message.get("Subject", "")),
        "Created": datetime.now(UTC).isoformat(),
        "Text": body("plain"),
        "HTML": body("html"),
    }


def _api(mailbox: Mailbox) -> type[BaseHTTPRequestHandler]:
    class Api(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/readyz":
                self._reply(200, {"ready": True})
            elif self.path.split("?")[0] == "/api/v1/messages":
                self._reply(200, mailbox.listing())
            elif self.path.startswith("/api/v1/message/"):
                found = mailbox.message(self.path.rsplit("/", 1)[1])
                self._reply(200, found) if found else self._reply(404, {"error": "not found"})
            else:
                self._reply(404, {"error": "not found"})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test polls: one line per poll would drown the container's log

    return Api


def _address(variable: str, default: str) -> tuple[str, int]:
    host, _, port = os.environ.get(variable, default).rpartition(":")
    return host or "0.0.0.0", int(port)


def main() -> None:
    mailbox = Mailbox()
    smtp_host, smtp_port = _address("MP_SMTP_BIND_ADDR", "0.0.0.0:1025")
    smtp = Controller(mailbox, hostname=smtp_host, port=smtp_port)
    smtp.start()
    http = ThreadingHTTPServer(_address("MP_UI_BIND_ADDR", "0.0.0.0:8025"), _api(mailbox))
    # PID 1 in its container: without a handler SIGTERM is ignored and `stop` waits it out.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=http.shutdown).start())
    print(f"smtp {smtp_host}:{smtp_port}, http {http.server_address}", flush=True)
    try:
        http.serve_forever()
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
