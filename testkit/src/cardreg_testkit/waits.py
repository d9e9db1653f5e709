"""Waiting on a condition, never on a fixed sleep: tests stay timing-tolerant."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


async def wait_until(
    condition: Callable[[], object | Awaitable[object]], *, timeout: float = 20.0, what: str = ""
) -> None:
    """Poll a sync or async condition until it holds; fail the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.02)


def poll_until(condition: Callable[[], T], what: str, *, timeout: float = 20.0) -> T:
    """The blocking kind, for threads and subprocess harnesses: the condition's first truthy
    value; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.05)
    return result
