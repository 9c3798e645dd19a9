"""The connection to one Docker Engine, with our own timeout on every call.

aiodocker ignores the timeouts of the session it is given (aio-libs/aiodocker#632),
so each call runs inside ``asyncio.timeout``. Engine failures become typed
errors here, once, so the backends above never see an ``aiodocker`` exception.

The client also knows what the engine is (``EngineMode``): alone, or a Swarm manager.
It is learnt on first use and again when the change feed says the node changed (a
``swarm init``) or a Swarm call is refused because the engine left its Swarm, so no
operation asks the engine what it is before doing its work.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, TypeVar

import aiodocker
import aiohttp
import structlog

from asgard.backends.common import Json, object_path, status_error, transport_error
from asgard.backends.contract import ClusterClient
from asgard.errors import ClusterFailure, ClusterUnreachable, Conflict, NotFound, PayloadTooLarge
from asgard.spooling import spool

log = structlog.get_logger(__name__)

T = TypeVar("T")
ENGINE = "the Docker Engine"

ARCHIVE_CHUNK: Final = 256 * 1024
ARCHIVE_TIMEOUT_S: Final = 300.0
"""The longest a job's output may take to come out of its container (it may be large)."""

UNREACHABLE = 900
"""aiodocker's status for 'could not connect to the engine'."""


@dataclass(frozen=True)
class EngineMode:
    """What the engine is: a Swarm manager (apps are services, agents its nodes) or alone
    (apps are labelled containers, the engine's host the one agent)."""

    swarm: bool
    node_id: str
    """This engine's Swarm node: where Swarm jobs are placed, whose containers it can see."""

    @classmethod
    def of(cls, info: Json) -> EngineMode:
        swarm = info.get("Swarm") or {}
        manager = swarm.get("LocalNodeState") == "active" and bool(swarm.get("ControlAvailable"))
        return cls(swarm=manager, node_id=str(swarm.get("NodeID") or "") if manager else "")


