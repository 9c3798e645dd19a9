"""What the pages read, from the services, in one shape: items, failed clusters, ages.

This is the one place that knows how the services are called. Every listing asks for
last-known data (``stale=True``) where the services take it, so a cluster that is down
still shows its rows, greyed; a listing where no cluster answered is not an error page
but an empty table under the banner that says why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Generic, TypeVar

from asgard.errors import AllClustersFailed
from asgard.events import Event
from asgard.http.state import Services
from asgard.models import (
    Agent,
    App,
    ClusterErrorInfo,
    ClusterStatus,
    Job,
    Resources,
    ScheduledJob,
    Workflow,
)
from asgard.services.listing import ListRequest
from asgard.services.pagination import MAX_LIMIT, ClusterPage
from asgard.services.principal import Principal

__all__ = ["Found", "Sources", "stale_since"]

T = TypeVar("T")


@dataclass
class Found(Generic[T]):
    """Every item the services gave (all pages), the clusters that failed, each one's age."""

    items: list[T] = field(default_factory=list)
    errors: list[ClusterErrorInfo] = field(default_factory=list)
    as_of: dict[str, datetime] = field(default_factory=dict)


def stale_since(error: ClusterErrorInfo) -> datetime | None:
    """Since when a failed cluster's rows are last-known, not current (None: no rows)."""
    return error.stale_since


async def _all(
    call: Callable[[ListRequest], Awaitable[ClusterPage[T]]], clusters: Collection[str] | None
) -> Found[T]:
    """Every page of a listing (a dashboard filters and sorts across all of them)."""
    found: Found[T] = Found()
    cursor: str | None = None
    while True:
        try:
            result = await call(ListRequest(clusters, MAX_LIMIT, cursor, stale=True))
        except AllClustersFailed as failed:
            found.errors = [
                ClusterErrorInfo(cluster=f.cluster, msg=f.msg, kind=f.kind) for f in failed.failures
            ]
            return found
        found.items.extend(result.page.items)
        found.errors = list(result.errors)
        found.as_of = dict(result.as_of)
        cursor = result.page.next_cursor
        if cursor is None:
            return found


class Sources:
    """The services, as one principal reads them for the dashboard."""

    def __init__(self, svc: Services, principal: Principal) -> None:
        self.svc = svc
        self.principal = principal

    async def statuses(self) -> list[ClusterStatus]:
        return await self.svc.clusters.statuses(self.principal)

    async def agents(self, clusters: Collection[str] | None = None) -> Found[Agent]:
        async def call(asked: ListRequest) -> ClusterPage[Agent]:
            return await self.svc.agents.list_agents(self.principal, asked, attrs={})

        return await _all(call, clusters)

    def measured(self, agents: Iterable[Agent]) -> dict[tuple[str, str], Resources]:
        """What the agents' meters last said is in use (the usage history's newest sample)."""
        return self.svc.agents.measured(agents)

    async def apps(self, clusters: Collection[str] | None = None) -> Found[App]:
        return await _all(partial(self.svc.apps.list_apps, self.principal), clusters)

    async def jobs(self, clusters: Collection[str] | None = None) -> Found[Job]:
        return await _all(partial(self.svc.jobs.list_jobs, self.principal), clusters)

    async def workflows(self, clusters: Collection[str] | None = None) -> Found[Workflow]:
        return await _all(partial(self.svc.workflows.list_workflows, self.principal), clusters)

    async def scheduled_jobs(self, clusters: Collection[str] | None = None) -> Found[ScheduledJob]:
        list_them = self.svc.scheduled_jobs.list_scheduled_jobs
        return await _all(partial(list_them, self.principal), clusters)

    def recent_events(self, limit: int) -> Sequence[Event]:
        """The newest events this account may see, newest first, from the hub's buffer."""
        account = self.principal.account
        if account is None:
            return []
        return self.svc.events.recent(account, limit)
