"""A circuit breaker per cluster: a cluster known to be down answers lists at once.

Without it, every ``/agents`` over a fleet with one dead cluster waits that
cluster's whole timeout, on every request, for an answer everybody already
knows. The breaker *opens* when ``trip_after`` reads in a row timed out or
found the cluster unreachable, nothing from the cluster has succeeded for
``down_after_s``, and its change feed is not connected: a cluster that is only
slow, or busy, still answers something now and then, and is never cut off.
While open, reads of the cluster fail at once with the last error (same kind,
so the fan-out reports it as before, and a message that says it was not asked
again). While open, one probe at a time asks the cluster
for its version in the background, every ``retry_s``; the first probe that
answers closes the breaker, and reads go to the cluster again, even when the
answer is a wrong one (a login page, a refusal): such a cluster is not down, and
its reads should say what it answers now, not the timeout that tripped it. So no request
waits for a cluster known to be down, and one that comes back is read again
within ``retry_s`` plus one answer.

Only reads go through it: a change (deploy, delete) is always tried, since the
caller asked for that cluster and nothing else. Errors that come back fast
(refused credentials, a bad answer) do not trip it: they cost nothing to repeat.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

from asgard.errors import ClusterError, ClusterTimeout, ClusterUnreachable
from asgard.tasks import cancel_and_wait

log = structlog.get_logger(__name__)

TRIPPING = (ClusterTimeout, ClusterUnreachable)


class Breaker:
    def __init__(
        self,
        cluster: str,
        probe: Callable[[], Awaitable[object]],
        *,
        trip_after: int = 2,
        retry_s: float = 5.0,
        down_after_s: float = 10.0,
        alive: Callable[[], bool] = lambda: False,
    ) -> None:
        self.cluster = cluster
        self.probe = probe
        """Asks the cluster something cheap, within its timeout; raises ``ClusterError``."""
        self.trip_after = trip_after
        self.retry_s = retry_s
        self.down_after_s = down_after_s
        self.alive = alive
        """Other evidence that the cluster is up (its change feed is connected)."""
        self.last_ok = time.monotonic()
        self.failures = 0
        self.last_error: ClusterError | None = None
        self.opened_at: float | None = None
        self._probing: asyncio.Task[None] | None = None
        self._next_probe = 0.0

    @property
    def open(self) -> bool:
        return self.opened_at is not None

    def check(self) -> None:
        """Raise at once when the cluster is known to be down (and probe it when due)."""
        if self.opened_at is None or self.last_error is None:
            return
        if self.alive():
            self.succeeded()
            return
        self._probe_when_due()
        error = self.last_error
        down_s = time.monotonic() - self.opened_at
        raise type(error)(
            self.cluster,
            f"{error.msg} (known to be down for {down_s:.0f} s: not asked again until it "
            "answers a probe)",
        )

    def succeeded(self) -> None:
        if self.opened_at is not None:
            log.info("cluster answers again", cluster=self.cluster)
        self.failures = 0
        self.opened_at = None
        self.last_error = None
        self.last_ok = time.monotonic()

    def failed(self, error: ClusterError) -> None:
        if not isinstance(error, TRIPPING):
            return
        self.failures += 1
        self.last_error = error
        if self.opened_at is not None or self.failures < self.trip_after:
            return
        if time.monotonic() - self.last_ok < self.down_after_s or self.alive():
            return
        self.opened_at = time.monotonic()
        self._next_probe = self.opened_at + self.retry_s
        log.warning(
            "cluster known to be down: reads fail at once until it answers",
            cluster=self.cluster,
            error=error.msg,
        )

    def _probe_when_due(self) -> None:
        if self._probing is not None and not self._probing.done():
            return
        if time.monotonic() < self._next_probe:
            return
        self._probing = asyncio.create_task(self._probe_once(), name=f"probe-{self.cluster}")

    async def _probe_once(self) -> None:
        try:
            await self.probe()
        except TRIPPING as exc:
            self.failed(exc)
            self._next_probe = time.monotonic() + self.retry_s
            return
        except ClusterError:
            # It answered, if wrongly (a page of HTML, a refusal): not down. Reads go to it
            # again and each gets that answer's own error, not the timeout of long ago.
            log.info("a cluster known to be down answers, wrongly", cluster=self.cluster)
            self._reopen_reads()
            return
        except Exception as exc:  # a probe must never take anything down with it
            log.warning("probing a cluster failed", cluster=self.cluster, error=str(exc))
            self._next_probe = time.monotonic() + self.retry_s
            return
        self.succeeded()

    def _reopen_reads(self) -> None:
        """Close the breaker without counting the cluster as healthy (``last_ok`` stays)."""
        self.failures = 0
        self.opened_at = None
        self.last_error = None

    async def close(self) -> None:
        await cancel_and_wait(self._probing)
        self._probing = None
