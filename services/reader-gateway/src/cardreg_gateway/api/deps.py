"""What route handlers get injected: the running gateway and the caller's bearer token."""

from __future__ import annotations

import re
from typing import Annotated

from cardreg_shared.errors import ErrorCode, ServiceFailure
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..app import Gateway

# RFC 6750 b64token; JWTs fit. Anything else is refused here, without asking the registry.
_TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]{1,4096}=*$")

bearer = HTTPBearer(
    auto_error=False,
    description="The access token from `POST /api/v1/sessions`.",
)


async def gateway(request: Request) -> Gateway:
    # async: a plain function would be run on a worker thread, a hop on every request.
    running = getattr(request.app.state, "gateway", None)
    if running is None:  # start-up not finished, or shutting down
        raise ServiceFailure(ErrorCode.UNAVAILABLE)
    return running


async def access_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    if credentials is None or not _TOKEN.fullmatch(credentials.credentials):
        raise ServiceFailure(ErrorCode.UNAUTHORIZED)
    return credentials.credentials


GatewayDep = Annotated[Gateway, Depends(gateway)]
TokenDep = Annotated[str, Depends(access_token)]
