"""Apps across clusters: who may read and change them, and their pages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime

from asgard.backends.contract import AppsBackend, LogLines, LogStream
from asgard.backends.log_merge import JOIN_TAIL, Joiner, Source, merge_lines
from asgard.backends.orchestrator import Listing, Orchestrator
from asgard.errors import NotFound
from asgard.models import Account, App, AppPatch, AppSpec, AppStats, Role, StatsWindow, Task
from asgard.services.pagination import ClusterPage, page_of
from asgard.services.principal import Principal


class AppsService:
    """Viewers read apps; operators deploy, change, restart and remove them."""

    def __init__(self, orchestrator: Orchestrator) -> None:
        self.orchestrator = orchestrator

    async def list_apps(
        self,
        principal: Principal,
        *,
        clusters: Collection[str] | None,
        limit: int,
        cursor: str | None,
        stale: bool = False,
    ) -> ClusterPage[App]:
        account = principal.require(Role.VIEWER)
        fan_out = self.orchestrator.fan_out_stale if stale else self.orchestrator.fan_out
        listing = await fan_out(account, clusters, AppsBackend.list_apps)
        return page_of(listing, limit, cursor)

    async def all_tasks(
        self, principal: Principal, *, clusters: Collection[str] | None, stale: bool = False
    ) -> Listing[Task]:
        """Every task of the account's apps on the chosen clusters, in one read of each
        cluster (from its cache): a page of apps with their tasks costs no call per app."""
        account = principal.require(Role.VIEWER)
        fan_out = self.orchestrator.fan_out_stale if stale else self.orchestrator.fan_out
        return await fan_out(account, clusters, AppsBackend.list_all_tasks)

    async def get(self, principal: Principal, cluster: str, app_id: str) -> App:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(account, cluster, AppsBackend.get_app, app_id)

    async def tasks(self, principal: Principal, cluster: str, app_id: str) -> list[Task]:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(account, cluster, AppsBackend.list_tasks, app_id)

    async def create(self, principal: Principal, spec: AppSpec) -> App:
        account = principal.require(Role.OPERATOR)
        return await self.orchestrator.call(account, spec.cluster, AppsBackend.create_app, spec)

    async def update(self, principal: Principal, cluster: str, app_id: str, patch: AppPatch) -> App:
        account = principal.require(Role.OPERATOR)
        return await self.orchestrator.call(account, cluster, AppsBackend.update_app, app_id, patch)

    async def delete(self, principal: Principal, cluster: str, app_id: str) -> None:
        account = principal.require(Role.OPERATOR)
        await self.orchestrator.call(account, cluster, AppsBackend.delete_app, app_id)

    async def restart(self, principal: Principal, cluster: str, app_id: str) -> App:
        account = principal.require(Role.OPERATOR)
        return await self.orchestrator.call(account, cluster, AppsBackend.restart_app, app_id)

    async def stats(
        self, principal: Principal, cluster: str, app_id: str, window: StatsWindow
    ) -> AppStats:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(account, cluster, AppsBackend.app_stats, app_id, window)

    async def logs(
        self, principal: Principal, cluster: str, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(
            account, cluster, AppsBackend.app_logs, app_id, tail=tail, follow=follow
        )

    async def task_logs(
        self,
        principal: Principal,
        cluster: str,
        app_id: str,
        task_id: str,
        *,
        tail: int,
        since: datetime | None,
        follow: bool,
    ) -> LogLines:
        """One task's lines; while following, the stream ends with the task (a marker line
        says so), and a slow reader loses lines rather than growing Asgard's memory."""
        account = principal.require(Role.VIEWER)
        lines = await self.orchestrator.call(
            account,
            cluster,
            AppsBackend.task_logs,
            app_id,
            task_id,
            tail=tail,
            since=since,
            follow=follow,
        )
        watch = Joiner(discover=self._tasks_now(account, cluster, app_id))
        return merge_lines(
            [Source(task_id, lines)], since=since, follow=follow, joiner=watch if follow else None
        )

    async def merged_logs(
        self,
        principal: Principal,
        cluster: str,
        app_id: str,
        *,
        tail: int,
        since: datetime | None,
        follow: bool,
    ) -> LogLines:
        """Every task's lines in time order (``asgard.backends.log_merge``): the last
        ``tail`` of each task that has started; while following, tasks that start are
        joined from their first line and tasks that end say so."""
        account = principal.require(Role.VIEWER)
        tasks = await self.orchestrator.call(account, cluster, AppsBackend.list_tasks, app_id)
        readable = [t for t in tasks if t.state != "staging"]

        async def open_task(task: Task) -> Source | None:
            live = task.state == "running"
            try:
                lines = await self.orchestrator.call(
                    account,
                    cluster,
                    AppsBackend.task_logs,
                    app_id,
                    task.id,
                    tail=tail,
                    since=since,
                    follow=follow and live,
                )
            except NotFound:  # gone since it was listed
                return None
            return Source(task.id, lines, live=live)

        opened = await asyncio.gather(*(open_task(t) for t in readable))
        sources = [s for s in opened if s is not None]

        async def join(task: Task) -> LogLines:
            return await self.orchestrator.call(
                account,
                cluster,
                AppsBackend.task_logs,
                app_id,
                task.id,
                tail=JOIN_TAIL,
                since=None,
                follow=True,
            )

        joiner = Joiner(discover=self._tasks_now(account, cluster, app_id), open=join)
        return merge_lines(sources, since=since, follow=follow, joiner=joiner if follow else None)

    def _tasks_now(
        self, account: Account, cluster: str, app_id: str
    ) -> Callable[[], Awaitable[list[Task]]]:
        """The app's tasks as the cluster's cache knows them (kept by its change feed, so
        a follower asking every second costs the cluster nothing)."""

        async def discover() -> list[Task]:
            found = await self.orchestrator.fan_out(account, [cluster], AppsBackend.list_all_tasks)
            return [t for t in found.items if t.app_id == app_id]

        return discover
