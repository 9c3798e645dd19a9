"""The loop watch reports a loop held past its bound, and not one that turns freely."""

from __future__ import annotations

import asyncio
import time

from structlog.testing import capture_logs

from asgard.loop_watch import LoopWatch


async def test_a_held_loop_is_reported_with_how_long() -> None:
    watch = LoopWatch(warn_s=0.1, interval_s=0.01)
    task = asyncio.create_task(watch.run())
    try:
        with capture_logs() as logs:
            while watch.turns == 0:
                await asyncio.sleep(0.01)  # the watch has started measuring
            time.sleep(0.3)  # noqa: ASYNC251 (what a zip unpacked on the loop did: hold it)
            while watch.turns < 3:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
    assert watch.longest_s >= 0.25
    held = [e for e in logs if e["event"] == "the event loop was blocked"]
    assert any(e["lag_ms"] >= 250 for e in held), held
