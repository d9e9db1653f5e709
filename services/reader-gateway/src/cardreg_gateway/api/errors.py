"""Every error leaves as `{"error": {"code", "message", ...}}` with the code's HTTP status.

Three sources: typed failures (`ServiceFailure`, from flows or the registry), request
validation (FastAPI's, turned into 400 `invalid_request` with field locations and never the
input values) and routing (404, 405). Anything else is the edge middleware's 500.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from cardreg_shared import logs
from cardreg_shared.errors import HTTP_STATUS, ErrorCode, ServiceFailure
from cardreg_shared.logs import stack_of
from cardreg_shared.models.common import ErrorDetail, Model
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger("cardreg.gateway.errors")

MAX_FIELD_PROBLEMS = 10


class FieldProblem(Model):
    loc: list[str | int]
    msg: str
    type: str


class HttpErrorDetail(ErrorDetail):
    fields: list[FieldProblem] | None = None


class HttpErrorReply(Model):
    error: HttpErrorDetail


def failure_response(
    failure: ServiceFailure,
    *,
    fields: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    detail = HttpErrorDetail.of(failure, fields=fields)
    extra = dict(headers or {})
    if failure.retry_after is not None:
        extra["Retry-After"] = str(failure.retry_after)
    if failure.code is ErrorCode.UNAUTHORIZED:
        extra["WWW-Authenticate"] = "Bearer"
    elif failure.code is ErrorCode.INSUFFICIENT_SCOPE:
        extra["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'  # RFC 6750, 3.1
    return JSONResponse(
        HttpErrorReply(error=detail).model_dump(mode="json", exclude_none=True),
        status_code=failure.http_status,
        headers=extra,
    )


def _correlation() -> str:
    """The HTTP request's own id (set by the edge), so that the reply names its log lines."""
    return logs.correlation_id() or logs.new_correlation_id()


def internal_failure(exc: BaseException, where: str) -> ServiceFailure:
    """A 500 with a correlation id. The log names the exception type and the stack, not the
    exception's message: that may quote personal data."""
    failure = ServiceFailure(ErrorCode.INTERNAL, correlation_id=_correlation())
    log.error(
        "unexpected failure in %s correlation_id=%s: %s",
        where,
        failure.correlation_id,
        stack_of(exc),
    )
    return failure


async def on_service_failure(request: Request, exc: ServiceFailure) -> JSONResponse:
    if exc.code is ErrorCode.INTERNAL and exc.correlation_id is None:
        exc.correlation_id = _correlation()
        log.error("internal failure on %s correlation_id=%s", _where(request), exc.correlation_id)
    return failure_response(exc)


async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [_problem(err) for err in exc.errors()[:MAX_FIELD_PROBLEMS]]
    summary = "; ".join(f"{'.'.join(map(str, p.loc))}: {p.msg}" for p in problems[:3])
    failure = ServiceFailure(ErrorCode.INVALID_REQUEST)
    if summary:
        failure.message = f"{failure.message} {summary}"
    return failure_response(failure, fields=problems)


_CODE_BY_STATUS = {
    401: ErrorCode.UNAUTHORIZED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    503: ErrorCode.UNAVAILABLE,
}


async def on_http_exception(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _CODE_BY_STATUS.get(exc.status_code) or (
        ErrorCode.INVALID_REQUEST if exc.status_code < 500 else ErrorCode.INTERNAL
    )
    failure = ServiceFailure(code)
    if code is ErrorCode.INTERNAL:
        failure.correlation_id = _correlation()
        log.error(
            "HTTP %s on %s correlation_id=%s",
            exc.status_code,
            _where(request),
            failure.correlation_id,
        )
    headers = dict(exc.headers or {})  # protocol headers, such as WWW-Authenticate
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return failure_response(failure, headers=headers)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path: a path often has one route per method,
    and Starlette's own `Allow` names only the first route that matched the path."""
    routes = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceFailure, on_service_failure)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, on_http_exception)  # type: ignore[arg-type]


def _problem(err: dict[str, Any]) -> FieldProblem:
    msg = str(err.get("msg", "invalid"))
    given = err.get("input")
    # pydantic messages name rules, not values; a few (tags, enums) may quote the input.
    if isinstance(given, str) and len(given) >= 3 and given in msg:
        msg = str(err.get("type", "invalid"))
    loc = [p if isinstance(p, int) else str(p) for p in err.get("loc", ())]
    return FieldProblem(loc=loc, msg=msg, type=str(err.get("type", "invalid")))


def _where(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', '<unmatched>')}"


def error_responses(*codes: ErrorCode) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these codes, grouped by status, plus a default for the rest."""
    by_status: dict[int, list[str]] = defaultdict(list)
    for code in codes:
        by_status[HTTP_STATUS[code]].append(code.value)
    responses: dict[int | str, dict[str, Any]] = {
        status: {"model": HttpErrorReply, "description": _codes(names)}
        for status, names in sorted(by_status.items())
    }
    # A "default" also keeps FastAPI from documenting its own 422 shape, which we never send.
    responses["default"] = {
        "model": HttpErrorReply,
        "description": "Any other error in the same shape: "
        + _codes(["internal (500)", "unavailable (503)"]),
    }
    return responses


def _codes(names: Sequence[str]) -> str:
    return "Error codes: " + ", ".join(f"`{n}`" for n in names)


BODY_ERRORS = (ErrorCode.INVALID_REQUEST, ErrorCode.PAYLOAD_TOO_LARGE)
# A call on the signed-in account: a live session, an account that may use it, the scope.
BEARER_ERRORS = (
    ErrorCode.UNAUTHORIZED,
    ErrorCode.INSUFFICIENT_SCOPE,
    ErrorCode.ACCOUNT_DEACTIVATED,
)
CARD_ERRORS = (
    ErrorCode.NONCE_INVALID,
    ErrorCode.CARD_UNKNOWN,
    ErrorCode.CARD_SIGNATURE_INVALID,
    ErrorCode.CARD_DATA_MISMATCH,
    ErrorCode.CARD_REPLACED,
)
