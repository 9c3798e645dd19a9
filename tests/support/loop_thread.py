"""An asyncio loop in a thread of its own, for servers that must outlive one test.

The browser tests are synchronous (Playwright's sync API runs its own loop in the main
thread), while the Kubernetes emulator and the Mesos fakes are aiohttp servers that need
a loop turning for as long as the module's ``asgard serve`` talks to them. They live here,
and a test hands this loop a coroutine to run when it changes something behind Asgard's back.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

T = TypeVar("T")

__all__ = ["LoopThread"]


class LoopThread:
    """A running loop; ``run`` waits for a coroutine on it, ``enter`` keeps a context open
    until ``close``, which leaves them in reverse order and stops the loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._stack = contextlib.AsyncExitStack()
        self._thread = threading.Thread(target=self._turn, name="test-servers", daemon=True)
        self._thread.start()

    def _turn(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, awaitable: Awaitable[T], timeout_s: float = 120) -> T:
        async def wrapped() -> T:
            return await awaitable

        future = asyncio.run_coroutine_threadsafe(wrapped(), self.loop)
        return future.result(timeout_s)

    def enter(self, context: AbstractAsyncContextManager[T], timeout_s: float = 180) -> T:
        return self.run(self._stack.enter_async_context(context), timeout_s)

    def close(self) -> None:
        try:
            self.run(self._stack.aclose(), 120)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(30)
            self.loop.close()
