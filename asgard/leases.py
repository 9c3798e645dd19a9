"""Background work that one Asgard process does at a time, among all sharing a database.

The scheduler, the workflow runner and the reconciler are each a ``LeasedLoop``:
every ``every_s`` (or at once when poked), the process holding the loop's lease runs
one step; the others only keep asking for the lease, which outlives a few missed
steps (``ttl_s``) so that a process that died is replaced, and one that is merely
busy is not. A step that fails is logged and the loop goes on: one bad pass must not
stop the work for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog

from asgard.db.engine import Database
from asgard.db.job_records import LeaseStore
from asgard.tasks import cancel_and_wait

__all__ = ["LeasedLoop", "process_holder"]

log = structlog.get_logger(__name__)


def process_holder(owner: object) -> str:
    """A lease holder's name: unique to this process and this object."""
    return f"{socket.gethostname()}:{os.getpid()}:{id(owner):x}"


class LeasedLoop:
    def __init__(
        self,
        db: Database,
        lease: str,
        step: Callable[[], Awaitable[object]],
        *,
        every_s: float,
        ttl_s: float,
        holder: str,
    ) -> None:
        self.db = db
        self.lease = lease
        self.step = step
        self.every_s = every_s
        self.ttl = timedelta(seconds=ttl_s)
        self.holder = holder
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @classmethod
    def ticking(
        cls,
        db: Database,
        lease: str,
        step: Callable[[], Awaitable[object]],
        *,
        tick_s: float,
        holder: str,
    ) -> LeasedLoop:
        """A loop that looks every ``tick_s`` (a second or so), whose lease outlives five
        missed ticks, and ten seconds at least."""
        return cls(db, lease, step, every_s=tick_s, ttl_s=max(10.0, tick_s * 5), holder=holder)

    def poke(self) -> None:
        """Something changed: look now, not at the next tick."""
        self._wake.set()

    async def lead(self) -> bool:
        """Take or keep the lease."""
        async with self.db.writing() as session:
            return await LeaseStore(session).acquire(self.lease, self.holder, self.ttl)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._forever(), name=self.lease)

    async def close(self) -> None:
        """Stop, and let go of the lease so another process may take it at once."""
        await cancel_and_wait(self._task)
        self._task = None
        with contextlib.suppress(Exception):
            async with self.db.writing() as session:
                await LeaseStore(session).release(self.lease, self.holder)

    async def _forever(self) -> None:
        structlog.contextvars.clear_contextvars()
        while True:
            try:
                if await self.lead():
                    await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(f"{self.lease} failed", error=str(exc) or type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.every_s):
                    await self._wake.wait()
            self._wake.clear()
