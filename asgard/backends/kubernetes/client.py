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
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiohttp
import structlog
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config

from asgard.backends.common import (
    ApiPath,
    Json,
    Segments,
    api_path,
    status_error,
    transport_error,
)
from asgard.backends.contract import ClusterClient
from asgard.backends.kubernetes.config import KubernetesClusterConfig
from asgard.errors import AsgardError, ClusterError, ClusterFailure, ClusterUnauthorized
from asgard.tasks import cancel_and_wait

log = structlog.get_logger(__name__)

LIST_RESTARTS = 3
SERVER = "the API server"
T = TypeVar("T")


def _as_is(item: Json) -> Json:
    return item


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
            token = self._token()
            if token is not None:
                configuration.api_key = {"BearerToken": f"Bearer {token}"}
            elif config.anonymous:
                log.info("talking to the API server without credentials", cluster=self.cluster)
            configuration.verify_ssl = config.checks_tls
            if config.ca_file is not None:
                configuration.ssl_ca_cert = str(config.ca_file)
            if config.client_cert is not None and config.client_key is not None:
                configuration.cert_file = str(config.client_cert)
                configuration.key_file = str(config.client_key)
        return configuration

    def _token(self) -> str | None:
        if self.config.token is not None:
            return self.config.token.get_secret_value()
        if self.config.token_file is None:
            return None
        try:
            return self.config.token_file.read_text().strip()
        except OSError as exc:
            raise ClusterUnauthorized(
                self.cluster, f"cannot read the token file: {exc.strerror}"
            ) from None

    def path(self, *segments: str) -> ApiPath:
        """The one way a path of the API server is made: each segment quoted, none
        climbing (``asgard.backends.common.api_path``)."""
        return api_path(*segments, cluster=self.cluster)

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
        if status == 410:
            return Expired(f"{what}: {message}" if message else what)
        return status_error(status, what, message, cluster=self.cluster, server=SERVER)

    def _unanswered(self, exc: BaseException) -> ClusterError:
        found = transport_error(exc, cluster=self.cluster, server=SERVER, timeout_s=self.timeout_s)
        assert found is not None
        return found

    async def _send(
        self,
        method: str,
        path: Segments,
        *,
        params: Mapping[str, Any] | None,
        body: Any,
        content_type: str,
    ) -> aiohttp.ClientResponse:
        """The raw answer; our own ``asyncio.timeout`` bounds it, not the session's."""
        built = self.path(*path)
        api = await self.api()
        query = [
            (k, v if isinstance(v, str) else json.dumps(v))
            for k, v in (params or {}).items()
            if v is not None
        ]
        response: aiohttp.ClientResponse = await api.call_api(
            built,
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
        path: Segments,
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
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise self._unanswered(exc) from None
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
        self, path: Segments, *, what: str, params: Mapping[str, Any] | None = None
    ) -> tuple[list[Json], str]:
        """Every item, page by page; the list's resourceVersion. A 410 restarts the list."""
        return await self.list_into(path, what=what, params=params, keep=_as_is)

    async def list_into(
        self,
        path: Segments,
        *,
        what: str,
        keep: Callable[[Json], T],
        params: Mapping[str, Any] | None = None,
    ) -> tuple[list[T], str]:
        """Every item as ``keep`` makes it, page by page (a page's JSON is let go once kept:
        150,000 pods are never all parsed at once); the list's resourceVersion. The next
        page is asked for before this one is kept, so that keeping costs no waiting. A 410
        restarts the list."""
        for _ in range(LIST_RESTARTS):
            items: list[T] = []
            try:
                page = await self._page(path, what, params, None)
                while True:
                    meta = page.get("metadata") or {}
                    token = meta.get("continue") or None
                    following = (
                        None
                        if token is None
                        else asyncio.ensure_future(self._page(path, what, params, token))
                    )
                    try:
                        items.extend(keep(item) for item in page.get("items") or [])
                    except BaseException:
                        await cancel_and_wait(following)
                        raise
                    if following is None:
                        return items, str(meta.get("resourceVersion") or "")
                    page = await following
            except Expired:
                continue  # the server forgot where we were: read the list again from the start
        raise ClusterFailure(self.cluster, f"{what}: the list kept expiring while being read")

    async def _page(
        self, path: Segments, what: str, params: Mapping[str, Any] | None, token: str | None
    ) -> Json:
        paging = {"limit": str(self.config.page_size), "continue": token}
        return await self.request("GET", path, what=what, params={**(params or {}), **paging})

    @asynccontextmanager
    async def stream(
        self, path: Segments, *, what: str, params: Mapping[str, Any] | None = None
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
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self._unanswered(exc) from None
        try:
            yield response
        finally:
            response.release()
            response.close()

    async def version(self) -> str:
        answer = await self.request("GET", ("version",), what="version")
        return str(answer.get("gitVersion") or "unknown")
