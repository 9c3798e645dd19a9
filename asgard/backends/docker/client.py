"""The endpoints of one Docker Engine, on the transport that reads every answer
(``transport.py``): nodes, services, tasks, containers, archives, volumes.

The client also knows what the engine is (``EngineMode``): alone, or a Swarm manager.
It is learnt on first use and again when the change feed says the node changed (a
``swarm init``) or a Swarm call is refused because the engine left its Swarm, so no
operation asks the engine what it is before doing its work.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO, Final

import aiohttp
import structlog

from asgard.backends.answers import DEFAULT_CAP_BYTES, expect_keys, unusable
from asgard.backends.common import ApiPath, Json
from asgard.backends.docker.converters import engine_attributes
from asgard.backends.docker.engine_facts import (
    ENGINE_ALONE,
    SERVER_VERSION,
    SWARM,
    EngineHost,
    EngineMode,
)
from asgard.backends.docker.transport import ENGINE, EngineTransport
from asgard.errors import (
    ClusterFailure,
    NotFound,
    PayloadTooLarge,
    UnusableAnswer,
)
from asgard.spooling import spool

__all__ = ["ENGINE_ALONE", "SWARM", "DockerClient", "EngineHost", "EngineMode", "has_labels"]

log = structlog.get_logger(__name__)

ARCHIVE_CHUNK: Final = 256 * 1024
ARCHIVE_TIMEOUT_S: Final = 300.0
"""The longest a job's output may take to come out of its container (it may be large)."""


def has_labels(labels: Mapping[str, str] | None, tests: list[str]) -> bool:
    """Whether ``labels`` pass every label filter test (``key`` or ``key=value``)."""
    have = labels or {}
    for test in tests:
        key, equals, value = test.partition("=")
        if key not in have or (equals and have[key] != value):
            return False
    return True


