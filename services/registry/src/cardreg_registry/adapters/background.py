"""Work a flow finishes after it has replied: a bounded set of tasks, awaited on stop.

When the bound is reached, `spawn` waits for a slot instead of dropping the work: under a
flood the replies slow down for everyone alike, and no accepted request is silently lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from cardreg_shared.logs import stack_of

log = logging.getLogger("cardreg.registry.background")


class BackgroundWork:
    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task] = set()

    async def spawn(self, work: Callable[[], Awaitable[None]]) -> None:
        await self._slots.acquire()
        task = asyncio.create_task(self._run(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self) -> None:
        """Until every task spawned so far (and any they spawn) has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        # Nobody awaits this task: log here, or the failure vanishes.
        except Exception as exc:  # noqa: BLE001 - logged with its stack
            log.error("background work failed: %s", stack_of(exc))
        finally:
            self._slots.release()
