"""`cardreg clients`: the relying services (OpenID Connect clients) an admin registers.

    cardreg clients add --name N --redirect-uri URI [--redirect-uri URI ...] [--scope S ...]
                        [--public] [--data-dir DIR]
    cardreg clients list [--data-dir DIR]
    cardreg clients remove CLIENT_ID [--data-dir DIR]

`add` prints the client id, and for a confidential client (the default) its secret, once: only
its hash is kept. Scopes default to `openid profile email phone`; `nhi_id` (the ID number) is
granted only when named. Redirect URIs are matched exactly. `remove` ends
every sign-in of the client at once (its grants, codes, refresh tokens and consents go).
With CARDREG_REGISTRY_DATABASE_URL set the clients are those of the registry on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

from .app import open_storage, utc_now
from .domain.keys import ALGORITHMS, EDDSA
from .domain.oidc import (
    DEFAULT_CLIENT_SCOPES,
    OidcClient,
    OidcScope,
    hash_secret,
    new_secret,
    oidc_scope_text,
)
from .settings import RegistrySettings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cardreg clients", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--data-dir", type=Path, help="the registry's data directory (default: CARDREG_DATA_DIR)"
    )
    sub = p.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="register a client; prints its id (and secret)")
    add.add_argument("--name", required=True)
    add.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")
    add.add_argument(
        "--scope",
        action="append",
        dest="scopes",
        choices=[scope.value for scope in OidcScope],
        help="a scope the client may ask for (repeat; default: openid profile email phone)",
    )
    add.add_argument("--public", action="store_true", help="no secret (PKCE alone)")
    add.add_argument(
        "--id-token-alg",
        choices=ALGORITHMS,
        default=EDDSA,
        help="how its id_tokens are signed (default EdDSA; RS256 for clients that need it)",
    )
    add.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS)
    listing = sub.add_parser("list", help="every client")
    listing.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS)
    remove = sub.add_parser("remove", help="remove a client and end its sign-ins")
    remove.add_argument("client_id")
    remove.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS)
    return p


def redirect_uri_problem(uri: str) -> str | None:
    """Why a redirect URI cannot be registered (RFC 6749 3.1.2, OAuth 2.0 Security BCP)."""
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        return "a redirect URI has no fragment"
    if parts.scheme == "https" and parts.netloc:
        return None
    if parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1"):
        return None
    return "a redirect URI is https, or http on localhost or a loopback address"


async def run(args: argparse.Namespace) -> int:
    settings = RegistrySettings()
    if args.data_dir is not None:
        settings = settings.model_copy(update={"data_dir": args.data_dir})
    if args.action == "add":
        for uri in args.redirect_uris:
            problem = redirect_uri_problem(uri)
            if problem:
                print(f"cardreg clients: {problem}: {uri}", file=sys.stderr)
                return 2
    elif settings.database_url is None and not settings.db_path.exists():
        print(f"cardreg clients: no registry data in {settings.data_dir}", file=sys.stderr)
        return 1
    storage, _ = await open_storage(settings)
    try:
        uow = storage.unit_of_work()
        if args.action == "add":
            scopes = (
                frozenset(OidcScope(s) for s in args.scopes) | {OidcScope.OPENID}
                if args.scopes
                else DEFAULT_CLIENT_SCOPES
            )
            secret = None if args.public else new_secret()
            client = OidcClient(
                client_id=secrets.token_urlsafe(16),
                name=args.name,
                redirect_uris=tuple(dict.fromkeys(args.redirect_uris)),
                scopes=frozenset(scopes),
                created_at=utc_now(),
                secret_hash=None if secret is None else hash_secret(secret),
                id_token_alg=args.id_token_alg,
            )
            uow.clients.add(client)
            await uow.commit()
            print(f"client_id {client.client_id}")
            if secret is not None:
                print(f"client_secret {secret}")
                print("the secret is shown once; only its hash is kept", file=sys.stderr)
            return 0
        if args.action == "list":
            print(f"{'client_id':<24}  {'kind':<12}  {'scopes':<40}  name / redirect URIs")
            for client in await uow.clients.all():
                kind = "public" if client.public else "confidential"
                print(
                    f"{client.client_id:<24}  {kind:<12}  {oidc_scope_text(client.scopes):<40}"
                    f"  {client.name}"
                )
                for uri in client.redirect_uris:
                    print(f"{'':<82}  {uri}")
            return 0
        removed = uow.clients.remove(args.client_id)
        await uow.commit()
        if not removed.count:
            print(f"cardreg clients: no client {args.client_id}", file=sys.stderr)
            return 1
        print(f"removed client {args.client_id}")
        return 0
    finally:
        await storage.close()


def clients_main(argv: list[str]) -> int:
    return asyncio.run(run(parser().parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(clients_main(sys.argv[1:]))
