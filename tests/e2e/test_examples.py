"""`cardreg up --examples`: the passbook runs beside the system, its client registered once
(and kept across restarts), its URL announced; its sign-in sends the browser to cardreg's
authorization endpoint with PKCE (S256), a nonce and its exact redirect URI."""

from __future__ import annotations

import json
import stat
from urllib.parse import parse_qs, urlsplit

import httpx

from .system import RunningSystem, free_port


def test_up_with_examples_runs_the_passbook_and_registers_it_once(tmp_path):
    port = free_port()
    system = RunningSystem(tmp_path / "data")
    extra = ("--examples", "--examples-port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        system.start(extra=extra)
        assert f"passbook (example relying service): {url}/" in system.log.read_text()
        client_file = system.data_dir / "examples" / "passbook-client.json"
        assert stat.S_IMODE(client_file.stat().st_mode) == 0o600
        client_id = json.loads(client_file.read_text())["client_id"]

        start = httpx.get(f"{url}/", timeout=10)
        assert start.status_code == 200 and "Sign in with your NHI card" in start.text
        assert "script-src" not in start.headers["content-security-policy"]
        login = httpx.get(f"{url}/login", timeout=10)
        assert login.status_code == 302
        target = urlsplit(login.headers["location"])
        assert f"{target.scheme}://{target.netloc}{target.path}" == (
            f"{system.public_url}/oauth2/authorize"
        )
        query = parse_qs(target.query)
        assert query["client_id"] == [client_id]
        assert query["redirect_uri"] == [f"{url}/callback"]
        assert query["code_challenge_method"] == ["S256"] and query["nonce"][0]
        assert query["scope"] == ["openid profile"]
        assert system.stop() == 0

        system.start(extra=extra)  # the same client again, not a second one
        assert json.loads(client_file.read_text())["client_id"] == client_id
        listed = system.cardreg("clients", "--data-dir", str(system.data_dir), "list").stdout
        assert listed.count("My health passbook (example)") == 1
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    finally:
        system.stop()
    # the passbook stopped with the rest
    try:
        httpx.get(f"{url}/healthz", timeout=2)
        raise AssertionError("the passbook outlived cardreg up")
    except httpx.ConnectError:
        pass
