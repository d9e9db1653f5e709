"""Deciding again when a unit of work's commit found its reads stale (`Conflict`).

Each attempt reads afresh, decides, and commits; a conflict means another request changed the
same rows in between, so nothing was written and the decision is taken again on the new
state. Conflicts need two requests on one account within milliseconds: a few attempts are
plenty, and more than that answers `unavailable` rather than spinning.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from cardreg_shared.errors import ErrorCode, ServiceFailure

from .ports import Conflict

log = logging.getLogger("cardreg.registry.retry")

T = TypeVar("T")
ATTEMPTS = 8


async def until_committed(attempt: Callable[[], Awaitable[T]]) -> T:
    for _ in range(ATTEMPTS):
        try:
            return await attempt()
        except Conflict:
            continue
    log.warning("gave up after %d conflicting attempts", ATTEMPTS)
    raise ServiceFailure(ErrorCode.UNAVAILABLE)
