"""Background work that one Asgard process does at a time, among all sharing a database.

The scheduler, the workflow runner, the reconciler, the audit log's retention and the
backends' janitors are each a ``LeasedLoop``: the loop every background task is
(``asgard.loops.PeriodicLoop``, with its error policy), whose step runs only in the
process holding the loop's lease. Every ``every_s`` (or at once when poked) each
process asks for the lease, and the holder runs one step; the lease outlives a few
missed steps (``ttl_s``) so that a process that died is replaced, and one that is
merely busy is not.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Mapping
from datetime import timedelta

import structlog

from asgard.db.engine import Database
from asgard.db.job_records import LeaseStore
from asgard.loops import PeriodicLoop, Step

__all__ = ["LeasedLoop", "Leases", "process_holder"]

log = structlog.get_logger(__name__)


def process_holder(owner: object) -> str:
    """A lease holder's name: unique to this process and this object."""
    return f"{socket.gethostname()}:{os.getpid()}:{id(owner):x}"


class LeasedLoop:
    def __init__(
        self,
        db: Database,
        lease: str,
        step: Step,
        *,
        every_s: float,
        ttl_s: float,
        holder: str | None = None,
        log_context: Mapping[str, str] | None = None,
    ) -> None:
        self.db = db
        self.lease = lease
        self.step = step
        self.ttl = timedelta(seconds=ttl_s)
        self.holder = holder or process_holder(self)
        self.leading = False
        """Whether the last look found this process holding the lease."""
        self.loop = PeriodicLoop(
            lease, self._step_if_leading, every_s=every_s, log_context=log_context
        )

    @classmethod
    def ticking(
        cls,
        db: Database,
        lease: str,
        step: Step,
        *,
        tick_s: float,
        holder: str | None = None,
        log_context: Mapping[str, str] | None = None,
    ) -> LeasedLoop:
        """A loop that looks every ``tick_s`` (a second or so), whose lease outlives five
        missed ticks, and ten seconds at least."""
        return cls(
            db,
            lease,
            step,
            every_s=tick_s,
            ttl_s=max(10.0, tick_s * 5),
            holder=holder,
            log_context=log_context,
        )

    def poke(self) -> None:
        """Something changed: look now, not at the next tick."""
        self.loop.poke()

    async def lead(self) -> bool:
        """Take or keep the lease."""
        async with self.db.writing() as session:
            leading = await LeaseStore(session).acquire(self.lease, self.holder, self.ttl)
        if leading != self.leading:
            # Which process does the work, and since when: what an operator asks first.
            log.info(
                "lease taken" if leading else "lease lost", lease=self.lease, holder=self.holder
            )
        self.leading = leading
        return leading

    async def _step_if_leading(self) -> None:
        if await self.lead():
            await self.step()

    async def start(self) -> None:
        await self.loop.start()

    async def close(self) -> None:
        """Stop, and let go of the lease so another process may take it at once."""
        await self.loop.close()
        self.leading = False
        with contextlib.suppress(Exception):
            async with self.db.writing() as session:
                await LeaseStore(session).release(self.lease, self.holder)


class Leases:
    """The ``LoopFactory`` the server gives the backends (``BackendContext.loops``): each
    loop holds a lease of its own name in ``db``, outliving three missed periods and ten
    seconds at least. ``made`` is told of each, so that shutdown gives the leases up as
    soon as it begins."""

    def __init__(self, db: Database, made: Callable[[LeasedLoop], None] | None = None) -> None:
        self.db = db
        self.made = made

    def __call__(
        self, name: str, step: Step, *, every_s: float, log_context: Mapping[str, str]
    ) -> LeasedLoop:
        loop = LeasedLoop(
            self.db,
            name,
            step,
            every_s=every_s,
            ttl_s=max(10.0, every_s * 3),
            log_context=log_context,
        )
        if self.made is not None:
            self.made(loop)
        return loop
