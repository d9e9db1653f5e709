"""`python -m cardreg_passbook --issuer URL --client-file FILE [--port 8090]`: run the passbook.

The client's credentials come from a JSON file (`{"client_id", "client_secret"}`, as
`cardreg up --examples` writes it) or from PASSBOOK_CLIENT_ID and PASSBOOK_CLIENT_SECRET: never
from the command line, where every local user could read the secret.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import uvicorn

from .app import PassbookConfig, create_app

DEFAULT_PORT = 8090


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cardreg-passbook", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--issuer",
        default=os.environ.get("PASSBOOK_ISSUER", "http://localhost:8080"),
        help="cardreg's public base URL, the OpenID Connect issuer (default %(default)s)",
    )
    p.add_argument("--client-file", type=Path, help='JSON: {"client_id", "client_secret"}')
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("PASSBOOK_PORT", DEFAULT_PORT)))
    return p


def public_url(host: str, port: int) -> str:
    # 127.0.0.1 rather than localhost: cookies are per host, not per port, so on "localhost"
    # the passbook's session cookie would also travel to the portal.
    shown = "127.0.0.1" if host in ("127.0.0.1", "0.0.0.0", "localhost") else host
    return f"http://{shown}:{port}"


def client_credentials(path: Path | None) -> tuple[str, str]:
    if path is not None:
        data = json.loads(path.read_text())
        return data["client_id"], data["client_secret"]
    try:
        return os.environ["PASSBOOK_CLIENT_ID"], os.environ["PASSBOOK_CLIENT_SECRET"]
    except KeyError:
        raise SystemExit(
            "cardreg-passbook: give --client-file or PASSBOOK_CLIENT_ID and "
            "PASSBOOK_CLIENT_SECRET (register the client with `cardreg clients add`)"
        ) from None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    client_id, client_secret = client_credentials(args.client_file)
    config = PassbookConfig(
        issuer=args.issuer.rstrip("/"),
        client_id=client_id,
        client_secret=client_secret,
        public_url=public_url(args.host, args.port),
    )
    logging.basicConfig(level=logging.INFO, format="passbook: %(message)s")
    print(f"passbook: {config.public_url}/ (signs in through {config.issuer})", flush=True)
    uvicorn.run(
        create_app(config), host=args.host, port=args.port, log_level="warning", access_log=False
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
