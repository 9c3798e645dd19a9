"""Marathon apps of the account's group ``/<namespace>/``, with Mesos for stats and logs.

Every write carries the account's ``owner:LIKE:<owner>`` constraint, so an app
lands only on the account's agents. Updates use Marathon's partial ``PUT``;
the deployments Marathon embeds make an app ``deploying`` until they are done.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime
from typing import Any

from asgard.backends.common import app_taken
from asgard.backends.contract import AppsBackend, LogLines, LogStream
from asgard.backends.log_lines import no_lines, unknown_task
from asgard.backends.log_streams import merge
from asgard.backends.mesos.client import MesosClient
from asgard.backends.mesos.config import KIND
from asgard.backends.mesos.converters import (
    app_to_marathon,
    app_to_model,
    group_of,
    marathon_id,
    task_to_model,
    version_to_model,
    with_owner,
)
from asgard.backends.mesos.logs import executor_directories, sandbox_lines
from asgard.backends.mesos.logs import follow as sandbox_follow
from asgard.backends.mesos.marathon import Marathon
from asgard.backends.mesos.masters import Agent as AgentClient
from asgard.backends.mesos.stats import SAMPLE_INTERVAL_S, busy_cores
from asgard.errors import Conflict, NotFound, NotSupported
from asgard.models import (
    Account,
    App,
    AppPatch,
    AppSpec,
    AppStats,
    AppVersion,
    StatsWindow,
    Task,
)
from asgard.models.base import pct, round_up_pct, utc_now

VERSIONS_LISTED = 25
"""Marathon keeps every version of an app; a listing reads the newest this many."""
VERSION_READS = 8


class MesosAppsBackend(AppsBackend):
    def __init__(self, client: MesosClient) -> None:
        super().__init__(client.cluster, KIND)
        self.client = client
        self.marathon: Marathon = client.marathon

    async def _app(self, account: Account, app_id: str) -> dict[str, Any]:
        try:
            return await self.marathon.app(marathon_id(account, app_id))
        except NotFound:
            raise NotFound(f"app '{app_id}' not found", cluster=self.cluster) from None

    async def list_apps(self, account: Account) -> list[App]:
        return [
            app_to_model(a, account=account, cluster=self.cluster)
            for a in await self.marathon.apps(group_of(account))
        ]

    async def get_app(self, account: Account, app_id: str) -> App:
        return app_to_model(await self._app(account, app_id), account=account, cluster=self.cluster)

    async def list_tasks(self, account: Account, app_id: str) -> list[Task]:
        app = await self._app(account, app_id)
        return sorted(
            (task_to_model(t, cluster=self.cluster, app_id=app_id) for t in app.get("tasks") or []),
            key=lambda t: t.id,
        )

    async def list_all_tasks(self, account: Account) -> list[Task]:
        tasks = []
        for app in await self.marathon.apps(group_of(account)):
            app_id = app_to_model(app, account=account, cluster=self.cluster).id
            tasks += [
                task_to_model(t, cluster=self.cluster, app_id=app_id)
                for t in app.get("tasks") or []
            ]
        return tasks

    async def create_app(self, account: Account, spec: AppSpec) -> App:
        try:
            await self.marathon.call(
                "POST",
                self.marathon.path("v2", "apps"),
                what=f"create app {spec.id}",
                body=app_to_marathon(account, spec),
            )
        except Conflict:
            raise app_taken(spec.id, self.cluster) from None
        return await self.get_app(account, spec.id)

    async def _put(
        self, account: Account, app_id: str, changes: dict[str, Any], current: dict[str, Any]
    ) -> App:
        """A partial update; the owner constraint rides along with every one."""
        changes["constraints"] = with_owner(current.get("constraints") or [], account.owner)
        await self.marathon.call(
            "PUT",
            self.marathon.app_path(marathon_id(account, app_id)),
            what=f"update app {app_id}",
            body=changes,
        )
        return await self.get_app(account, app_id)

    async def update_app(self, account: Account, app_id: str, patch: AppPatch) -> App:
        current = await self._app(account, app_id)
        changes: dict[str, Any] = {}
        if patch.instances is not None:
            changes["instances"] = patch.instances
        if patch.image is not None:
            container = current.get("container") or {"type": "DOCKER", "docker": {}}
            container.setdefault("docker", {})["image"] = patch.image
            changes["container"] = container
        if patch.cmd is not None or patch.args is not None:
            merged = app_to_model(current, account=account, cluster=self.cluster)
            cmd = patch.cmd if patch.cmd is not None else merged.cmd
            args = patch.args if patch.args is not None else merged.args
            spec = AppSpec(cluster=self.cluster, id=app_id, image="x", cmd=cmd, args=args)
            body = app_to_marathon(account, spec)
            changes["cmd"], changes["args"] = body.get("cmd"), body.get("args")
        if patch.env is not None:
            changes["env"] = patch.env
        if patch.labels is not None:
            changes["labels"] = patch.labels
        if patch.resources is not None:
            changes["cpus"] = patch.resources.cpus or current.get("cpus")
            changes["mem"] = patch.resources.mem or current.get("mem")
        return await self._put(account, app_id, changes, current)

    async def app_versions(self, account: Account, app_id: str) -> list[AppVersion]:
        """Marathon's own versions, the newest ``VERSIONS_LISTED`` of them (each is one
        more call; an older one is still found by ``app_version``)."""
        found = marathon_id(account, app_id)
        try:
            ids = await self.marathon.versions(found)
        except NotFound:
            raise NotFound(f"app '{app_id}' not found", cluster=self.cluster) from None
        gate = asyncio.Semaphore(VERSION_READS)

        async def one(version: str) -> AppVersion | None:
            async with gate:
                try:
                    definition = await self.marathon.app_version(found, version)
                except NotFound:  # forgotten by Marathon meanwhile
                    return None
            return version_to_model(definition, account=account, cluster=self.cluster)

        kept = await asyncio.gather(*(one(v) for v in ids[:VERSIONS_LISTED]))
        return [v for v in kept if v is not None]

    async def app_version(self, account: Account, app_id: str, version: str) -> AppVersion:
        await self._app(account, app_id)
        try:
            definition = await self.marathon.app_version(marathon_id(account, app_id), version)
        except NotFound:
            raise NotFound(
                f"app '{app_id}' has no version '{version}'", cluster=self.cluster
            ) from None
        return version_to_model(definition, account=account, cluster=self.cluster)

    async def rollback_app(self, account: Account, app_id: str, version: AppVersion) -> App:
        """Marathon's own rollback (``PUT`` with the version) for a version it keeps, the
        whole definition otherwise. Marathon refuses either with 409 while a deployment of
        the app is in progress: a ``Conflict``, never forced."""
        current = await self._app(account, app_id)
        try:
            await self.marathon.app_version(marathon_id(account, app_id), version.id)
        except NotFound:
            body = app_to_marathon(account, version.spec.model_copy(update={"id": app_id}))
            body.pop("id")
            return await self._put(account, app_id, body, current)
        await self.marathon.call(
            "PUT",
            self.marathon.app_path(marathon_id(account, app_id)),
            what=f"roll back app {app_id}",
            body={"version": version.id},
        )
        return await self.get_app(account, app_id)

    async def restart_app(self, account: Account, app_id: str) -> App:
        await self._app(account, app_id)
        await self.marathon.call(
            "POST",
            self.marathon.app_path(marathon_id(account, app_id), "restart"),
            what=f"restart app {app_id}",
        )
        return await self.get_app(account, app_id)

    async def delete_app(self, account: Account, app_id: str) -> None:
        await self._app(account, app_id)
        await self.marathon.call(
            "DELETE",
            self.marathon.app_path(marathon_id(account, app_id)),
            what=f"delete app {app_id}",
        )

    async def _task_agents(
        self, account: Account, app_id: str
    ) -> dict[str, tuple[AgentClient, list[str]]]:
        """The agents running the app's tasks, with those tasks' ids."""
        app = await self._app(account, app_id)
        by_agent: dict[str, list[str]] = defaultdict(list)
        for task in app.get("tasks") or []:
            if task.get("state") == "TASK_RUNNING" and task.get("slaveId"):
                by_agent[str(task["slaveId"])].append(str(task["id"]))
        agents = {str(a["id"]): a for a in await self.client.masters.agents()}
        return {
            agent_id: (AgentClient(self.client.http, agents[agent_id]), tasks)
            for agent_id, tasks in by_agent.items()
            if agent_id in agents
        }

    async def app_stats(self, account: Account, app_id: str, window: StatsWindow) -> AppStats:
        """Two samples of the agents' container statistics, half a second apart, at once."""
        placed = await self._task_agents(account, app_id)

        async def statistics(agent: AgentClient, tasks: list[str]) -> list[dict[str, Any]]:
            containers = await agent.containers()
            return [c.get("statistics") or {} for c in containers if c.get("executor_id") in tasks]

        async def sample() -> list[dict[str, Any]]:
            found = await asyncio.gather(*(statistics(a, t) for a, t in placed.values()))
            return [s for group in found for s in group]

        first = await sample()
        await asyncio.sleep(SAMPLE_INTERVAL_S)
        second = await sample()
        used_cpu = allotted_cpu = used_mem = allotted_mem = throttled = periods = 0.0
        for before, after in zip(first, second, strict=False):
            used_cpu += busy_cores(before, after)
            allotted_cpu += float(after.get("cpus_limit") or 0)
            used_mem += float(after.get("mem_rss_bytes") or 0)
            allotted_mem += float(after.get("mem_limit_bytes") or 0)
            throttled += float(after.get("cpus_nr_throttled", 0)) - float(
                before.get("cpus_nr_throttled", 0)
            )
            periods += float(after.get("cpus_nr_periods", 0)) - float(
                before.get("cpus_nr_periods", 0)
            )
        return AppStats(
            cpu_pct=round_up_pct(pct(used_cpu, allotted_cpu)),
            ram_pct=pct(used_mem, allotted_mem),
            cpu_thr_pct=pct(throttled, periods),
            source="sample",
            sampled_at=utc_now(),
            instances=len(second),
            message=(
                f"the agents keep no history: a sample of {len(second)} task(s)"
                f" over {SAMPLE_INTERVAL_S:g} s"
            ),
        )

    async def app_logs(
        self, account: Account, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        placed = await self._task_agents(account, app_id)
        streams = {}
        for agent, tasks in placed.values():
            directories = executor_directories(await agent.state())
            for task in tasks:
                if task in directories:
                    streams[task.rsplit(".", 1)[-1][:8]] = sandbox_follow(
                        agent, directories[task], tail, follow
                    )
        return merge(streams)

    async def task_logs(
        self,
        account: Account,
        app_id: str,
        task_id: str,
        *,
        tail: int,
        since: datetime | None,
        follow: bool,
    ) -> LogLines:
        """The sandbox's stdout and stderr of one of the app's Marathon tasks."""
        if since is not None:
            raise NotSupported(
                KIND,
                "reading logs since a time (sandbox files carry no times)",
                cluster=self.cluster,
            )
        app = await self._app(account, app_id)
        task = next((t for t in app.get("tasks") or [] if str(t.get("id")) == task_id), None)
        if task is None:
            raise unknown_task(app_id, task_id, self.cluster)
        agents = {str(a["id"]): a for a in await self.client.masters.agents()}
        found = agents.get(str(task.get("slaveId")))
        if found is None:
            return no_lines()
        agent = AgentClient(self.client.http, found)
        directory = executor_directories(await agent.state()).get(task_id)
        if directory is None:
            return no_lines()
        return sandbox_lines(agent, directory, task_id, tail_lines=tail, follow=follow)
