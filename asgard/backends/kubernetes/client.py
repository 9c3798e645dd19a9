"""The connection to one Kubernetes API server, through kubernetes_asyncio.

One ``ApiClient`` per cluster, made on first use (the cluster may be down when
Asgard starts) and closed on shutdown. Answers are read as plain JSON, not
the generated models: listing 150,000 pods into model objects costs seconds
that nobody needs. Every call runs under our own timeout, lists are read in
pages, and an expired continue token (410) restarts the list. API failures
become Asgard's typed errors here, once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import aiohttp
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config
from pydantic import Field, SecretStr, model_validator

from asgard.backends.base import ClusterClient
from asgard.backends.registry import ClusterConfig
from asgard.errors import (
    AsgardError,
    ClusterFailure,
    ClusterTimeout,
    ClusterUnauthorized,
    ClusterUnreachable,
    Conflict,
    InvalidValue,
    NotFound,
)

Json = dict[str, Any]
LIST_RESTARTS = 3


class KubernetesClusterConfig(ClusterConfig):
    """One of: ``url`` (with ``token`` or ``token_file``), ``kubeconfig`` (with ``context``),
    or ``in_cluster = true`` (the pod's service account)."""

    kind: Literal["kubernetes"] = "kubernetes"
    url: str | None = Field(None, description="API server URL, e.g. https://10.0.0.1:6443")
    token: SecretStr | None = Field(None, description="Bearer token")
    token_file: Path | None = Field(
        None, description="File holding the bearer token; re-read on 401"
    )
    kubeconfig: Path | None = None
    context: str | None = Field(None, description="kubeconfig context; the current one by default")
    in_cluster: bool = Field(False, description="Use the service account of the pod Asgard runs in")
    verify_ssl: bool = True
    ca_file: Path | None = Field(None, description="CA bundle for the API server's certificate")
    page_size: int = Field(500, ge=1, le=10_000, description="Items per page when listing")
    helper_image: str = Field(
        "busybox:1.36",
        description="Image with sh, wget, tar and unzip: fetches a job's input, sends its output",
    )
    output_size: str = Field("1Gi", description="Size of the volume a job writes /output to")
    storage_class: str | None = Field(
        None,
        description="Storage class of job output and workflow volumes (unless a workflow asks)",
    )
    job_retention_s: float = Field(7 * 24 * 3600.0, gt=0, description="ttlSecondsAfterFinished")

    @model_validator(mode="after")
    def _one_way_in(self) -> KubernetesClusterConfig:
        ways = [self.url is not None, self.kubeconfig is not None, self.in_cluster]
        if sum(ways) != 1:
            raise ValueError("give exactly one of url, kubeconfig, in_cluster = true")
        if self.url is not None and self.token is None and self.token_file is None:
            raise ValueError("a cluster given by url needs token or token_file")
        return self


class Expired(Exception):
    """410 Gone: a continue token or a watch version too old for the server."""


class KubeClient(ClusterClient):
    def __init__(self, config: KubernetesClusterConfig) -> None:
        self.config = config
        self.cluster = config.name
        self.timeout_s = config.timeout_s
        self._api: k8s_client.ApiClient | None = None
        self._opening = asyncio.Lock()

    async def _configuration(self) -> k8s_client.Configuration:
        config = self.config
        configuration = k8s_client.Configuration()
        if config.kubeconfig is not None:
            await k8s_config.load_kube_config(
                config_file=str(config.kubeconfig),
                context=config.context,
                client_configuration=configuration,
            )
        elif config.in_cluster:
            k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        else:
            configuration.host = str(config.url).rstrip("/")
            configuration.api_key = {"BearerToken": f"Bearer {self._token()}"}
            configuration.verify_ssl = config.verify_ssl
            if config.ca_file is not None:
                configuration.ssl_ca_cert = str(config.ca_file)
        return configuration

    def _token(self) -> str:
        if self.config.token is not None:
            return self.config.token.get_secret_value()
        assert self.config.token_file is not None
        try:
            return self.config.token_file.read_text().strip()
        except OSError as exc:
            raise ClusterUnauthorized(
                self.cluster, f"cannot read the token file: {exc.strerror}"
            ) from None

    async def api(self) -> k8s_client.ApiClient:
        async with self._opening:
            if self._api is None:
                try:
                    self._api = k8s_client.ApiClient(configuration=await self._configuration())
                except AsgardError:
                    raise
                except Exception as exc:  # the loaders raise whatever their parsers do
                    raise ClusterFailure(
                        self.cluster, f"cannot load the cluster's credentials: {exc}"
                    ) from None
            return self._api

    async def close(self) -> None:
        if self._api is not None:
            await self._api.close()
            self._api = None

    def _error(self, status: int, body: bytes, what: str) -> Exception:
        try:
            message = str(json.loads(body).get("message") or "")
        except (ValueError, AttributeError):
            message = body.decode(errors="replace")[:300]
        text = f"{what}: {message}" if message else what
        if status == 404:
            return NotFound(text, cluster=self.cluster)
        if status == 409:
            return Conflict(text, cluster=self.cluster)
        if status == 410:
            return Expired(text)
        if status in (400, 422):
            return InvalidValue(text, cluster=self.cluster)
        if status in (401, 403):
            return ClusterUnauthorized(
                self.cluster, f"the API server refused Asgard's credentials: {text}"
            )
        return ClusterFailure(self.cluster, f"{what}: the API server answered {status}: {message}")

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        body: Any,
        content_type: str,
    ) -> aiohttp.ClientResponse:
        """The raw answer; our own ``asyncio.timeout`` bounds it, not the session's."""
        api = await self.api()
        query = [
            (k, v if isinstance(v, str) else json.dumps(v))
            for k, v in (params or {}).items()
            if v is not None
        ]
        response: aiohttp.ClientResponse = await api.call_api(
            path,
            method,
            query_params=query,
            header_params={"Content-Type": content_type, "Accept": "application/json"},
            body=body,
            auth_settings=["BearerToken"],
            _preload_content=False,
            _request_timeout=aiohttp.ClientTimeout(),
        )
        return response

    async def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Json:
        """One call answering JSON, under the cluster's timeout."""
        for attempt in (1, 2):
            try:
                async with asyncio.timeout(self.timeout_s):
                    response = await self._send(
                        method,
                        path,
                        params=params,
                        body=body,
                        content_type=content_type,
                    )
                    data = await response.read()
            except TimeoutError:
                raise ClusterTimeout(
                    self.cluster, f"{what}: the API server did not answer in {self.timeout_s:g} s"
                ) from None
            except (aiohttp.ClientError, OSError) as exc:
                raise ClusterUnreachable(
                    self.cluster, f"the API server of cluster {self.cluster} is unreachable: {exc}"
                ) from None
            if response.status == 401 and attempt == 1 and self.config.token_file is not None:
                await self.close()  # the token may have been rotated: read it again
                continue
            if response.status >= 400:
                raise self._error(response.status, data, what)
            return dict(json.loads(data)) if data else {}
        raise ClusterUnauthorized(
            self.cluster, f"{what}: the API server refused Asgard's credentials"
        )

    async def list_all(
        self, path: str, *, what: str, params: Mapping[str, Any] | None = None
    ) -> tuple[list[Json], str]:
        """Every item, page by page; the list's resourceVersion. A 410 restarts the list."""
        for _ in range(LIST_RESTARTS):
            items: list[Json] = []
            token: str | None = None
            try:
                while True:
                    page = await self.request(
                        "GET",
                        path,
                        what=what,
                        params={
                            **(params or {}),
                            "limit": str(self.config.page_size),
                            "continue": token,
                        },
                    )
                    items.extend(page.get("items") or [])
                    meta = page.get("metadata") or {}
                    token = meta.get("continue") or None
                    if token is None:
                        return items, str(meta.get("resourceVersion") or "")
            except Expired:
                continue  # the server forgot where we were: read the list again from the start
        raise ClusterFailure(self.cluster, f"{what}: the list kept expiring while being read")

    @asynccontextmanager
    async def stream(
        self, path: str, *, what: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A long answer (logs, watches): only opening it is under the timeout."""
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self._send(
                    "GET",
                    path,
                    params=params,
                    body=None,
                    content_type="application/json",
                )
                if response.status >= 400:
                    raise self._error(response.status, await response.read(), what)
        except TimeoutError:
            raise ClusterTimeout(
                self.cluster, f"{what}: the API server did not answer in {self.timeout_s:g} s"
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise ClusterUnreachable(
                self.cluster, f"the API server of cluster {self.cluster} is unreachable: {exc}"
            ) from None
        try:
            yield response
        finally:
            response.release()
            response.close()

    async def version(self) -> str:
        answer = await self.request("GET", "/version", what="version")
        return str(answer.get("gitVersion") or "unknown")
