"""The guard every call to one cluster goes through, and the health it keeps.

A call runs within its timeout, with transport failures and answers no converter could
use typed as this cluster's ``ClusterError``; a read goes through the circuit breaker,
failing at once while the cluster is known to be down. Whether the cluster answered is
noted in ``health`` and, when that changes, told to the event hub (a ``cluster`` event),
so an open dashboard shows an outage and a return without a reload. ``Cluster``
(``cluster.py``) is this guard with its kind's parts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

import aiohttp
import structlog

from asgard.backends.breaker import Breaker
from asgard.backends.cache import ClusterCache
from asgard.backends.call_times import CallKind, CallTimes
from asgard.backends.contract import ClusterClient
from asgard.backends.health import WHOLE, Health, Touched, touching
from asgard.errors import (
    AsgardError,
    ClusterError,
    ClusterTimeout,
    ClusterUnreachable,
    Conflict,
    DatabaseUnavailable,
    InvalidValue,
    NotFound,
    UnusableAnswer,
)
from asgard.events import Audience, Event, EventHub
from asgard.models import Capabilities, ClusterStatus
from asgard.models.cluster import ClusterSource

__all__ = ["CONVERTER_FAILURES", "REFUSALS", "ClusterGuard"]

T = TypeVar("T")
log = structlog.get_logger(__name__)

REFUSALS = (NotFound, Conflict, InvalidValue)
"""What a cluster's answer about one object means; on a call that names no object (a
listing, a probe), the same answer means the endpoint is not the cluster's API."""
CONVERTER_FAILURES = (KeyError, TypeError, ValueError, AttributeError, IndexError)
"""What a converter raises on an answer of a shape it does not know (pydantic's
``ValidationError`` and ``json``'s ``JSONDecodeError`` are ``ValueError``s)."""


