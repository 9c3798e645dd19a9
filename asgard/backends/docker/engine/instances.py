"""An app's containers on a single engine, written: its instances, which a rollout starts
and retires (``asgard.backends.rollout``), and its definition.

An instance is a started container; the definition a container created and never
started, holding the spec and the wanted count (see ``containers.py``). Definitions are
immutable: a change makes a new one and swaps it in by name.
"""

from __future__ import annotations

import json
import secrets

from asgard.backends.common import Json
from asgard.backends.docker import labels as L
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.specs import BASELINE, Hardening, container_config, object_name
from asgard.backends.rollout import Instances
from asgard.models import Account, AppSpec
from asgard.models.base import utc_now

__all__ = ["AppInstances"]

STOP_GRACE_S = 10


class AppInstances(Instances[str]):
    """The containers of one account's apps: instances by container id, and definitions."""

    def __init__(
        self, client: DockerClient, account: Account, hardening: Hardening = BASELINE
    ) -> None:
        self.client = client
        self.account = account
        self.hardening = hardening

    def _config(self, spec: AppSpec, role: str, created_at: str = "") -> Json:
        extra = {L.CONSTRAINTS: json.dumps(spec.constraints)} if spec.constraints else {}
        if role == L.ROLE_DEFINITION:
            extra[L.ENV_NAMES] = L.env_names(spec.env)
            extra[L.PORTS] = json.dumps([p.model_dump(mode="json") for p in spec.ports])
            extra[L.INSTANCES] = str(spec.instances)
            extra[L.CREATED_AT] = created_at or utc_now().isoformat()
        return container_config(
            self.account, spec, role=role, extra_labels=extra, hardening=self.hardening
        )

    async def start(self, spec: AppSpec) -> str:
        name = object_name(self.account.namespace, spec.id, secrets.token_hex(3))
        container_id = await self.client.create_container(self._config(spec, L.ROLE_INSTANCE), name)
        try:
            await self.client.start_container(container_id)
        except BaseException:
            await self.client.remove_container(container_id)
            raise
        return container_id

    async def retire(self, instance: str) -> None:
        await self.client.stop_container(instance, STOP_GRACE_S)
        await self.client.remove_container(instance)

    async def discard(self, instance: str) -> None:
        await self.client.remove_container(instance)

    async def write_definition(self, spec: AppSpec, old: Json | None) -> str:
        """Make the app's definition say ``spec``: a new container, swapped in by name for
        ``old`` (None: the app had none), keeping when the app was made."""
        namespace = self.account.namespace
        name = object_name(namespace, spec.id)
        created_at = (old or {}).get("Labels", {}).get(L.CREATED_AT, "")
        config = self._config(spec, L.ROLE_DEFINITION, created_at)
        if old is None:
            return await self.client.create_container(config, name)
        fresh = await self.client.create_container(
            config, object_name(namespace, spec.id, "next", secrets.token_hex(3))
        )
        await self.client.remove_container(old["Id"])
        await self.client.rename_container(fresh, name)
        return fresh
