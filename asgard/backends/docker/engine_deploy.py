"""Changing apps on a single engine, where Asgard itself does what a Swarm would.

An app is a *definition* container (created, never started: the spec and the
wanted count, see ``engine.py``) and its *instance* containers. Changes roll:
each instance is replaced by starting its successor first, so an app never
drops to zero running instances. A change that fails half way is undone, and
a create that fails removes what it made: nothing is left behind.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable

from asgard.backends.common import Json, app_taken
from asgard.backends.docker import labels as L
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.converters import engine_attributes
from asgard.backends.docker.engine import EngineReader
from asgard.backends.docker.images import ensure_image
from asgard.backends.docker.specs import BASELINE, Hardening, container_config, object_name
from asgard.errors import Conflict, InvalidValue, NotFound
from asgard.models import Account, App, AppPatch, AppSpec
from asgard.models.app import split_constraint
from asgard.models.base import utc_now

STOP_GRACE_S = 10


def unmet(info: Json, account: Account, constraints: list[str]) -> str | None:
    """Why this engine may not run the app, or None. It is the only agent there is."""
    attributes = engine_attributes(info)
    if account.owner is not None and attributes.get("owner") != account.owner:
        return f"this engine is not an agent of owner '{account.owner}'"
    for constraint in constraints:
        attribute, op, value = split_constraint(constraint)
        holds = attributes.get(attribute) == value
        if holds != (op == "=="):
            return f"this engine does not satisfy the constraint {constraint}"
    return None


def spec_of(app: App, instances: int) -> AppSpec:
    return AppSpec(
        cluster=app.cluster,
        id=app.id,
        image=app.image,
        cmd=app.cmd,
        args=app.args,
        env=app.env,
        labels=app.labels,
        resources=app.resources,
        ports=app.ports,
        constraints=app.constraints,
        instances=instances,
    )


def patched(spec: AppSpec, patch: AppPatch) -> AppSpec:
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    return AppSpec.model_validate({**spec.model_dump(), **changes})


class EngineDeployer:
    def __init__(
        self, client: DockerClient, reader: EngineReader, hardening: Hardening = BASELINE
    ) -> None:
        self.client = client
        self.reader = reader
        self.hardening = hardening
        self._locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)

    async def _parts(self, account: Account, app_id: str) -> tuple[Json | None, list[Json]]:
        grouped = await self.reader.containers_by_app(account, app_id)
        containers = grouped.get(app_id, [])
        definition = next(
            (c for c in containers if c["Labels"].get(L.ROLE) == L.ROLE_DEFINITION), None
        )
        instances = [c for c in containers if c["Labels"].get(L.ROLE) != L.ROLE_DEFINITION]
        return definition, sorted(instances, key=lambda c: c.get("Created", 0))

    async def _check(self, account: Account, spec: AppSpec) -> None:
        published = [p for p in spec.ports if p.published_port]
        if published and spec.instances > 1:
            raise InvalidValue(
                "on a single engine a published port can serve one instance only",
                field="ports",
                cluster=self.client.cluster,
            )
        reason = unmet(await self.client.info(), account, spec.constraints)
        if reason:
            raise InvalidValue(reason, field="constraints", cluster=self.client.cluster)
        await ensure_image(self.client, spec.image)

    def _config(self, account: Account, spec: AppSpec, role: str, created_at: str = "") -> Json:
        extra = {L.CONSTRAINTS: json.dumps(spec.constraints)} if spec.constraints else {}
        if role == L.ROLE_DEFINITION:
            extra[L.INSTANCES] = str(spec.instances)
            extra[L.CREATED_AT] = created_at or utc_now().isoformat()
        return container_config(
            account, spec, role=role, extra_labels=extra, hardening=self.hardening
        )

    async def _start_instance(self, account: Account, spec: AppSpec) -> str:
        name = object_name(account.namespace, spec.id, secrets.token_hex(3))
        container_id = await self.client.create_container(
            self._config(account, spec, L.ROLE_INSTANCE), name
        )
        try:
            await self.client.start_container(container_id)
        except BaseException:
            await self.client.remove_container(container_id)
            raise
        return container_id

    async def _retire(self, container_id: str) -> None:
        await self.client.stop_container(container_id, STOP_GRACE_S)
        await self.client.remove_container(container_id)

    async def _write_definition(self, account: Account, spec: AppSpec, old: Json | None) -> str:
        """Definitions are immutable containers: make the new one, then swap it in by name."""
        name = object_name(account.namespace, spec.id)
        created_at = (old or {}).get("Labels", {}).get(L.CREATED_AT, "")
        config = self._config(account, spec, L.ROLE_DEFINITION, created_at)
        if old is None:
            return await self.client.create_container(config, name)
        fresh = await self.client.create_container(
            config, object_name(account.namespace, spec.id, "next", secrets.token_hex(3))
        )
        await self.client.remove_container(old["Id"])
        await self.client.rename_container(fresh, name)
        return fresh

    async def _guarded(
        self, account: Account, app_id: str, work: Callable[[], Awaitable[None]]
    ) -> App:
        async with self._locks[(account.namespace, app_id)]:
            await work()
        return await self.reader.app(account, app_id)

    async def create(self, account: Account, spec: AppSpec) -> App:
        async def work() -> None:
            definition, instances = await self._parts(account, spec.id)
            if definition is not None or instances:
                raise app_taken(spec.id, self.client.cluster)
            await self._check(account, spec)
            made: list[str] = []
            try:
                made.append(await self._write_definition(account, spec, None))
                for _ in range(spec.instances):
                    made.append(await self._start_instance(account, spec))
            except BaseException:
                await asyncio.gather(
                    *(self.client.remove_container(c) for c in made), return_exceptions=True
                )
                raise

        return await self._guarded(account, spec.id, work)

    async def _current(
        self, account: Account, app_id: str
    ) -> tuple[AppSpec, Json | None, list[Json]]:
        app = await self.reader.app(account, app_id)
        definition, instances = await self._parts(account, app_id)
        return spec_of(app, app.instances.desired), definition, instances

    async def _roll(
        self, account: Account, old: AppSpec, new: AppSpec, instances: list[Json]
    ) -> None:
        """Replace each instance, successor first; undo everything if one fails.

        A predecessor's stop starts once its successor runs and is not waited for before
        the next successor starts: stopping takes up to the engine's grace time (10 s for
        a process that ignores SIGTERM), which would otherwise add up per instance."""
        started: list[str] = []
        retiring: list[asyncio.Task[None]] = []
        try:
            for instance in instances[: new.instances]:
                started.append(await self._start_instance(account, new))
                retiring.append(asyncio.create_task(self._retire(instance["Id"])))
            for instance in instances[new.instances :]:
                retiring.append(asyncio.create_task(self._retire(instance["Id"])))
            for _ in range(new.instances - len(instances)):
                started.append(await self._start_instance(account, new))
            await asyncio.gather(*retiring)
        except BaseException:
            ended = await asyncio.gather(*retiring, return_exceptions=True)
            await asyncio.gather(
                *(self.client.remove_container(c) for c in started), return_exceptions=True
            )
            for result in ended:
                if not isinstance(result, BaseException):  # that predecessor is gone
                    await self._start_instance(account, old)
            raise

    async def _scale(self, account: Account, spec: AppSpec, instances: list[Json]) -> None:
        started: list[str] = []
        try:
            for _ in range(spec.instances - len(instances)):
                started.append(await self._start_instance(account, spec))
        except BaseException:
            await asyncio.gather(
                *(self.client.remove_container(c) for c in started), return_exceptions=True
            )
            raise
        extra = instances[spec.instances :] if spec.instances < len(instances) else []
        await asyncio.gather(*(self._retire(c["Id"]) for c in reversed(extra)))

    async def update(self, account: Account, app_id: str, patch: AppPatch) -> App:
        return await self._deploy(account, app_id, lambda current: patched(current, patch))

    async def redeploy(self, account: Account, app_id: str, spec: AppSpec) -> App:
        """Deploy an earlier spec again (a rollback). Refused while another change of the
        app rolls its instances: the engine has no deployment to supersede, and waiting
        behind it would deploy a spec chosen before that change ended."""
        if self._locks[(account.namespace, app_id)].locked():
            raise Conflict(
                f"app '{app_id}' is being deployed; roll back once that is done",
                cluster=self.client.cluster,
            )
        target = spec.model_copy(update={"cluster": self.client.cluster, "id": app_id})
        return await self._deploy(account, app_id, lambda _: target)

    async def _deploy(
        self, account: Account, app_id: str, wanted_from: Callable[[AppSpec], AppSpec]
    ) -> App:
        async def work() -> None:
            current, definition, instances = await self._current(account, app_id)
            wanted = wanted_from(current)
            if wanted.model_dump(exclude={"instances"}) == current.model_dump(
                exclude={"instances"}
            ):
                await self._check(account, wanted)
                await self._scale(account, wanted, instances)
            else:
                await self._check(account, wanted)
                await self._roll(account, current, wanted, instances)
            await self._write_definition(account, wanted, definition)

        return await self._guarded(account, app_id, work)

    async def restart(self, account: Account, app_id: str) -> App:
        async def work() -> None:
            current, definition, instances = await self._current(account, app_id)
            await self._roll(account, current, current, instances)
            if definition is None:
                await self._write_definition(account, current, None)

        return await self._guarded(account, app_id, work)

    async def delete(self, account: Account, app_id: str) -> None:
        async def work() -> None:
            definition, instances = await self._parts(account, app_id)
            if definition is None and not instances:
                raise NotFound(f"app '{app_id}' not found", cluster=self.client.cluster)
            await asyncio.gather(*(self._retire(c["Id"]) for c in instances))
            if definition is not None:
                await self.client.remove_container(definition["Id"])

        async with self._locks[(account.namespace, app_id)]:
            await work()
