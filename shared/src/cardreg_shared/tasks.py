"""One bounded pool of tasks for work that runs on its own: a request being answered, a
follow-up after a reply, a mail delivery in hand.

`spawn` waits for a free slot instead of dropping the work: under a flood every caller slows
down alike, and nothing accepted is silently lost. A task nobody awaits would swallow its
failure; the pool logs it (type and stack, never the message: it may quote personal data).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from .logs import stack_of

log = logging.getLogger("cardreg.tasks")

Work = Callable[[], Awaitable[object]]


class TaskPool:
    def __init__(self, limit: int, *, name: str) -> None:
        if limit < 1:
            raise ValueError("a task pool needs at least one slot")
        self.limit = limit
        self.name = name
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        """Tasks running now."""
        return len(self._tasks)

    @property
    def free(self) -> int:
        return self.limit - len(self._tasks)

    async def room(self, slots: int = 1) -> None:
        """Return once at least `slots` slots are free."""
        slots = min(slots, self.limit)
        while self.free < slots:
            # No await between the check and the clear: a task ending in between cannot be missed.
            self._changed.clear()
            await self._changed.wait()

    async def spawn(self, work: Work) -> None:
        """Run `work()` on a task of its own, once a slot is free."""
        await self.room()
        task = asyncio.create_task(self._run(work), name=self.name)
        self._tasks.add(task)
        task.add_done_callback(self._ended)

    async def wait(self) -> None:
        """Until every task spawned so far, and any they spawned, has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._changed.set()

    async def _run(self, work: Work) -> None:
        try:
            await work()
        except Exception as exc:  # noqa: BLE001 - nobody awaits this task: log it here
            log.error("%s failed: %s", self.name, stack_of(exc))


async def within(seconds: float, step: Awaitable[object], what: str) -> bool:
    """Await a step of a stop for at most `seconds`, then cancel it: a stop that hangs on one
    part (a connection that never answers), or fails in it (the bus went away meanwhile), must
    still release the others. False, and logged with `what` the step was, when it ran over or
    failed."""
    try:
        await asyncio.wait_for(step, seconds)
    except TimeoutError:
        log.warning("stopping: %s did not finish within %.0f s; cancelled", what, seconds)
        return False
    except Exception as exc:  # noqa: BLE001 - the stop goes on; the failure's type is logged
        log.warning("stopping: %s failed (%s); going on", what, type(exc).__name__)
        return False
    return True
