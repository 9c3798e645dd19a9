"""The connection to one Docker Engine, with our own timeout on every call.

aiodocker ignores the timeouts of the session it is given (aio-libs/aiodocker#632),
so each call runs inside ``asyncio.timeout``. Engine failures become typed
errors here, once, so the backends above never see an ``aiodocker`` exception.

Answers are read here too, never by aiodocker: every status is checked, a JSON body
is read within the cluster's cap and checked for its shape, an error's body is read
only for its message, and the API version is learnt from the engine's ``/version``
as the rest (``asgard.backends.answers``). An endpoint that is not a Docker Engine
(a proxy's 404, a login page, JSON cut short) is thereby the cluster's
``UnusableAnswer``, never an exception out of a library.

The client also knows what the engine is (``EngineMode``): alone, or a Swarm manager.
It is learnt on first use and again when the change feed says the node changed (a
``swarm init``) or a Swarm call is refused because the engine left its Swarm, so no
operation asks the engine what it is before doing its work.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, TypeVar

import aiodocker
import aiohttp
import structlog
from yarl import URL

from asgard.backends.answers import (
    DEFAULT_CAP_BYTES,
    RETRY_ATTEMPTS,
    expect_keys,
    left_s,
    read_bounded,
    read_json,
    read_text,
    retry_delay,
    unusable,
)
from asgard.backends.common import ApiPath, Json, api_path, status_error, transport_error
from asgard.backends.contract import ClusterClient
from asgard.errors import (
    AsgardError,
    ClusterFailure,
    ClusterUnreachable,
    Conflict,
    NotFound,
    PayloadTooLarge,
)
from asgard.spooling import spool

log = structlog.get_logger(__name__)

T = TypeVar("T")
ENGINE = "the Docker Engine"

ARCHIVE_CHUNK: Final = 256 * 1024
ARCHIVE_TIMEOUT_S: Final = 300.0
"""The longest a job's output may take to come out of its container (it may be large)."""

UNREACHABLE = 900
"""aiodocker's status for 'could not connect to the engine'."""
RAW_CAP_BYTES = 2**30
"""An archive copied out of a container (a job's output) may be large: this is the most
read into memory at once, whatever the cluster's cap for JSON."""


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


class _Engine(aiodocker.Docker):
    """aiodocker sending a path as it was built (``DockerClient.path``): yarl would
    otherwise read it again, and resolve what it takes for dot segments."""

    def _canonicalize_url(self, path: str | URL, *, versioned_api: bool = True) -> URL:
        base = f"{self.docker_host}/{self.api_version}" if versioned_api else self.docker_host
        return URL(f"{base}/{path}", encoded=True)


