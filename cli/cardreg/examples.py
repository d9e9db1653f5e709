"""`cardreg up --examples`: the example relying service (`examples/passbook/`) beside the system.

Its client is registered with `cardreg clients add` the first time (and again when its redirect
URI changed or the client was removed); the id and secret are kept in
`DATA_DIR/examples/passbook-client.json` (owner-only, as everything `cardreg up` writes), which
the passbook reads, so the secret is never on a command line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .supervisor import Child

CLIENT_NAME = "My health passbook (example)"
SCOPES = ("openid", "profile")


class ExampleError(RuntimeError):
    pass


def passbook_url(port: int) -> str:
    # 127.0.0.1, not localhost: cookies are per host, and the portal is on localhost.
    return f"http://127.0.0.1:{port}"


def _clients(args: list[str], data_dir: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cardreg_registry.clients_cli", "--data-dir", str(data_dir), *args],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise ExampleError(f"cardreg clients {args[0]} failed: {done.stderr.strip()}")
    return done.stdout


def ensure_client(data_dir: Path, port: int, env: dict[str, str]) -> Path:
    """The passbook's client file, registering the client when it is not (or no longer) there."""
    path = data_dir / "examples" / "passbook-client.json"
    redirect_uri = f"{passbook_url(port)}/callback"
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        kept = None
    if kept is not None and kept.get("redirect_uri") == redirect_uri:
        listed = _clients(["list"], data_dir, env)
        if any(line.split()[:1] == [kept["client_id"]] for line in listed.splitlines()):
            return path
    scopes = [arg for scope in SCOPES for arg in ("--scope", scope)]
    out = _clients(
        ["add", "--name", CLIENT_NAME, "--redirect-uri", redirect_uri, *scopes], data_dir, env
    )
    values = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(
        json.dumps(
            {
                "client_id": values["client_id"],
                "client_secret": values["client_secret"],
                "redirect_uri": redirect_uri,
            }
        )
    )
    path.chmod(0o600)
    return path


def passbook_child(issuer: str, client_file: Path, port: int, env: dict[str, str], ready) -> Child:
    return Child(
        "passbook",
        lambda: [
            sys.executable,
            "-m",
            "cardreg_passbook",
            "--issuer",
            issuer,
            "--client-file",
            str(client_file),
            "--port",
            str(port),
        ],
        ready,
        env=env,
    )
