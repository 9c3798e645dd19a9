"""What every list across clusters does the same way, written once: ask each chosen
cluster (or, with ``stale``, let one that is down contribute what was last seen there),
then cut one page of the answer in (cluster, id) order with the clusters' errors and the
age of each part.

A service adds only its rules between the two: who may read, which items are kept (an
agent's attributes, a job's state), what is joined to them (a job's records).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TypeVar

from asgard.backends.contract import Backend
from asgard.backends.orchestrator import Listing, Orchestrator
from asgard.models import Account
from asgard.services.pagination import DEFAULT_LIMIT, ClusterPage, P, page_of

__all__ = ["ListRequest", "listed", "paged"]

T = TypeVar("T")
B = TypeVar("B", bound=Backend)


@dataclass(frozen=True)
class ListRequest:
    """What a caller asks of a list: which clusters (None: every one the account may
    use), which page, and whether a cluster that is down contributes its last-known
    items (``?stale=true``; the dashboard always asks so)."""

    clusters: Collection[str] | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    stale: bool = False


async def listed(
    orchestrator: Orchestrator,
    account: Account,
    asked: ListRequest,
    op: Callable[[B, Account], Awaitable[Sequence[T]]],
) -> Listing[T]:
    """The listing ``op`` on the clusters asked for, fresh or with last-known parts."""
    fan_out = orchestrator.fan_out_stale if asked.stale else orchestrator.fan_out
    return await fan_out(account, asked.clusters, op)


def paged(
    listing: Listing[P], asked: ListRequest, items: Sequence[P] | None = None
) -> ClusterPage[P]:
    """The page asked for of what ``listing`` found (of ``items`` when the service kept
    or joined some of them), with the listing's errors and ages."""
    return page_of(listing, asked.limit, asked.cursor, items)
