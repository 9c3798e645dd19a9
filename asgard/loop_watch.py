"""A watch on the event loop: a warning when it answers late, because something blocked it.

Every ``interval`` the watch asks to be woken ``interval`` later, and measures how late
it was woken. Work that holds the loop (a zip unpacked in a request, a big file read at
once) shows as one warning line with how long the loop was held, and the longest lag
seen is kept for ``/metrics``-style inspection and tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Final

import structlog
from aiohttp import web

from asgard.tasks import cancel_and_wait

__all__ = ["LOOP_WATCH", "LoopWatch", "watch_loop"]

log = structlog.get_logger(__name__)

INTERVAL_S: Final = 0.05


class LoopWatch:
    def __init__(self, warn_s: float, interval_s: float = INTERVAL_S) -> None:
        self.warn_s = warn_s
        self.interval_s = interval_s
        self.longest_s = 0.0
        """The longest lag seen since the watch started."""
        self.turns = 0
        """How many times the watch measured."""

    async def run(self) -> None:
        """Not a ``PeriodicLoop``: what it measures is how late its own sleep ends, and it
        has no step that could fail."""
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(self.interval_s)
            lag = loop.time() - asked - self.interval_s
            self.longest_s = max(self.longest_s, lag)
            self.turns += 1
            if lag >= self.warn_s:
                log.warning("the event loop was blocked", lag_ms=round(lag * 1000))


LOOP_WATCH = web.AppKey("loop_watch", LoopWatch)


def watch_loop(warn_s: float) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running a ``LoopWatch`` (none when ``warn_s`` is 0)."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        if warn_s <= 0:
            yield
            return
        watch = app[LOOP_WATCH] = LoopWatch(warn_s)
        task = asyncio.create_task(watch.run(), name="loop-watch")
        yield
        await cancel_and_wait(task)

    return context
