"""How Asgard talks to one Docker Engine: the connection, our own timeout on every call,
every answer read and checked here, and engine failures turned into typed errors, once.

aiodocker ignores the timeouts of the session it is given (aio-libs/aiodocker#632),
so each call runs inside ``asyncio.timeout``; and aiodocker reads no answer: every
status is checked, a JSON body is read within the cluster's cap and checked for its
shape, an error's body is read only for its message, and the API version is learnt from
the engine's ``/version`` as the rest (``asgard.backends.answers``). An endpoint that is
not a Docker Engine (a proxy's 404, a login page, JSON cut short) is thereby the
cluster's ``UnusableAnswer``, never an exception out of a library. Paths are made by
``path`` alone (``asgard.backends.common.api_path``) and sent as built.

``DockerClient`` (``client.py``) names the engine's endpoints on top of this.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any, BinaryIO, Final

import aiodocker
import aiohttp
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
from asgard.backends.common import ApiPath, api_path, status_error, transport_error
from asgard.backends.contract import ClusterClient
from asgard.backends.health import calling
from asgard.errors import AsgardError, ClusterFailure, ClusterUnreachable, Conflict

__all__ = ["ENGINE", "EngineTransport"]

ENGINE: Final = "the Docker Engine"
UNREACHABLE: Final = 900
"""aiodocker's status for 'could not connect to the engine'."""
RAW_CAP_BYTES: Final = 2**30
"""An archive copied out of a container may be large: this is the most read into memory
at once, whatever the cluster's cap for JSON."""


class _Engine(aiodocker.Docker):
    """aiodocker sending a path as it was built (``DockerClient.path``): yarl would
    otherwise read it again, and resolve what it takes for dot segments."""

    def _canonicalize_url(self, path: str | URL, *, versioned_api: bool = True) -> URL:
        base = f"{self.docker_host}/{self.api_version}" if versioned_api else self.docker_host
        return URL(f"{base}/{path}", encoded=True)


class EngineTransport(ClusterClient):
    """Calls to one engine: ``request`` (JSON), ``raw`` (archives), ``stream`` (logs,
    events), each under the cluster's timeout and cap."""

    names_parts = True

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
        """Learn the engine's API version as the docker CLI does, from the ``Api-Version``
        header of ``/_ping`` (aiodocker asks ``/version``, which Podman answers by running
        its package manager ten times, about 0.4 s); an endpoint whose ping does not say
        (or that has no ping: a proxy letting some paths through) is asked ``/version``,
        read as every other answer, so that one that is not an engine fails here, typed."""
        if docker.api_version != "auto":
            return
        url = docker._canonicalize_url("_ping", versioned_api=False)
        async with docker.session.get(url, timeout=aiohttp.ClientTimeout()) as response:
            if response.status >= 400 and response.status != 404:
                raise self.refusal(response.status, await self._message(response), "ping")
            version = response.headers.get("Api-Version", "") if response.status < 400 else ""
        version = version or await self._version_document_api(docker)
        if not version.replace(".", "").isdigit():
            raise unusable(self.cluster, "version", ENGINE, f"an API version of {version!r}")
        docker.api_version = f"v{version}"

    async def _version_document_api(self, docker: aiodocker.Docker) -> str:
        """The ``ApiVersion`` of the engine's ``/version``."""
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
        return str(found["ApiVersion"])

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
        with calling(ENGINE):
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

    async def headers(self, path: ApiPath, *, what: str) -> Mapping[str, str]:
        """A ``GET`` whose answer is in its headers (``/_ping``); the body is read within
        the cap and dropped."""
        try:
            async with asyncio.timeout(self.timeout_s) as scope:
                async with self._open("GET", path, what=what, scope=scope) as response:
                    await read_bounded(
                        response, cap=self.cap_bytes, cluster=self.cluster, what=what, server=ENGINE
                    )
                    return dict(response.headers)
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

    def forget_mode(self) -> None:
        """The engine may have joined or left a Swarm: ``DockerClient`` learns it again."""
