"""Changing apps on the host, where Asgard itself does what an orchestrator would.

An app is its definition (``AppRecord``, kept in the state folder, so it survives
Asgard's restarts and a suspension at 0 instances) and its instances (``Instance``, one
supervised process each). A change of anything but the instance count rolls: each
instance's successor is started and must run steadily for ``ROLLOUT_STEADY_S`` before its
predecessor is stopped, so an app never has fewer instances than it wants; a successor
that ends at once undoes the rollout, and the app keeps its previous definition. Changes
to one app wait for each other (a lock per app).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
from collections import defaultdict
from datetime import datetime

from asgard.errors import ClusterUnreachable, Conflict, InvalidValue, NotFound
from asgard.models import Account, AppPatch, AppSpec
from asgard.models.app import split_constraint
from asgard.models.base import utc_now
from asgard_local.client import LocalClient
from asgard_local.commands import argv_of, process_env, require_program
from asgard_local.feed import APPS, Changes
from asgard_local.identities import own_folder
from asgard_local.processes import Launch
from asgard_local.store import AppRecord, SpecRecord, Store
from asgard_local.supervisor import Instance, InstanceView

__all__ = ["Deployer", "RunningApp", "patched", "unmet", "with_version"]

SPECS_KEPT = 20
"""Versions of an app kept in its record."""
ROLLOUT_STEADY_S = 0.5
"""How long a rollout's successor must run before its predecessor is stopped."""


def unmet(attributes: dict[str, str], account: Account, constraints: list[str]) -> str | None:
    """Why the host may not run the app, or None. It is the only agent there is."""
    if account.owner is not None and attributes.get("owner") != account.owner:
        return f"this host is not an agent of owner '{account.owner}'"
    for constraint in constraints:
        attribute, op, value = split_constraint(constraint)
        if (attributes.get(attribute) == value) != (op == "=="):
            return f"this host does not satisfy the constraint {constraint}"
    return None


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


def patched(spec: AppSpec, patch: AppPatch) -> AppSpec:
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    return AppSpec.model_validate({**spec.model_dump(), **changes})


