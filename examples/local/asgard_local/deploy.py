"""Changing apps on the host, where Asgard itself does what an orchestrator would.

An app is its definition (``AppRecord``, kept in the state folder, so it survives
Asgard's restarts and a suspension at 0 instances) and its instances (``Instance``, one
supervised process each). Placement, patching and the rollout are Asgard's own
(``asgard.backends.rollout``), shared with the single Docker Engine: a change of anything
but the instance count rolls, each instance's successor started first. Here a successor
must also run steadily for ``ROLLOUT_STEADY_S`` before its predecessor is stopped, so an
app never has fewer instances than it wants; a successor that ends at once undoes the
rollout, and the app keeps its previous definition. Changes to one app wait for each
other (``AppLocks``).
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from datetime import datetime

from asgard.backends.rollout import AppLocks, Instances, deploy, launch, patched, roll, unmet
from asgard.errors import ClusterUnreachable, Conflict, InvalidValue, NotFound
from asgard.models import Account, AppPatch, AppSpec
from asgard.models.base import utc_now
from asgard_local.client import LocalClient
from asgard_local.commands import argv_of, process_env, require_program
from asgard_local.feed import APPS, Changes
from asgard_local.identities import own_folder
from asgard_local.processes import Launch
from asgard_local.store import AppRecord, SpecRecord, Store
from asgard_local.supervisor import Instance, InstanceView

__all__ = ["Deployer", "RunningApp", "with_version"]

SPECS_KEPT = 20
"""Versions of an app kept in its record."""
ROLLOUT_STEADY_S = 0.5
"""How long a rollout's successor must run before its predecessor is stopped."""
HOST: str = "this host"
"""How placement names the one agent there is."""


def with_version(record: AppRecord, spec: AppSpec, at: datetime) -> list[SpecRecord]:
    """The app's history once ``spec`` runs: a new version when it differs from the one
    that ran (a restart is none), the oldest forgotten past ``SPECS_KEPT``."""
    history = list(record.history) or [
        SpecRecord(number=1, spec=record.spec, deployed_at=record.created_at)
    ]
    if history[-1].spec == spec:
        return history
    history.append(SpecRecord(number=history[-1].number + 1, spec=spec, deployed_at=at))
    return history[-SPECS_KEPT:]


class RunningApp:
    def __init__(self, record: AppRecord) -> None:
        self.record = record
        self.instances: list[Instance] = []

    @property
    def namespace(self) -> str:
        return self.record.namespace

    def views(self) -> list[InstanceView]:
        return [i.view() for i in self.instances]


class Processes(Instances[Instance]):
    """An account's app instances as supervised processes: what a rollout starts and
    retires on the host."""

    def __init__(self, deployer: Deployer, namespace: str) -> None:
        self.deployer = deployer
        self.namespace = namespace

    async def start(self, spec: AppSpec) -> Instance:
        return self.deployer.start(self.namespace, spec)

    async def retire(self, instance: Instance) -> None:
        await instance.stop()
        store = self.deployer.store
        shutil.rmtree(store.instance_dir(self.namespace, instance.spec.id, instance.slot), True)

    async def steady(self, instance: Instance, spec: AppSpec) -> None:
        why = await instance.settled(ROLLOUT_STEADY_S)
        if why is not None:
            raise InvalidValue(
                f"an instance of the new definition did not run: {why}; the app "
                "keeps its previous definition",
                field="cmd" if spec.cmd else "args",
                cluster=self.deployer.cluster,
            )


