"""Apps: ``/apps`` and ``/clusters/{cluster}/apps/{app_id}/...``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

from asgard.client.models import AppVersion, LogLine, VersionBody, VersionList
from asgard.client.pagination import each
from asgard.client.transport import Transport, path_of
from asgard.http.schemas import AppBody, AppList, StatsBody, TaskList
from asgard.models import App, AppPatch, AppSpec, AppStats, Task

__all__ = ["AppsClient"]


class AppsClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _one(self, cluster: str, app_id: str, *rest: str) -> str:
        return path_of("clusters", cluster, "apps", app_id.strip("/"), *rest)

    async def page(
        self,
        *,
        cluster: str | list[str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        stale: bool = False,
    ) -> AppList:
        params = {"cluster": cluster, "limit": limit, "cursor": cursor, "stale": stale or None}
        return await self._t.model(AppList, "GET", "/apps", params=params)

    def all(
        self, *, cluster: str | list[str] | None = None, stale: bool = False
    ) -> AsyncIterator[App]:
        async def fetch(cursor: str | None) -> AppList:
            return await self.page(cluster=cluster, cursor=cursor, stale=stale)

        return each(fetch, lambda page: page.apps)

    async def create(self, spec: AppSpec | Mapping[str, Any]) -> App:
        return (await self._t.model(AppBody, "POST", "/apps", body=spec)).app

    async def get(self, cluster: str, app_id: str) -> App:
        return (await self._t.model(AppBody, "GET", self._one(cluster, app_id))).app

    async def update(self, cluster: str, app_id: str, patch: AppPatch | Mapping[str, Any]) -> App:
        path = self._one(cluster, app_id)
        return (await self._t.model(AppBody, "PATCH", path, body=patch)).app

    async def scale(self, cluster: str, app_id: str, instances: int) -> App:
        return await self.update(cluster, app_id, {"instances": instances})

    async def delete(self, cluster: str, app_id: str) -> None:
        await self._t.call("DELETE", self._one(cluster, app_id))

    async def restart(self, cluster: str, app_id: str) -> App:
        path = self._one(cluster, app_id, "restart")
        return (await self._t.model(AppBody, "POST", path)).app

    async def tasks(self, cluster: str, app_id: str) -> list[Task]:
        path = self._one(cluster, app_id, "tasks")
        return (await self._t.model(TaskList, "GET", path)).tasks

    async def stats(self, cluster: str, app_id: str, *, last_minute: bool = False) -> AppStats:
        rest = ("stats", "avg-1min") if last_minute else ("stats",)
        path = self._one(cluster, app_id, *rest)
        return (await self._t.model(StatsBody, "GET", path)).stats

    def logs(
        self,
        cluster: str,
        app_id: str,
        *,
        tail: int = 100,
        follow: bool = False,
        all_tasks: bool = False,
        since: datetime | None = None,
    ) -> AsyncIterator[str]:
        """Text lines; with ``all_tasks`` every task's lines merged in time order, each
        labelled by its task. With ``follow`` the iterator goes on until it is closed."""
        params = _log_params(tail, follow, all_tasks, since)
        return self._t.text(self._one(cluster, app_id, "logs"), params, follow=follow)

    async def log_lines(
        self,
        cluster: str,
        app_id: str,
        *,
        tail: int = 100,
        follow: bool = False,
        all_tasks: bool = False,
        since: datetime | None = None,
    ) -> AsyncIterator[LogLine]:
        """The same lines as ``format=jsonl``: task, time and stream apart from the text."""
        params = {**_log_params(tail, follow, all_tasks, since), "format": "jsonl"}
        async for raw in self._t.text(self._one(cluster, app_id, "logs"), params, follow=follow):
            if raw.strip():
                yield LogLine.model_validate(json.loads(raw))

    def task_logs(
        self,
        cluster: str,
        app_id: str,
        task_id: str,
        *,
        tail: int = 100,
        follow: bool = False,
        since: datetime | None = None,
    ) -> AsyncIterator[str]:
        """One task's lines (the ids ``tasks`` lists); with ``follow`` until it ends."""
        path = self._one(cluster, app_id, "tasks", task_id, "logs")
        return self._t.text(path, _log_params(tail, follow, False, since), follow=follow)

    async def versions(self, cluster: str, app_id: str) -> list[AppVersion]:
        path = self._one(cluster, app_id, "versions")
        return (await self._t.model(VersionList, "GET", path)).versions

    async def version(self, cluster: str, app_id: str, version: str) -> AppVersion:
        data = await self._t.call("GET", self._one(cluster, app_id, "versions", version))
        if isinstance(data, dict) and isinstance(data.get("version"), dict):
            return VersionBody.model_validate(data).version
        return AppVersion.model_validate(data)

    async def rollback(self, cluster: str, app_id: str, version: str | None = None) -> App:
        """To ``version``, or when it is None to the newest version whose spec differs from
        the one that runs."""
        body = {} if version is None else {"version": version}
        path = self._one(cluster, app_id, "rollback")
        return (await self._t.model(AppBody, "POST", path, body=body)).app


def _rfc3339(when: datetime) -> str:
    """A time with its zone, as the server requires; a naive time is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.isoformat()


def _log_params(tail: int, follow: bool, all_tasks: bool, since: datetime | None) -> dict[str, Any]:
    return {
        "tail": tail,
        "follow": follow,
        "tasks": "all" if all_tasks else None,
        "since": _rfc3339(since) if since else None,
    }