class RunningApp:
    def __init__(self, record: AppRecord) -> None:
        self.record = record
        self.instances: list[Instance] = []

    @property
    def namespace(self) -> str:
        return self.record.namespace

    def views(self) -> list[InstanceView]:
        return [i.view() for i in self.instances]


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
        self._locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)

    # reading

    def get(self, namespace: str, app_id: str) -> RunningApp:
        found = self.apps.get((namespace, app_id))
        if found is None:
            raise NotFound(f"app '{app_id}' not found", cluster=self.cluster)
        return found

    def of(self, namespace: str) -> list[RunningApp]:
        return [a for (ns, _), a in sorted(self.apps.items()) if ns == namespace]

    # instances

    def _start(self, namespace: str, spec: AppSpec) -> Instance:
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

    async def _retire(self, namespace: str, instance: Instance) -> None:
        await instance.stop()
        shutil.rmtree(self.store.instance_dir(namespace, instance.spec.id, instance.slot), True)

    # life

    async def recover(self) -> None:
        """Relaunch every app kept in the state folder (its old processes are ended)."""
        for record in self.store.apps():
            shutil.rmtree(self.store.app_dir(record.namespace, record.spec.id) / "instances", True)
            app = RunningApp(record)
            self.apps[(record.namespace, record.spec.id)] = app
            for _ in range(record.spec.instances):
                app.instances.append(self._start(record.namespace, record.spec))
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
        reason = unmet(self.client.attributes(), account, spec.constraints)
        if reason:
            raise InvalidValue(reason, field="constraints", cluster=self.cluster)

    async def create(self, account: Account, spec: AppSpec) -> RunningApp:
        key = (account.namespace, spec.id)
        async with self._locks[key]:
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
                for _ in range(spec.instances):
                    app.instances.append(self._start(account.namespace, spec))
            except BaseException:
                await asyncio.gather(*(i.stop() for i in app.instances))
                self.store.remove_app(account.namespace, spec.id)
                raise
            self.apps[key] = app
        self.changes.tell(APPS, account.namespace)
        return app

    async def update(self, account: Account, app_id: str, patch: AppPatch) -> RunningApp:
        async with self._locks[(account.namespace, app_id)]:
            app = self.get(account.namespace, app_id)
            current = app.record.spec
            wanted = patched(current, patch)
            self._check(account, wanted)
            if wanted.model_dump(exclude={"instances"}) == current.model_dump(
                exclude={"instances"}
            ):
                await self._scale(app, wanted)
            else:
                await self._roll(app, wanted)
            self._keep(app, wanted)
        return app

    async def restart(self, account: Account, app_id: str) -> RunningApp:
        async with self._locks[(account.namespace, app_id)]:
            app = self.get(account.namespace, app_id)
            await self._roll(app, app.record.spec)
            self._keep(app, app.record.spec)
        return app

    async def delete(self, account: Account, app_id: str) -> None:
        async with self._locks[(account.namespace, app_id)]:
            app = self.get(account.namespace, app_id)
            del self.apps[(account.namespace, app_id)]
            await asyncio.gather(*(i.stop() for i in app.instances))
            self.store.remove_app(account.namespace, app_id)
        self.changes.tell(APPS, account.namespace)

    async def redeploy(self, account: Account, app_id: str, spec: AppSpec) -> RunningApp:
        """Deploy an earlier spec again (a rollback). Refused while another change of the
        app rolls its instances, rather than run after it with a spec chosen before it."""
        if self._locks[(account.namespace, app_id)].locked():
            raise Conflict(
                f"app '{app_id}' is being deployed; roll back once that is done",
                cluster=self.cluster,
            )
        wanted = spec.model_copy(update={"cluster": self.cluster, "id": app_id})
        async with self._locks[(account.namespace, app_id)]:
            app = self.get(account.namespace, app_id)
            self._check(account, wanted)
            if wanted.model_dump(exclude={"instances"}) == app.record.spec.model_dump(
                exclude={"instances"}
            ):
                await self._scale(app, wanted)
            else:
                await self._roll(app, wanted)
            self._keep(app, wanted)
        return app

    def _keep(self, app: RunningApp, spec: AppSpec) -> None:
        now = utc_now()
        history = with_version(app.record, spec, now)
        app.record = app.record.model_copy(
            update={"spec": spec, "updated_at": now, "history": history}
        )
        self.store.save_app(app.record)
        self.changes.tell(APPS, app.namespace)

    async def _scale(self, app: RunningApp, spec: AppSpec) -> None:
        while len(app.instances) < spec.instances:
            app.instances.append(self._start(app.namespace, spec))
        extra = app.instances[spec.instances :]
        del app.instances[spec.instances :]
        await asyncio.gather(*(self._retire(app.namespace, i) for i in reversed(extra)))

    async def _roll(self, app: RunningApp, new: AppSpec) -> None:
        """Replace each instance, successor first; undo everything if one cannot run.

        A predecessor's stop is not waited for before the next successor starts: it takes
        up to the grace time for a process that ignores SIGTERM, which would add up."""
        before = list(app.instances)
        started: list[Instance] = []
        retiring: list[tuple[Instance, asyncio.Task[None]]] = []

        def retire(instance: Instance) -> None:
            app.instances.remove(instance)
            retiring.append((instance, asyncio.create_task(self._retire(app.namespace, instance))))

        try:
            for predecessor in before[: new.instances]:
                successor = self._start(app.namespace, new)
                app.instances.append(successor)
                started.append(successor)
                why = await successor.settled(ROLLOUT_STEADY_S)
                if why is not None:
                    raise InvalidValue(
                        f"an instance of the new definition did not run: {why}; the app "
                        "keeps its previous definition",
                        field="cmd" if new.cmd else "args",
                        cluster=self.cluster,
                    )
                retire(predecessor)
            for predecessor in before[new.instances :]:
                retire(predecessor)
            for _ in range(new.instances - len(before)):
                started.append(self._start(app.namespace, new))
                app.instances.append(started[-1])
            await asyncio.gather(*(task for _, task in retiring))
        except BaseException:
            await self._undo(app, started, retiring)
            raise

    async def _undo(
        self,
        app: RunningApp,
        started: list[Instance],
        retiring: list[tuple[Instance, asyncio.Task[None]]],
    ) -> None:
        """Back to the instances before a rollout: its successors stopped, its retired
        predecessors started again from their own definition."""
        for _, task in retiring:
            with contextlib.suppress(BaseException):
                await task
        for successor in started:
            if successor in app.instances:
                app.instances.remove(successor)
            await self._retire(app.namespace, successor)
        for predecessor, _ in retiring:
            app.instances.append(self._start(app.namespace, predecessor.spec))