class DockerClient(ClusterClient):
    def __init__(self, *, cluster: str, url: str | None, timeout_s: float) -> None:
        self.cluster = cluster
        self.url = url
        self.timeout_s = timeout_s
        self._docker: aiodocker.Docker | None = None
        self._mode: EngineMode | None = None

    def _engine(self) -> aiodocker.Docker:
        if self._docker is None:
            try:
                self._docker = aiodocker.Docker(url=self.url)
            except ValueError as exc:
                raise ClusterUnreachable(
                    self.cluster, f"no Docker Engine to talk to: {exc}"
                ) from None
        return self._docker

    async def close(self) -> None:
        if self._docker is not None:
            await self._docker.close()
            self._docker = None

    def translate(self, exc: BaseException, what: str) -> Exception:
        """One place that turns an engine failure into the error Asgard reports."""
        if isinstance(exc, aiodocker.DockerError):
            status, message = exc.status, str(exc.message).strip()
            if status == UNREACHABLE:
                return ClusterUnreachable(
                    self.cluster, f"{ENGINE} of cluster {self.cluster} is unreachable"
                )
            if "port is already allocated" in message or "address already in use" in message:
                return Conflict(
                    f"{what}: a published port is taken: {message}",
                    field="ports",
                    cluster=self.cluster,
                )
            if status == 503 and "swarm" in message.lower():
                self.forget_mode()  # it left its Swarm (or never was in one): learn it again
                return ClusterFailure(self.cluster, f"{what}: {message}")
            return status_error(status, what, message, cluster=self.cluster, server=ENGINE)
        found = transport_error(exc, cluster=self.cluster, server=ENGINE, timeout_s=self.timeout_s)
        if found is None:
            raise exc
        return found

    async def call(
        self,
        what: str,
        fn: Callable[[aiodocker.Docker], Awaitable[T]],
        timeout_s: float | None = None,
    ) -> T:
        """Run one engine call under our timeout; ``what`` names it in error messages."""
        try:
            async with asyncio.timeout(timeout_s or self.timeout_s):
                return await fn(self._engine())
        except (aiodocker.DockerError, TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self.translate(exc, what) from None

    async def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """A raw Engine API call answering JSON, for what aiodocker does not wrap."""
        path = object_path(path, self.cluster)

        async def send(docker: aiodocker.Docker) -> Any:
            return await docker._query_json(path, method, params=dict(params or {}), data=body)

        return await self.call(what, send)

    async def raw(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        body: bytes | BinaryIO | None = None,
        content_type: str = "application/json",
        timeout_s: float | None = None,
    ) -> bytes:
        """A raw call whose body is not JSON either way (archives in and out of containers)."""
        path = object_path(path, self.cluster)

        async def send(docker: aiodocker.Docker) -> bytes:
            async with docker._query(
                path,
                method,
                params=dict(params or {}),
                data=body,
                headers={"Content-Type": content_type},
            ) as response:
                return await response.read()

        return await self.call(what, send, timeout_s)

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A raw streaming call (logs, events, pulls); only opening it is under a timeout."""
        path = object_path(path, self.cluster)
        try:
            async with asyncio.timeout(timeout_s or self.timeout_s):
                cm = self._engine()._query(
                    path, method, params=dict(params or {}), timeout=aiohttp.ClientTimeout()
                )
                response = await cm.__aenter__()
        except (aiodocker.DockerError, TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self.translate(exc, what) from None
        try:
            yield response
        finally:
            await cm.__aexit__(None, None, None)

    async def version(self) -> str:
        answer: Json = await self.request("GET", "version", what="version")
        return str(answer.get("Version", "unknown"))

    async def info(self) -> Json:
        result: Json = await self.request("GET", "info", what="engine info")
        return result

    async def mode(self) -> EngineMode:
        """What the engine is, as last learnt (learning it on first use)."""
        return self._mode or await self.learn_mode()

    async def learn_mode(self) -> EngineMode:
        """Ask the engine what it is now."""
        mode = EngineMode.of(await self.info())
        if self._mode is not None and mode != self._mode:
            log.info("docker engine changed mode", cluster=self.cluster, swarm=mode.swarm)
        self._mode = mode
        return mode

    def forget_mode(self) -> None:
        self._mode = None

    async def nodes(self) -> list[Json]:
        result: list[Json] = await self.request("GET", "nodes", what="list nodes")
        return result

    async def node(self, node_id: str) -> Json:
        result: Json = await self.request("GET", f"nodes/{node_id}", what=f"node {node_id}")
        return result

    async def services(self, filters: Mapping[str, list[str]] | None = None) -> list[Json]:
        params: dict[str, Any] = {"status": "true"}
        if filters:
            params["filters"] = json.dumps(filters)
        result: list[Json] = await self.request(
            "GET", "services", what="list services", params=params
        )
        return result

    async def tasks(self, filters: Mapping[str, list[str]] | None = None) -> list[Json]:
        params: dict[str, Any] = {}
        if filters:
            params["filters"] = json.dumps(filters)
        result: list[Json] = await self.request("GET", "tasks", what="list tasks", params=params)
        return result

    async def containers(
        self, filters: Mapping[str, list[str]] | None = None, *, all: bool = True
    ) -> list[Json]:
        params: dict[str, Any] = {"all": "1" if all else "0"}
        if filters:
            params["filters"] = json.dumps(filters)
        result: list[Json] = await self.request(
            "GET", "containers/json", what="list containers", params=params
        )
        return result

    async def inspect_container(self, container_id: str) -> Json:
        result: Json = await self.request(
            "GET", f"containers/{container_id}/json", what=f"container {container_id}"
        )
        return result

    # writes

    async def create_container(self, config: Json, name: str | None = None) -> str:
        params = {"name": name} if name else {}
        created: Json = await self.request(
            "POST",
            "containers/create",
            what=f"create container {name or ''}".strip(),
            params=params,
            body=config,
        )
        return str(created["Id"])

    async def start_container(self, container_id: str) -> None:
        await self.raw(
            "POST", f"containers/{container_id}/start", what=f"start container {container_id}"
        )

    async def stop_container(self, container_id: str, grace_s: int = 10) -> None:
        """SIGTERM, then SIGKILL after ``grace_s``: the app gets its chance to shut down."""
        await self.raw(
            "POST",
            f"containers/{container_id}/stop",
            what=f"stop container {container_id}",
            params={"t": str(grace_s)},
            timeout_s=grace_s + self.timeout_s,
        )

    async def kill_container(self, container_id: str) -> None:
        await self.raw(
            "POST", f"containers/{container_id}/kill", what=f"kill container {container_id}"
        )

    async def remove_container(self, container_id: str) -> None:
        """Forced, with its anonymous volumes; a container already gone is not an error."""
        with suppress(NotFound):
            await self.raw(
                "DELETE",
                f"containers/{container_id}",
                what=f"remove container {container_id}",
                params={"force": "1", "v": "1"},
            )

    async def rename_container(self, container_id: str, name: str) -> None:
        await self.raw(
            "POST",
            f"containers/{container_id}/rename",
            what="rename container",
            params={"name": name},
        )

    async def put_archive(self, container_id: str, path: str, tar: bytes | BinaryIO) -> None:
        """``tar`` may be a file, which is then streamed (aiohttp reads it in a thread)."""
        await self.raw(
            "PUT",
            f"containers/{container_id}/archive",
            what=f"copy files into container {container_id}",
            params={"path": path},
            body=tar,
            content_type="application/x-tar",
        )

    async def get_archive(self, container_id: str, path: str) -> bytes:
        return await self.raw(
            "GET",
            f"containers/{container_id}/archive",
            what=f"copy {path} out of container {container_id}",
            params={"path": path},
        )

    async def archive_to_file(self, container_id: str, path: str, dest: Path, limit: int) -> bool:
        """The engine's tar of ``path`` in the container, streamed to the file ``dest``;
        False, and the rest left unread, once it passes ``limit`` bytes."""
        where = object_path(f"containers/{container_id}/archive", self.cluster)

        async def send(docker: aiodocker.Docker) -> bool:
            async with docker._query(where, "GET", params={"path": path}) as response:
                try:
                    await spool(response.content.iter_chunked(ARCHIVE_CHUNK), dest, limit, path)
                except PayloadTooLarge:
                    return False
                finally:
                    response.close()
                return True

        what = f"copy {path} out of container {container_id}"
        return await self.call(what, send, max(self.timeout_s, ARCHIVE_TIMEOUT_S))

    async def create_service(self, spec: Json) -> str:
        created: Json = await self.request(
            "POST", "services/create", what="create service", body=spec
        )
        return str(created["ID"])

    async def inspect_service(self, service_id: str) -> Json:
        found: Json = await self.request(
            "GET", f"services/{service_id}", what=f"service {service_id}"
        )
        return found

    async def update_service(self, service_id: str, version: int, spec: Json) -> None:
        await self.request(
            "POST",
            f"services/{service_id}/update",
            what=f"update service {service_id}",
            params={"version": str(version)},
            body=spec,
        )

    async def remove_service(self, service_id: str) -> None:
        with suppress(NotFound):
            await self.raw("DELETE", f"services/{service_id}", what=f"remove service {service_id}")

    async def create_volume(
        self, name: str, labels: dict[str, str], driver_opts: dict[str, str] | None = None
    ) -> None:
        """Idempotent, as the engine makes it: a volume of that name is left as it is."""
        body: Json = {"Name": name, "Labels": labels}
        if driver_opts:
            body["DriverOpts"] = driver_opts
        await self.request("POST", "volumes/create", what=f"create volume {name}", body=body)

    async def inspect_volume(self, name: str) -> Json:
        found: Json = await self.request("GET", f"volumes/{name}", what=f"volume {name}")
        return found

    async def remove_volume(self, name: str) -> None:
        with suppress(NotFound):
            await self.raw(
                "DELETE", f"volumes/{name}", what=f"remove volume {name}", params={"force": "1"}
            )

    async def volumes(self, filters: Mapping[str, list[str]]) -> list[Json]:
        found: Json = await self.request(
            "GET", "volumes", what="list volumes", params={"filters": json.dumps(filters)}
        )
        return list(found.get("Volumes") or [])
