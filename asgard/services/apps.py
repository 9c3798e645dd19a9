"""Apps across clusters: who may read and change them, their pages and their versions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

import structlog

from asgard.backends.contract import AppsBackend, LogLines, LogStream
from asgard.backends.log_merge import JOIN_TAIL, Joiner, Source, merge_lines
from asgard.backends.orchestrator import Listing, Orchestrator
from asgard.db.app_versions import AppVersionStore
from asgard.db.engine import Database
from asgard.errors import DatabaseUnavailable, InvalidValue, NotFound
from asgard.models import (
    Account,
    App,
    AppPatch,
    AppSpec,
    AppStats,
    AppVersion,
    Role,
    StatsWindow,
    Task,
)
from asgard.models.version import spec_of
from asgard.services.app_history import attributed, history, previous
from asgard.services.capable import require
from asgard.services.listing import ListRequest, listed, paged
from asgard.services.pagination import ClusterPage
from asgard.services.principal import Principal

log = structlog.get_logger(__name__)


class AppsService:
    """Viewers read apps and their versions; operators deploy, change, restart, roll back
    and remove them. Every spec Asgard deploys is recorded with who deployed it: the
    history of a kind that keeps none, and the ``by`` of the versions a cluster keeps."""

    def __init__(self, orchestrator: Orchestrator, db: Database) -> None:
        self.orchestrator = orchestrator
        self.db = db

    async def list_apps(self, principal: Principal, asked: ListRequest) -> ClusterPage[App]:
        account = principal.require(Role.VIEWER)
        return paged(await listed(self.orchestrator, account, asked, AppsBackend.list_apps), asked)

    async def all_tasks(self, principal: Principal, asked: ListRequest) -> Listing[Task]:
        """Every task of the account's apps on the clusters asked for, in one read of each
        cluster (from its cache): a page of apps with their tasks costs no call per app."""
        account = principal.require(Role.VIEWER)
        return await listed(self.orchestrator, account, asked, AppsBackend.list_all_tasks)

    async def get(self, principal: Principal, cluster: str, app_id: str) -> App:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(account, cluster, AppsBackend.get_app, app_id)

    async def tasks(self, principal: Principal, cluster: str, app_id: str) -> list[Task]:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(account, cluster, AppsBackend.list_tasks, app_id)

    async def create(self, principal: Principal, spec: AppSpec) -> App:
        account = principal.require(Role.OPERATOR)
        app = await self.orchestrator.call(account, spec.cluster, AppsBackend.create_app, spec)
        await self._record(principal, account, app, spec.instances)
        return app

    async def update(self, principal: Principal, cluster: str, app_id: str, patch: AppPatch) -> App:
        account = principal.require(Role.OPERATOR)
        app = await self.orchestrator.call(account, cluster, AppsBackend.update_app, app_id, patch)
        await self._record(principal, account, app, patch.instances)
        return app

    async def delete(self, principal: Principal, cluster: str, app_id: str) -> None:
        account = principal.require(Role.OPERATOR)
        await self.orchestrator.call(account, cluster, AppsBackend.delete_app, app_id)
        try:
            async with self.db.writing() as session:
                await AppVersionStore(session).forget(cluster, account.namespace, app_id)
        except DatabaseUnavailable as exc:  # the app is gone all the same
            log.warning(
                "app versions not forgotten", cluster=cluster, app=app_id, reason=exc.reason
            )

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
        if since is not None:
            require(self.orchestrator, account, cluster, "log_since")
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
        if since is not None:
            require(self.orchestrator, account, cluster, "log_since")
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

    # versions

    async def _record(
        self, principal: Principal, account: Account, app: App, instances: int | None
    ) -> None:
        """Note what now runs, as the cluster answered it (so that it is the spec the
        cluster's history will show), with the count asked for where one was (a cluster
        may not count a change's new instances at once), and who deployed it. The deploy
        has happened whatever the database says: a record that cannot be written costs
        the ``by`` of one version (and, on a kind without a history, that version), never
        the answer."""
        spec = spec_of(app)
        if instances is not None:
            spec = spec.model_copy(update={"instances": instances})
        try:
            async with self.db.writing() as session:
                await AppVersionStore(session).record(
                    app.cluster, account.namespace, app.id, spec, principal.user.email
                )
        except DatabaseUnavailable as exc:
            log.warning(
                "app version not recorded", cluster=app.cluster, app=app.id, reason=exc.reason
            )

    async def _deploys(self, account: Account, cluster: str, app_id: str) -> list[AppVersion]:
        async with self.db.session() as session:
            return await AppVersionStore(session).deploys(cluster, account.namespace, app_id)

    async def _history(self, account: Account, cluster: str, app_id: str) -> list[AppVersion]:
        kept = await self.orchestrator.call(account, cluster, AppsBackend.app_versions, app_id)
        return history(kept, await self._deploys(account, cluster, app_id))

    async def versions(self, principal: Principal, cluster: str, app_id: str) -> list[AppVersion]:
        """Newest first, the first being what runs."""
        account = principal.require(Role.VIEWER)
        return await self._history(account, cluster, app_id)

    async def _version(
        self, account: Account, cluster: str, app_id: str, version: str
    ) -> AppVersion:
        """As the history shows it; else asked of the cluster alone (which may keep more
        than it lists, Marathon's oldest versions)."""
        for found in await self._history(account, cluster, app_id):
            if found.id == version:
                return found
        kept = await self.orchestrator.call(
            account, cluster, AppsBackend.app_version, app_id, version
        )
        return attributed(kept, await self._deploys(account, cluster, app_id))

    async def version(
        self, principal: Principal, cluster: str, app_id: str, version: str
    ) -> AppVersion:
        """One version, whether the cluster keeps it or only Asgard remembers it; 404 for an
        unknown app or version."""
        account = principal.require(Role.VIEWER)
        return await self._version(account, cluster, app_id, version)

    async def rollback(
        self, principal: Principal, cluster: str, app_id: str, version: str | None
    ) -> App:
        """Deploy an earlier version again (by default the newest that differs from what
        runs). A version whose spec Asgard cannot say is refused with 422 and why."""
        account = principal.require(Role.OPERATOR)
        if version is None:
            target = previous(await self._history(account, cluster, app_id), app_id, cluster)
        else:
            target = await self._version(account, cluster, app_id, version)
        if target.unsupported:
            raise InvalidValue(
                f"version '{target.id}' cannot be rolled back to: {target.unsupported}",
                field="version",
                cluster=cluster,
            )
        app = await self.orchestrator.call(
            account, cluster, AppsBackend.rollback_app, app_id, target
        )
        await self._record(principal, account, app, target.spec.instances)
        return app
