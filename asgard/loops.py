"""Every periodic background task, with one error policy.

A loop written by hand is a new error policy each time, and the ones Asgard had
disagreed: some caught only ``AsgardError`` and died silently on anything else, some
retried at once forever, some backed off. ``PeriodicLoop`` is the one shape: it runs a
step every ``every_s`` (or at once when poked), logs every failure as a warning naming
the loop (with the traceback when the failure is not one Asgard expects), waits longer
after each failure in a row (doubling, capped, with jitter so that loops broken
together do not retry together), never ends except when cancelled, and stops cleanly
(``close`` cancels it and waits for it).

Work that must run once per deployment (the scheduler, janitors, retention) is the
leased form, ``asgard.leases.LeasedLoop``: the same loop, stepping only while this
process holds the lease. Backends get either through ``BackendContext.leased``, as a
``LoopFactory``: leased where the server has a database, plain where it has none.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Final, Protocol

import structlog

from asgard.errors import AsgardError
from asgard.tasks import cancel_and_wait

__all__ = [
    "FIRST_BACKOFF_S",
    "MAX_BACKOFF_S",
    "Loop",
    "LoopFactory",
    "PeriodicLoop",
    "Step",
    "Waits",
    "unleased",
    "until",
]

log = structlog.get_logger(__name__)

FIRST_BACKOFF_S: Final = 1.0
"""The wait after a first failure (never shorter than the loop's own period)."""
MAX_BACKOFF_S: Final = 30.0
"""The longest wait failures alone make: a loop whose work comes back (a database
restarted, a cluster that answers again) resumes within this."""

Step = Callable[[], Awaitable[object]]
Interval = float | Callable[[], float]
"""Seconds between steps (``math.inf``: only when poked), or how to tell them each time."""
Waits = Callable[[asyncio.Event, float], Awaitable[None]]
"""How a loop waits: for the event, ``seconds`` at most. Tests give their own clock."""


async def until(event: asyncio.Event, seconds: float) -> None:
    """Wait for ``event``, ``seconds`` at most (for ever when infinite)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(None if math.isinf(seconds) else seconds):
            await event.wait()


def _jitter() -> float:
    return random.uniform(0.5, 1.0)


class Loop(Protocol):
    """What owns a loop needs of it: start it, poke it, stop it."""

    def poke(self) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class LoopFactory(Protocol):
    """Makes the loop of work that must run once per deployment: a ``LeasedLoop`` in the
    server, which has a database; a plain ``PeriodicLoop`` where there is none."""

    def __call__(
        self, name: str, step: Step, *, every_s: float, log_context: Mapping[str, str]
    ) -> Loop: ...


class PeriodicLoop:
    def __init__(
        self,
        name: str,
        step: Step,
        *,
        every_s: Interval,
        wait_first: bool = False,
        spread_first: bool = False,
        coalesce_s: float = 0.0,
        first_backoff_s: float = FIRST_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        expected: tuple[type[Exception], ...] = (AsgardError,),
        log_context: Mapping[str, str] | None = None,
        waits: Waits = until,
        jitter: Callable[[], float] = _jitter,
    ) -> None:
        """``wait_first``: the first step comes after one period, not at start.
        ``spread_first``: after a random part of one period instead, so that the loops
        of a fleet started together (a thousand clusters' probes) step spread over the
        period, not all in the same second of it.
        ``coalesce_s``: after a poke, wait this long so that a burst of pokes is one step.
        ``expected``: failures logged without their traceback (what a cluster or the
        database not answering raises; anything else is a bug worth its traceback).
        ``log_context``: bound to every line the step logs (the cluster it works on)."""
        self.name = name
        self.step = step
        self.every_s = every_s
        self.wait_first = wait_first
        self.spread_first = spread_first
        self.coalesce_s = coalesce_s
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        self.expected = expected
        self.log_context = dict(log_context or {})
        self.waits = waits
        self.jitter = jitter
        self.failures = 0
        """Steps that failed in a row, since the last that did not (or ``recovered``)."""
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # what owners call

    def poke(self) -> None:
        """Something changed: step now, not after the rest of the wait (back-off included:
        whoever pokes knows the work may go through again)."""
        self._woken.set()

    def recovered(self) -> None:
        """The step works again, though it has not returned (a stream it follows
        connected): a failure after this backs off from the start again."""
        self.failures = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=self.name)

    async def close(self) -> None:
        """Stop: cancel the step or the wait, and return once the loop has ended."""
        await cancel_and_wait(self._task)
        self._task = None

    # the loop

    def interval_s(self) -> float:
        return self.every_s() if callable(self.every_s) else self.every_s

    def backoff_s(self) -> float:
        """The wait after ``failures`` failures in a row: doubling from
        ``first_backoff_s`` up to ``max_backoff_s``, jittered down to half, and never
        shorter than the loop's own period."""
        grown = min(self.first_backoff_s * 2.0 ** min(self.failures - 1, 32), self.max_backoff_s)
        period = self.interval_s()
        return max(0.0 if math.isinf(period) else period, grown * self.jitter())

    async def run(self) -> None:
        """Step and wait, until cancelled. What ``start`` runs as a task."""
        structlog.contextvars.clear_contextvars()  # not the request that started it
        structlog.contextvars.bind_contextvars(**self.log_context)
        if self.wait_first or self.spread_first:
            share = random.random() if self.spread_first else 1.0
            await self._pause(self.interval_s() * share)
        while True:
            self._woken.clear()
            try:
                await self.step()
            except Exception as exc:
                self.failures += 1
                wait_s = self.backoff_s()
                self._failed(exc, wait_s)
            else:
                self.failures = 0
                wait_s = self.interval_s()
            await self._pause(wait_s)

    async def _pause(self, seconds: float) -> None:
        await self.waits(self._woken, seconds)
        if self._woken.is_set() and self.coalesce_s > 0:
            await self.waits(asyncio.Event(), self.coalesce_s)

    def _failed(self, exc: Exception, wait_s: float) -> None:
        expected = isinstance(exc, self.expected)
        message = exc.msg if isinstance(exc, AsgardError) else str(exc)
        log.warning(
            f"{self.name} failed",
            error=message or type(exc).__name__,
            failures=self.failures,
            retry_in_s=round(wait_s, 2),
            exc_info=None if expected else exc,
        )


def unleased(
    name: str, step: Step, *, every_s: float, log_context: Mapping[str, str]
) -> PeriodicLoop:
    """Once-per-deployment work where there is no database to hold a lease in (a one-off
    command, a test that builds a cluster by hand): this process is the deployment."""
    return PeriodicLoop(name, step, every_s=every_s, log_context=log_context)