class Deployer:
    def __init__(
        self, client: LocalClient, store: Store, changes: Changes, *, grace_s: float
    ) -> None:
        self.client = client
        self.cluster = client.cluster
        self.store = store
        self.changes = changes
        self.grace_s = grace_s
        self.apps: dict[tuple[str, str], RunningApp] = {}
        self.closed = False
        self.locks = AppLocks(self.cluster)

    # reading

    def get(self, namespace: str, app_id: str) -> RunningApp:
        found = self.apps.get((namespace, app_id))
        if found is None:
            raise NotFound(f"app '{app_id}' not found", cluster=self.cluster)
        return found

    def of(self, namespace: str) -> list[RunningApp]:
        return [a for (ns, _), a in sorted(self.apps.items()) if ns == namespace]

    # instances

    def start(self, namespace: str, spec: AppSpec) -> Instance:
        """Start one supervised instance of the app."""
        if self.closed:  # a change still under way when Asgard stops starts nothing more
            raise ClusterUnreachable(self.cluster, f"local cluster {self.cluster} is closing")
        slot = secrets.token_hex(4)
        folder = self.store.instance_dir(namespace, spec.id, slot)
        identity = self.client.identities.of(namespace)
        home = own_folder(folder / "home", identity)
        launch = Launch(
            argv=argv_of(spec.cmd, spec.args, field="args", cluster=self.cluster),
            env=process_env(str(home), spec.env),
            cwd=home,
            log=folder / "log",
            user=identity,
            pid_file=folder / "pid.json",
        )
        instance = Instance(
            slot,
            spec,
            launch,
            grace_s=self.grace_s,
            changed=lambda: self.changes.tell(APPS, namespace),
        )
        instance.start()
        return instance

    # life

    async def recover(self) -> None:
        """Relaunch every app kept in the state folder (its old processes are ended)."""
        for record in self.store.apps():
            shutil.rmtree(self.store.app_dir(record.namespace, record.spec.id) / "instances", True)
            app = RunningApp(record)
            self.apps[(record.namespace, record.spec.id)] = app
            for _ in range(record.spec.instances):
                app.instances.append(self.start(record.namespace, record.spec))
        self.changes.tell(APPS, None)

    async def close(self) -> None:
        """Stop every process this Asgard started; the definitions stay for the next one."""
        self.closed = True
        await asyncio.gather(*(i.stop() for a in self.apps.values() for i in a.instances))
        self.apps.clear()

    # changes

    def _check(self, account: Account, spec: AppSpec) -> None:
        argv = argv_of(spec.cmd, spec.args, field="args", cluster=self.cluster)
        field = "cmd" if spec.cmd else "args"
        require_program(argv, process_env("", spec.env), field=field, cluster=self.cluster)
        for port in spec.ports:
            if port.published_port not in (None, port.container_port):
                raise InvalidValue(
                    "processes on the host listen on their own ports: a published port "
                    "can only be the container port",
                    field="ports",
                    cluster=self.cluster,
                )
        reason = unmet(self.client.attributes(), account, spec.constraints, agent=HOST)
        if reason:
            raise InvalidValue(reason, field="constraints", cluster=self.cluster)

    async def create(self, account: Account, spec: AppSpec) -> RunningApp:
        key = (account.namespace, spec.id)
        async with self.locks.change(*key):
            if key in self.apps:
                raise Conflict(f"app '{spec.id}' already exists", field="id", cluster=self.cluster)
            self._check(account, spec)
            now = utc_now()
            first = SpecRecord(number=1, spec=spec, deployed_at=now)
            app = RunningApp(
                AppRecord(
                    namespace=account.namespace,
                    spec=spec,
                    created_at=now,
                    updated_at=now,
                    history=[first],
                )
            )
            try:
                self.store.save_app(app.record)
                await launch(Processes(self, app.namespace), app.instances, spec, spec.instances)
            except BaseException:
                self.store.remove_app(account.namespace, spec.id)
                raise
            self.apps[key] = app
        self.changes.tell(APPS, account.namespace)
        return app

    async def update(self, account: Account, app_id: str, patch: AppPatch) -> RunningApp:
        async with self.locks.change(account.namespace, app_id):
            app = self.get(account.namespace, app_id)
            await self._deploy(account, app, patched(app.record.spec, patch))
        return app

    async def redeploy(self, account: Account, app_id: str, spec: AppSpec) -> RunningApp:
        """Deploy an earlier spec again (a rollback), as an update would; refused while
        another change of the app rolls its instances (``AppLocks``)."""
        wanted = spec.model_copy(update={"cluster": self.cluster, "id": app_id})
        async with self.locks.rollback(account.namespace, app_id):
            app = self.get(account.namespace, app_id)
            await self._deploy(account, app, wanted)
        return app

    async def _deploy(self, account: Account, app: RunningApp, wanted: AppSpec) -> None:
        self._check(account, wanted)
        await deploy(Processes(self, app.namespace), app.instances, app.record.spec, wanted)
        self._keep(app, wanted)

    async def restart(self, account: Account, app_id: str) -> RunningApp:
        async with self.locks.change(account.namespace, app_id):
            app = self.get(account.namespace, app_id)
            current = app.record.spec
            await roll(Processes(self, app.namespace), app.instances, current, current)
            self._keep(app, current)
        return app

    async def delete(self, account: Account, app_id: str) -> None:
        async with self.locks.change(account.namespace, app_id):
            app = self.get(account.namespace, app_id)
            del self.apps[(account.namespace, app_id)]
            await asyncio.gather(*(i.stop() for i in app.instances))
            self.store.remove_app(account.namespace, app_id)
        self.changes.tell(APPS, account.namespace)

    def _keep(self, app: RunningApp, spec: AppSpec) -> None:
        now = utc_now()
        history = with_version(app.record, spec, now)
        app.record = app.record.model_copy(
            update={"spec": spec, "updated_at": now, "history": history}
        )
        self.store.save_app(app.record)
        self.changes.tell(APPS, app.namespace)
