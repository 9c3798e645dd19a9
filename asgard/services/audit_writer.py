"""Writing audit entries behind the requests, so that recording a write never delays nor
fails it.

A request hands its entry over (``record``, which never waits and never raises) and is
answered at once; one loop per process (a ``PeriodicLoop`` whose step waits for the
first entry, so it runs back to back) takes what has gathered and writes it in one
transaction. When the database cannot take them (it is down, or slower than
``timeout_s``), the entries are dropped and a warning names their request ids: the
writes themselves were answered by their own outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Final

import structlog

from asgard.db.audit import AuditStore
from asgard.db.engine import Database, unavailable
from asgard.loops import PeriodicLoop
from asgard.models.audit import AuditEntry

__all__ = ["AuditWriter"]

log = structlog.get_logger(__name__)

MAX_PENDING: Final = 10_000
"""Entries waiting at most: past this the database has been away long, and memory matters more."""
BATCH: Final = 500
LINGER_S: Final = 0.05
"""How long the writer lets entries gather after the first: one transaction for many
writes, rather than one each, which a busy process would feel."""
DRAIN_S: Final = 5.0
"""On shutdown, how long what is still waiting may take to be written."""


def _reason(error: BaseException) -> str:
    typed = unavailable(error)
    if typed is not None:
        return typed.reason
    return type(error).__name__


class AuditWriter:
    def __init__(self, db: Database, *, timeout_s: float = 5.0) -> None:
        self.db = db
        self.timeout_s = timeout_s
        self._queue: asyncio.Queue[AuditEntry] = asyncio.Queue(MAX_PENDING)
        self.loop = PeriodicLoop("audit-writer", self._write_gathered, every_s=0.0)

    def record(self, entry: AuditEntry) -> None:
        try:
            self._queue.put_nowait(entry)
        except asyncio.QueueFull:
            self._lost([entry], "too many entries wait for the database")

    async def settled(self, timeout_s: float) -> None:
        """Wait (``timeout_s`` at most) until what was recorded so far is written or lost:
        a reader in this process then sees the writes it was answered for."""
        if not self.loop.running:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._queue.join()

    async def start(self) -> None:
        await self.loop.start()

    async def close(self) -> None:
        await self.settled(DRAIN_S)
        await self.loop.close()
        left = [self._queue.get_nowait() for _ in range(self._queue.qsize())]
        if left:
            self._lost(left, "Asgard stopped before they were written")

    async def _write_gathered(self) -> None:
        """Wait for an entry, let others gather behind it, and write them."""
        batch = [await self._queue.get()]
        try:
            await asyncio.sleep(LINGER_S)
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)
        finally:
            for _ in batch:
                self._queue.task_done()

    async def _write(self, batch: Sequence[AuditEntry]) -> None:
        try:
            await self._insert(batch)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if unavailable(error) is not None or len(batch) == 1:
                self._lost(batch, _reason(error))
                return
            for entry in batch:  # one bad entry must not take the others with it
                try:
                    await self._insert([entry])
                except Exception as single:
                    self._lost([entry], _reason(single))

    async def _insert(self, batch: Sequence[AuditEntry]) -> None:
        async with asyncio.timeout(self.timeout_s), self.db.writing() as session:
            await AuditStore(session).add(batch)

    @staticmethod
    def _lost(entries: Sequence[AuditEntry], reason: str) -> None:
        """Named by what cannot hold a secret: request id, resource, action, status."""
        log.warning(
            "audit entries lost",
            reason=reason,
            count=len(entries),
            entries=[f"{e.request_id} {e.resource} {e.action} {e.status}" for e in entries[:20]],
        )
