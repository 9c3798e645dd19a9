"""What an ``/events`` listener needs of a cluster's cache before it listens: every scope
the listener's account may see, loaded and pinned (never evicted while someone listens),
so that each later change reaches it as an event. The cache registers
``listener_interest`` with the event hub (``EventHub.on_interest``)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import structlog

from asgard.backends.cache_entries import Entry, Scope
from asgard.backends.feeds import RESOURCES
from asgard.errors import AsgardError, NotSupported
from asgard.models import Account
from asgard.models.base import utc_now

if TYPE_CHECKING:
    from asgard.backends.cache import ClusterCache

__all__ = ["listener_interest"]

log = structlog.get_logger(__name__)


async def listener_interest(cache: ClusterCache, account: Account, listening: bool) -> bool:
    """Load what a listener may see before it listens (``listening``), or let it go when
    it stops; True when all of it was held already (nothing was missed meanwhile)."""
    if not account.may_use(cache.cluster):
        return True
    scopes = [Scope.of(resource, account) for resource in RESOURCES]
    for scope in scopes:
        cache.pinned[scope] = cache.pinned.get(scope, 0) + (1 if listening else -1)
        entry = cache.entries.get(scope)
        if not listening and entry is not None:
            entry.last_read = time.monotonic()  # kept a while for a client that comes back
    if not listening:
        return True
    missing = [s for s in scopes if s not in cache.entries]
    await asyncio.gather(*(_load(cache, s) for s in missing))
    return not missing


async def _load(cache: ClusterCache, scope: Scope) -> None:
    try:
        async with asyncio.timeout(cache.timeout_s), cache.loading.of(scope) as changed:
            items = await cache.loaders[scope.resource](scope.account())
    except NotSupported:
        items, changed = [], lambda: False
    except (AsgardError, TimeoutError, OSError) as exc:
        # No entry rather than an empty one: an empty entry would be served as "nothing
        # there". The next read loads the scope, live.
        log.warning(
            "cache load failed", resource=scope.resource, error=getattr(exc, "msg", str(exc))
        )
        return
    if scope not in cache.entries:
        cache.entries[scope] = Entry(
            items={i.id: i for i in items}, as_of=utc_now(), dirty=changed()
        )
        cache.moved(scope)
        if cache.entries[scope].dirty:
            cache.refreshing.poke()
