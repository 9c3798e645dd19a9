"""Apps of a local cluster: definitions kept in the state folder, instances supervised as
processes of the host (``asgard_local.deploy``).

The image of an app is recorded and shown, never used: a plain host has no images, so
what runs is the app's ``cmd`` and ``args``. Stats are a sample read from ``/proc`` now,
and logs are each instance's log file.
"""

from __future__ import annotations

from datetime import datetime

from asgard.backends.contract import AppsBackend, LogLines, LogStream
from asgard.backends.log_lines import unknown_task
from asgard.backends.log_streams import merge
from asgard.errors import NotSupported
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
from asgard_local.config import KIND
from asgard_local.converters import instance_to_task, record_to_app, record_to_versions
from asgard_local.deploy import RunningApp
from asgard_local.host import LocalHost
from asgard_local.logs import follow_file, lines_of
from asgard_local.stats import app_stats_from, sample


class LocalAppsBackend(AppsBackend):
    def __init__(self, host: LocalHost) -> None:
        super().__init__(host.cluster, KIND)
        self.host = host
        self.deployer = host.apps

    async def start(self) -> None:
        """Supervise: relaunch the apps kept in the state folder (see ``LocalHost``)."""
        await self.host.start()

    async def close(self) -> None:
        await self.host.close()

    def _app(self, account: Account, app_id: str) -> RunningApp:
        self.host.ensure()
        return self.deployer.get(account.namespace, app_id)

    def _model(self, app: RunningApp) -> App:
        return record_to_app(app.record, app.views(), cluster=self.cluster)

    def _tasks(self, app: RunningApp) -> list[Task]:
        facts = self.host.client.facts()
        return [
            instance_to_task(v, cluster=self.cluster, app_id=app.record.spec.id, facts=facts)
            for v in app.views()
        ]

    async def list_apps(self, account: Account) -> list[App]:
        self.host.ensure()
        return [self._model(a) for a in self.deployer.of(account.namespace)]

    async def get_app(self, account: Account, app_id: str) -> App:
        return self._model(self._app(account, app_id))

    async def list_tasks(self, account: Account, app_id: str) -> list[Task]:
        return self._tasks(self._app(account, app_id))

    async def list_all_tasks(self, account: Account) -> list[Task]:
        self.host.ensure()
        return [t for a in self.deployer.of(account.namespace) for t in self._tasks(a)]

    async def create_app(self, account: Account, spec: AppSpec) -> App:
        self.host.ensure()
        return self._model(await self.deployer.create(account, spec))

    async def update_app(self, account: Account, app_id: str, patch: AppPatch) -> App:
        self.host.ensure()
        return self._model(await self.deployer.update(account, app_id, patch))

    async def delete_app(self, account: Account, app_id: str) -> None:
        self.host.ensure()
        await self.deployer.delete(account, app_id)

    async def restart_app(self, account: Account, app_id: str) -> App:
        self.host.ensure()
        return self._model(await self.deployer.restart(account, app_id))

    async def app_versions(self, account: Account, app_id: str) -> list[AppVersion]:
        """The specs the app's record kept, numbered from 1."""
        return record_to_versions(self._app(account, app_id).record, cluster=self.cluster)

    async def rollback_app(self, account: Account, app_id: str, version: AppVersion) -> App:
        self.host.ensure()
        return self._model(await self.deployer.redeploy(account, app_id, version.spec))

    async def app_stats(self, account: Account, app_id: str, window: StatsWindow) -> AppStats:
        app = self._app(account, app_id)
        groups = [i.process.pid for i in app.instances if i.process is not None]
        usages = await sample(groups)
        return app_stats_from(usages, app.record.spec.resources, self.host.client.facts().mem_mib)

    async def app_logs(
        self, account: Account, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        app = self._app(account, app_id)
        streams = {}
        for instance in list(app.instances):
            folder = self.host.store.instance_dir(app.namespace, app_id, instance.slot)

            def gone(instance: object = instance) -> bool:
                return instance not in app.instances

            streams[instance.task_id] = follow_file(
                folder / "log", tail=tail, follow=follow, finished=gone
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
        """One instance's log file as lines. The file carries no times (as Mesos' sandbox
        files do not), so each line is stamped as it is read and ``since`` is refused."""
        if since is not None:
            raise NotSupported(
                KIND, "reading logs since a time (log files carry no times)", cluster=self.cluster
            )
        app = self._app(account, app_id)
        instance = next((i for i in app.instances if i.task_id == task_id), None)
        if instance is None:
            raise unknown_task(app_id, task_id, self.cluster)
        folder = self.host.store.instance_dir(app.namespace, app_id, instance.slot)

        def gone() -> bool:
            return instance not in app.instances

        return lines_of(
            task_id, follow_file(folder / "log", tail=tail, follow=follow, finished=gone)
        )