class DockerClient(ClusterClient):
    def __init__(
        self,
        *,
        cluster: str,
        url: str | None,
        timeout_s: float,
        cap_bytes: int = DEFAULT_CAP_BYTES,
    ) -> None:
        self.cluster = cluster
        self.url = url
        self.timeout_s = timeout_s
        self.cap_bytes = cap_bytes
        self._docker: aiodocker.Docker | None = None
        self._mode: EngineMode | None = None

    def _engine(self) -> aiodocker.Docker:
        if self._docker is None:
            try:
                self._docker = _Engine(url=self.url)
            except ValueError as exc:
                raise ClusterUnreachable(
                    self.cluster, f"no Docker Engine to talk to: {exc}"
                ) from None
        return self._docker

    def path(self, *segments: str) -> ApiPath:
        """The one way a path of the Engine API is made: each segment quoted, none
        climbing (``asgard.backends.common.api_path``)."""
        return api_path(*segments, cluster=self.cluster)

    def image_path(self, image: str) -> ApiPath:
        """``images/<reference>/json``: a reference holds ``/`` between its parts
        (``reg:5000/team/app``), which the Engine reads as one name; each part is a
        segment of its own, quoted and refused if it climbs."""
        return self.path("images", *image.split("/"), "json")

    async def close(self) -> None:
        if self._docker is not None:
            await self._docker.close()
            self._docker = None

    def translate(self, exc: BaseException, what: str) -> Exception:
        """One place that turns an engine failure into the error Asgard reports."""
        if isinstance(exc, AsgardError):
            return exc
        if isinstance(exc, aiodocker.DockerError):
            if exc.status == UNREACHABLE:
                return ClusterUnreachable(
                    self.cluster, f"{ENGINE} of cluster {self.cluster} is unreachable"
                )
            return self.refusal(exc.status, str(exc.message).strip(), what)
        found = transport_error(exc, cluster=self.cluster, server=ENGINE, timeout_s=self.timeout_s)
        if found is None:
            raise exc
        return found

    def refusal(self, status: int, message: str, what: str) -> Exception:
        """The error an engine's answer of 400 and above stands for."""
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

    async def _message(self, response: aiohttp.ClientResponse) -> str:
        """An error answer's message: the engine's JSON ``message``, else the text."""
        text = await read_text(response)
        with suppress(ValueError, AttributeError):
            return str(json.loads(text).get("message") or text)
        return text[:300]

    async def _negotiate(self, docker: aiodocker.Docker) -> None:
        """Learn the engine's API version, as aiodocker would, but reading the answer as
        every other: an endpoint that is not an engine fails here, typed."""
        if docker.api_version != "auto":
            return
        url = docker._canonicalize_url("version", versioned_api=False)
        async with docker.session.get(url, timeout=aiohttp.ClientTimeout()) as response:
            if response.status >= 400:
                raise self.refusal(response.status, await self._message(response), "version")
            found = await read_json(
                response,
                cluster=self.cluster,
                what="version",
                server=ENGINE,
                cap=self.cap_bytes,
                expect=dict,
            )
        expect_keys(found, ("ApiVersion",), cluster=self.cluster, what="version", server=ENGINE)
        version = str(found["ApiVersion"])
        if not version.replace(".", "").isdigit():
            raise unusable(self.cluster, "version", ENGINE, f"an API version of {version!r}")
        docker.api_version = f"v{version}"

    @asynccontextmanager
    async def _open(
        self,
        method: str,
        path: ApiPath,
        *,
        what: str,
        scope: asyncio.Timeout,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        content_type: str = "application/json",
        idle_s: float | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """One call's answer, its status checked; a 429 or 503 with ``Retry-After`` is
        waited out while ``scope`` (the call's timeout) allows. ``idle_s`` bounds the
        wait for each chunk of the body (None: a stream that may be quiet for long)."""
        docker = self._engine()
        await self._negotiate(docker)
        url = docker._canonicalize_url(path[1:], versioned_api=True)
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            response = await docker.session.request(
                method,
                url,
                params=dict(params or {}),
                data=data,
                headers={"Content-Type": content_type},
                timeout=aiohttp.ClientTimeout(sock_read=idle_s),
            )
            delay = retry_delay(response.status, response.headers, left_s(scope))
            if delay is None or attempt == RETRY_ATTEMPTS:
                break
            response.release()
            await asyncio.sleep(delay)
        try:
            if response.status >= 400:
                raise self.refusal(response.status, await self._message(response), what)
            yield response
        finally:
            response.release()

    async def request(
        self,
        method: str,
        path: ApiPath,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """A raw Engine API call answering JSON, read within the cap."""
        data = None if body is None else json.dumps(body)
        try:
            async with asyncio.timeout(self.timeout_s) as scope:
                async with self._open(
                    method, path, what=what, scope=scope, params=params, data=data
                ) as response:
                    return await read_json(
                        response, cluster=self.cluster, what=what, server=ENGINE, cap=self.cap_bytes
                    )
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self.translate(exc, what) from None

    async def raw(
        self,
        method: str,
        path: ApiPath,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        body: bytes | BinaryIO | None = None,
        content_type: str = "application/json",
        timeout_s: float | None = None,
    ) -> bytes:
        """A raw call whose body is not JSON either way (archives in and out of containers)."""
        try:
            async with asyncio.timeout(timeout_s or self.timeout_s) as scope:
                async with self._open(
                    method,
                    path,
                    what=what,
                    scope=scope,
                    params=params,
                    data=body,
                    content_type=content_type,
                ) as response:
                    return await read_bounded(
                        response,
                        cap=max(self.cap_bytes, RAW_CAP_BYTES),
                        cluster=self.cluster,
                        what=what,
                        server=ENGINE,
                    )
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self.translate(exc, what) from None

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: ApiPath,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A raw streaming call (logs, events, pulls); only opening it is under a timeout.
        A stream that may rightly be quiet for long (followed logs, events) waits for its
        next chunk as long as it takes; any other (logs read once) must send its next
        chunk within the cluster's timeout, or it stalled and is the cluster's error."""
        quiet = (params or {}).get("follow") in ("1", "true") or path == "/events"
        try:
            async with asyncio.timeout(timeout_s or self.timeout_s) as scope:
                opened = self._open(
                    method,
                    path,
                    what=what,
                    scope=scope,
                    params=params,
                    idle_s=None if quiet else self.timeout_s,
                )
                response = await opened.__aenter__()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self.translate(exc, what) from None
        try:
            yield response
        except (TimeoutError, aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
            raise self.stalled(exc, what) from None
        finally:
            await opened.__aexit__(None, None, None)

    def stalled(self, exc: BaseException, what: str) -> Exception:
        """A stream that stopped sending midway (a stall, a reset): the cluster's error."""
        if isinstance(exc, TimeoutError):
            return unusable(
                self.cluster, what, ENGINE, f"nothing more within {self.timeout_s:g} s (stalled)"
            )
        return unusable(self.cluster, what, ENGINE, f"a stream cut short ({exc})")

    async def version(self) -> str:
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
        """``tar`` may be a file, which is then streamed (aiohttp reads it in a thread)."""
        await self.raw(
            "PUT",
            self.path("containers", container_id, "archive"),
            what=f"copy files into container {container_id}",
            params={"path": path},
            body=tar,
            content_type="application/x-tar",
        )

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
        found: Json = await self.request(
            "GET",
            self.path("volumes"),
            what="list volumes",
            params={"filters": json.dumps(filters)},
        )
        return list(found.get("Volumes") or [])