class DockerClient(EngineTransport):
    """The engine's endpoints; what it is (``EngineMode``) learnt once and kept."""

    def __init__(
        self,
        *,
        cluster: str,
        url: str | None,
        timeout_s: float,
        cap_bytes: int = DEFAULT_CAP_BYTES,
        agent_attributes: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(cluster=cluster, url=url, timeout_s=timeout_s, cap_bytes=cap_bytes)
        self._mode: EngineMode | None = None
        self._host: EngineHost | None = None
        self.agent_attributes = dict(agent_attributes or {})
        """What the cluster's entry says of a single engine's agent, over its labels."""

    async def engine_attributes(self) -> dict[str, str]:
        """A single engine's agent attributes: its labels, and the cluster entry's over them.
        A Docker Engine's labels change when it reloads its configuration, so they are
        asked each time; Podman, which has none, is not asked again."""
        if (await self.host()).podman:
            return dict(self.agent_attributes)
        return engine_attributes(await self.info(), self.agent_attributes)

    async def version(self) -> str:
        """The engine's version, from the ``Server`` header of its ``/_ping``
        (``Docker/20.10.24 (linux)``, ``Libpod/4.3.1 (linux)``): a probe asks it often,
        and Podman answers ``/version`` by running its package manager ten times (about
        0.4 s). An engine whose ping does not name it is asked ``/version``."""
        with suppress(NotFound):  # a proxy letting some paths through
            pinged = await self.headers(self.path("_ping"), what="ping")
            if named := SERVER_VERSION.fullmatch(pinged.get("Server", "")):
                return named["version"]
        answer = await self.request("GET", self.path("version"), what="version")
        found = expect_keys(
            answer, ("Version",), cluster=self.cluster, what="version", server=ENGINE
        )
        return str(found["Version"])

    async def info(self) -> Json:
        answer = await self.request("GET", self.path("info"), what="engine info")
        found: Json = expect_keys(
            answer, ("ID", "NCPU"), cluster=self.cluster, what="engine info", server=ENGINE
        )
        return found

    async def listing(self, path: ApiPath, *, what: str, params: Mapping[str, Any]) -> list[Json]:
        """A list the engine answers as a JSON array of objects, or the cluster's error."""
        answer = await self.request("GET", path, what=what, params=params)
        if not isinstance(answer, list) or not all(isinstance(i, dict) for i in answer):
            raise unusable(self.cluster, what, ENGINE, "JSON of the wrong shape, not a list")
        return answer

    async def mode(self) -> EngineMode:
        """What the engine is, as last learnt (learning it on first use)."""
        return self._mode or await self.learn_mode()

    async def mode_name(self) -> str:
        """``swarm`` or ``engine``, as last learnt: what picks the parts that answer."""
        return (await self.mode()).name

    async def learn_mode(self) -> EngineMode:
        """Ask the engine what it is now (and which host it runs on)."""
        info = await self.info()
        mode = EngineMode.of(info)
        if self._mode is not None and mode != self._mode:
            log.info("docker engine changed mode", cluster=self.cluster, swarm=mode.swarm)
        self._mode = mode
        self._host = EngineHost.of(info)
        return mode

    async def host(self) -> EngineHost:
        """The engine's host, as last learnt with the mode (learning both on first use)."""
        if self._host is None:
            await self.learn_mode()
        assert self._host is not None
        return self._host

    def forget_mode(self) -> None:
        self._mode = None
        self._host = None

    async def nodes(self) -> list[Json]:
        return await self.listing(self.path("nodes"), what="list nodes", params={})

    async def node(self, node_id: str) -> Json:
        result: Json = await self.request(
            "GET", self.path("nodes", node_id), what=f"node {node_id}"
        )
        return result

    async def services(self, filters: Mapping[str, list[str]] | None = None) -> list[Json]:
        params: dict[str, Any] = {"status": "true"}
        if filters:
            params["filters"] = json.dumps(filters)
        return await self.listing(self.path("services"), what="list services", params=params)

    async def tasks(self, filters: Mapping[str, list[str]] | None = None) -> list[Json]:
        params: dict[str, Any] = {}
        if filters:
            params["filters"] = json.dumps(filters)
        return await self.listing(self.path("tasks"), what="list tasks", params=params)

    async def containers(
        self, filters: Mapping[str, list[str]] | None = None, *, all: bool = True
    ) -> list[Json]:
        params: dict[str, Any] = {"all": "1" if all else "0"}
        if filters:
            params["filters"] = json.dumps(filters)
        return await self.listing(
            self.path("containers", "json"), what="list containers", params=params
        )

    async def inspect_container(self, container_id: str) -> Json:
        result: Json = await self.request(
            "GET", self.path("containers", container_id, "json"), what=f"container {container_id}"
        )
        return result

    # writes

    async def create_container(self, config: Json, name: str | None = None) -> str:
        params = {"name": name} if name else {}
        created: Json = await self.request(
            "POST",
            self.path("containers", "create"),
            what=f"create container {name or ''}".strip(),
            params=params,
            body=config,
        )
        return str(created["Id"])

    async def start_container(self, container_id: str) -> None:
        await self.raw(
            "POST",
            self.path("containers", container_id, "start"),
            what=f"start container {container_id}",
        )

    async def stop_container(self, container_id: str, grace_s: int = 10) -> None:
        """SIGTERM, then SIGKILL after ``grace_s``: the app gets its chance to shut down."""
        await self.raw(
            "POST",
            self.path("containers", container_id, "stop"),
            what=f"stop container {container_id}",
            params={"t": str(grace_s)},
            timeout_s=grace_s + self.timeout_s,
        )

    async def kill_container(self, container_id: str) -> None:
        await self.raw(
            "POST",
            self.path("containers", container_id, "kill"),
            what=f"kill container {container_id}",
        )

    async def remove_container(self, container_id: str) -> None:
        """Forced, with its anonymous volumes; a container already gone is not an error."""
        with suppress(NotFound):
            await self.raw(
                "DELETE",
                self.path("containers", container_id),
                what=f"remove container {container_id}",
                params={"force": "1", "v": "1"},
            )

    async def rename_container(self, container_id: str, name: str) -> None:
        await self.raw(
            "POST",
            self.path("containers", container_id, "rename"),
            what="rename container",
            params={"name": name},
        )

    async def put_archive(self, container_id: str, path: str, tar: bytes | BinaryIO) -> None:
        """``tar`` may be a file, which is then streamed (aiohttp reads it in a thread).

        Podman 4.3 now and then fails an upload with a 500 ("passing bulk input to
        subprocess: write |1: broken pipe") that the same upload then passes. Unpacking
        the same files twice is harmless, so a failure the engine answered is tried once
        more, from the start of ``tar``."""
        again = isinstance(tar, bytes) or tar.seekable()  # a stream read once cannot be
        start = tar.tell() if not isinstance(tar, bytes) and again else 0
        for attempt in (1, 2):
            try:
                await self.raw(
                    "PUT",
                    self.path("containers", container_id, "archive"),
                    what=f"copy files into container {container_id}",
                    params={"path": path},
                    body=tar,
                    content_type="application/x-tar",
                )
                return
            except UnusableAnswer:
                raise
            except ClusterFailure:
                if attempt == 2 or not again:
                    raise
                log.warning("an upload the engine failed is tried once more", cluster=self.cluster)
                if not isinstance(tar, bytes):
                    tar.seek(start)

    async def get_archive(self, container_id: str, path: str) -> bytes:
        return await self.raw(
            "GET",
            self.path("containers", container_id, "archive"),
            what=f"copy {path} out of container {container_id}",
            params={"path": path},
        )

    async def archive_to_file(self, container_id: str, path: str, dest: Path, limit: int) -> bool:
        """The engine's tar of ``path`` in the container, streamed to the file ``dest``;
        False, and the rest left unread (the connection closed), once it passes ``limit``
        bytes. It may take up to ``ARCHIVE_TIMEOUT_S`` in all, each chunk the cluster's
        timeout."""
        what = f"copy {path} out of container {container_id}"
        try:
            async with (
                asyncio.timeout(max(self.timeout_s, ARCHIVE_TIMEOUT_S)) as scope,
                self._open(
                    "GET",
                    self.path("containers", container_id, "archive"),
                    what=what,
                    scope=scope,
                    params={"path": path},
                    idle_s=self.timeout_s,
                ) as response,
            ):
                try:
                    await spool(response.content.iter_chunked(ARCHIVE_CHUNK), dest, limit, path)
                except PayloadTooLarge:
                    response.close()
                    return False
                return True
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self.translate(exc, what) from None

    async def create_service(self, spec: Json) -> str:
        created: Json = await self.request(
            "POST", self.path("services", "create"), what="create service", body=spec
        )
        return str(created["ID"])

    async def inspect_service(self, service_id: str) -> Json:
        found: Json = await self.request(
            "GET", self.path("services", service_id), what=f"service {service_id}"
        )
        return found

    async def update_service(self, service_id: str, version: int, spec: Json) -> None:
        await self.request(
            "POST",
            self.path("services", service_id, "update"),
            what=f"update service {service_id}",
            params={"version": str(version)},
            body=spec,
        )

    async def remove_service(self, service_id: str) -> None:
        with suppress(NotFound):
            await self.raw(
                "DELETE", self.path("services", service_id), what=f"remove service {service_id}"
            )

    async def create_volume(
        self, name: str, labels: dict[str, str], driver_opts: dict[str, str] | None = None
    ) -> None:
        """Idempotent, as the engine makes it: a volume of that name is left as it is."""
        body: Json = {"Name": name, "Labels": labels}
        if driver_opts:
            body["DriverOpts"] = driver_opts
        await self.request(
            "POST", self.path("volumes", "create"), what=f"create volume {name}", body=body
        )

    async def inspect_volume(self, name: str) -> Json:
        found: Json = await self.request("GET", self.path("volumes", name), what=f"volume {name}")
        return found

    async def remove_volume(self, name: str) -> None:
        with suppress(NotFound):
            await self.raw(
                "DELETE",
                self.path("volumes", name),
                what=f"remove volume {name}",
                params={"force": "1"},
            )

    async def volumes(self, filters: Mapping[str, list[str]]) -> list[Json]:
        """The volumes every filter holds for. Each ``label`` test must hold, as on a Docker
        Engine: Podman 4.3 answers the volumes matching any of them, which would give one
        job's cleanup another job's volumes; they are checked again here."""
        found: Json = await self.request(
            "GET",
            self.path("volumes"),
            what="list volumes",
            params={"filters": json.dumps(filters)},
        )
        if not isinstance(found, dict):
            raise unusable(self.cluster, "list volumes", ENGINE, "JSON of the wrong shape")
        volumes = found.get("Volumes") or []  # null when there are none
        if not isinstance(volumes, list) or not all(isinstance(v, dict) for v in volumes):
            raise unusable(self.cluster, "list volumes", ENGINE, "JSON of the wrong shape")
        return [v for v in volumes if has_labels(v.get("Labels"), filters.get("label", []))]