class ClusterGuard:
    """What a ``Cluster`` is besides its parts: the guard around each call, its health
    record, and what is said of its status. The attributes are the ``Cluster``'s."""

    name: str
    kind: str
    capabilities: Capabilities
    client: ClusterClient
    timeout_s: float
    cache: ClusterCache | None
    health: Health
    hub: EventHub | None
    breaker: Breaker
    source: ClusterSource
    calls: CallTimes
    closed: bool

    # the guard

    async def guarded(
        self,
        fn: Callable[[], Awaitable[T]],
        timeout_s: float,
        *,
        endpoint: bool = False,
        timed: CallKind | None = "read",
    ) -> T:
        """Run one call within ``timeout_s``, with transport failures and answers no
        converter could use typed, and note whether the cluster answered (``health``) and,
        as a ``timed`` call, how long it took, answered or not (``calls``; None: a read
        that may not reach the cluster, which its caller times). With ``endpoint`` (a
        listing, a probe: calls that name no object), a refusal such as a 404 says the
        endpoint is wrong, and is this cluster's error too."""
        started = time.perf_counter()
        try:
            return await self._guarded(fn, timeout_s, endpoint=endpoint)
        except asyncio.CancelledError:
            timed = None  # given up by its caller (a client gone): says nothing of the cluster
            raise
        finally:
            if timed is not None:
                self.calls.observe(timed, time.perf_counter() - started)

    async def _guarded(
        self, fn: Callable[[], Awaitable[T]], timeout_s: float, *, endpoint: bool
    ) -> T:
        if self.closed:  # asked after its removal: its client would open a new session
            raise self._removed()
        with touching() as touched:
            return await self._noted(fn, timeout_s, touched, endpoint=endpoint)

    async def _noted(
        self, fn: Callable[[], Awaitable[T]], timeout_s: float, touched: Touched, *, endpoint: bool
    ) -> T:
        try:
            result = await self._unless_removed(fn, timeout_s)
        except ClusterError as exc:
            self._failed(exc.msg, touched)
            raise
        except DatabaseUnavailable:
            raise  # Asgard's own database (kept schedules), which says nothing of the cluster
        except REFUSALS as exc:
            if not endpoint:
                self._answered(touched)  # a refusal (not found, conflict) is an answer
                raise
            wrong = UnusableAnswer(self.name, f"cluster {self.name}: {exc.msg}")
            self._failed(wrong.msg, touched)
            raise wrong from None
        except AsgardError:
            self._answered(touched)
            raise
        except CONVERTER_FAILURES as exc:
            log.warning("cluster answer not usable", cluster=self.name, exc_info=True)
            wrong = UnusableAnswer(
                self.name,
                f"cluster {self.name} answered something Asgard cannot use "
                f"({type(exc).__name__}: {exc})",
            )
            self._failed(wrong.msg, touched)
            raise wrong from None
        except TimeoutError as exc:
            message = f"cluster {self.name} did not answer in {timeout_s:g} s"
            self._failed(message, touched)
            raise ClusterTimeout(self.name, message) from exc
        except (aiohttp.ClientError, OSError) as exc:
            message = f"cluster {self.name} is unreachable: {exc}"
            self._failed(message, touched)
            raise ClusterUnreachable(self.name, message) from exc
        self._answered(touched)
        return result

    async def _unless_removed(self, fn: Callable[[], Awaitable[T]], timeout_s: float) -> T:
        """``fn`` within ``timeout_s``; whatever it raises once the cluster was removed
        under it (its client closed: aiohttp asserts it has a connector, a request waits
        out its timeout) is the removal, not a bug of the request: what its status says."""
        try:
            async with asyncio.timeout(timeout_s):
                return await fn()
        except Exception as exc:
            if self.closed:
                raise self._removed() from exc
            raise

    def _removed(self) -> ClusterUnreachable:
        return ClusterUnreachable(
            self.name, f"cluster {self.name} was removed while it was being asked"
        )

    def _answered(self, touched: Touched | None = None, *, probed: bool = False) -> None:
        """The cluster answered. When that ends an outage, or a probe finds it answering
        while its feed is cut, the feed reconnects now rather than when its back-off says:
        the cache is current again within seconds of the cluster's return."""
        reached_nothing = touched is not None and not (touched.answered or touched.failed)
        if reached_nothing and self.client.names_parts:
            return  # Asgard answered from its own records: says nothing of the cluster
        ended_an_outage = self.health.answered(touched.answered if touched else frozenset())
        for part, why in (touched.unanswered() if touched else {}).items():
            ended_an_outage = False
            if self.health.failed(f"cluster {self.name}: {part}: {why}", {part}):
                self._outage_began()
        if ended_an_outage:
            self._tell_health()
        # A probe that found a part down (Marathon resetting every stream while the masters
        # answer) is no reason to try the feed again before its back-off says
        whole = probed and self.health.error is None
        if (ended_an_outage or whole) and self.cache is not None:
            self.cache.reconnect_now()

    def _failed(self, message: str, touched: Touched | None = None) -> None:
        if self.health.failed(message, touched.blamed() if touched else {WHOLE}):
            self._outage_began()

    def _outage_began(self) -> None:
        """Tell the hub, and have the cluster probed at the short interval from now
        (``Cluster`` pokes its prober): a wait begun while it answered would otherwise
        run its whole ``probe_s`` before its return could be seen."""
        self._tell_health()

    def tell_health(self, hub: EventHub) -> None:
        """Tell ``hub`` when this cluster stops answering and when it answers again (a
        ``cluster`` event), so that an open dashboard shows it without a reload."""
        self.hub = hub

    def _tell_health(self) -> None:
        if self.hub is None:
            return
        status = self.known_status().model_dump(mode="json")
        event = Event(
            kind="cluster", cluster=self.name, id=self.name, change="modified", object=status
        )
        self.hub.publish(Audience(cluster=self.name, namespace=None), [event])

    async def _read(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        endpoint: bool = False,
        timed: CallKind | None = "read",
    ) -> T:
        """A read: at once with the last error while the cluster is known to be down (a
        refusal that is not a call, so not timed)."""
        self.breaker.check()
        try:
            result = await self.guarded(fn, self.timeout_s, endpoint=endpoint, timed=timed)
        except ClusterError as exc:
            self.breaker.failed(exc)
            raise
        self.breaker.succeeded()
        return result

    # health

    async def probe(self) -> None:
        """Ask the cluster its version now; what it says (or not) is noted in ``health``."""
        started = time.perf_counter()
        try:
            version = await self.guarded(self.client.version, self.timeout_s, endpoint=True)
        except ClusterError as exc:
            self.breaker.failed(exc)
            self.health.probed = True
            return
        self.breaker.succeeded()
        self.health.probed_now(version, round((time.perf_counter() - started) * 1000, 2))
        self._answered(probed=True)

    async def status(self, *, live: bool = False) -> ClusterStatus:
        """From what is known; asked now when ``live``, or when nothing is known yet."""
        if live or not self.health.probed:
            await self.probe()
        return self.known_status()

    def known_status(self) -> ClusterStatus:
        """What is known of the cluster now, without asking it."""
        health = self.health
        cache: Literal["current", "behind", "off"] = (
            "off" if self.cache is None else "current" if self.cache.current else "behind"
        )
        down = health.error is not None
        return ClusterStatus(
            name=self.name,
            kind=self.kind,
            status="unreachable" if down else "ok",
            version=health.version,
            latency_ms=health.latency_ms,
            last_contact_at=health.last_contact_at,
            error=health.error if down else None,
            cache="behind" if down and cache != "off" else cache,  # nothing new can reach it
            capabilities=self.capabilities,
            source=self.source,
        )
