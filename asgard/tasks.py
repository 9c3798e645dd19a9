"""Stopping background tasks: every loop Asgard starts ends the same way."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel the tasks, then wait until each has ended, whatever it ended with: a loop
    being shut down has nothing left to report, and must not outlive its owner."""
    running = [t for t in tasks if t is not None]
    for task in running:
        task.cancel()
    for task in running:
        with contextlib.suppress(BaseException):
            await task
