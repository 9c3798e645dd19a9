"""The connection to one Kubernetes API server, through kubernetes_asyncio.

One ``ApiClient`` per cluster, made on first use (the cluster may be down when
Asgard starts) and closed on shutdown. Answers are read as plain JSON, not
the generated models: listing 150,000 pods into model objects costs seconds
that nobody needs. Every call runs under our own timeout, lists are read in
pages, and an expired continue token (410) restarts the list. API failures
become Asgard's typed errors here, once; so does an answer that is not the API
server's (HTML from a login wall, JSON cut short or of another shape, a body over the
cluster's cap: ``asgard.backends.answers``). A busy server's 429 or 503 with
``Retry-After`` (API priority and fairness) is waited out within the call's timeout.
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

from asgard.backends.answers import (
    RETRY_ATTEMPTS,
    expect_keys,
    left_s,
    read_json,
    read_text,
    retry_delay,
    unusable,
)
from asgard.backends.common import (
    ApiPath,
    Json,
    Segments,
    api_path,
    status_error,
    transport_error,
)
from asgard.backends.contract import ClusterClient
from asgard.backends.health import calling
from asgard.backends.kubernetes.config import KubernetesClusterConfig
from asgard.errors import AsgardError, ClusterError, ClusterFailure, ClusterUnauthorized
from asgard.tasks import cancel_and_wait

log = structlog.get_logger(__name__)

LIST_RESTARTS = 3
SERVER = "the API server"
MERGE_PATCH = "application/merge-patch+json"
"""The content type of a JSON merge patch (RFC 7386), which every writer here sends."""
T = TypeVar("T")


def _as_is(item: Json) -> Json:
    return item


class Expired(Exception):
    """410 Gone: a continue token or a watch version too old for the server."""


class KubeClient(ClusterClient):
    names_parts = True

    def __init__(self, config: KubernetesClusterConfig) -> None:
        self.config = config
        self.cluster = config.name
        self.timeout_s = config.timeout_s
        self.cap_bytes = int(config.max_answer_mib * 2**20)
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

    def _error(self, status: int, body: str, what: str) -> Exception:
        try:
            message = str(json.loads(body).get("message") or "")
        except (ValueError, AttributeError):
            message = body[:300]
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
        idle_s: float | None = None,
    ) -> aiohttp.ClientResponse:
        """The raw answer; our own ``asyncio.timeout`` bounds it, not the session's, and
        ``idle_s`` the wait for each chunk of a stream."""
        built = self.path(*path)
        api = await self.api()
        query = [
            (k, v if isinstance(v, str) else json.dumps(v))
            for k, v in (params or {}).items()
            if v is not None
        ]
        with calling(SERVER):
            response: aiohttp.ClientResponse = await api.call_api(
                built,
                method,
                query_params=query,
                header_params={"Content-Type": content_type, "Accept": "application/json"},
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=aiohttp.ClientTimeout(sock_read=idle_s),
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
        """One call answering a JSON object, under the cluster's timeout (a 429 or 503
        with ``Retry-After`` waited out within it, a 401 tried once more with the token
        file read again)."""
        reread = self.config.token_file is not None
        try:
            async with asyncio.timeout(self.timeout_s) as scope:
                for _ in range(RETRY_ATTEMPTS):
                    response = await self._send(
                        method, path, params=params, body=body, content_type=content_type
                    )
                    try:
                        if response.status == 401 and reread:
                            reread = False
                            await self.close()  # the token may have been rotated: read it again
                            continue
                        delay = retry_delay(response.status, response.headers, left_s(scope))
                        if delay is not None:
                            await asyncio.sleep(delay)
                            continue
                        if response.status >= 400:
                            raise self._error(response.status, await read_text(response), what)
                        found: Json = await read_json(
                            response,
                            cluster=self.cluster,
                            what=what,
                            server=SERVER,
                            cap=self.cap_bytes,
                            expect=dict,
                        )
                        return found
                    finally:
                        response.release()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self._unanswered(exc) from None
        raise ClusterFailure(self.cluster, f"{what}: the API server kept asking to wait")

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
        page = await self.request("GET", path, what=what, params={**(params or {}), **paging})
        expect_keys(page, ("items",), cluster=self.cluster, what=what, server=SERVER)
        if not isinstance(page["items"] or [], list):
            raise unusable(self.cluster, what, SERVER, "JSON of the wrong shape: items")
        return page

    @asynccontextmanager
    async def stream(
        self, path: Segments, *, what: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A long answer (logs, watches): only opening it is under the timeout. Then a
        watch must send something before its ``timeoutSeconds`` (and a margin) are up,
        logs read once within the cluster's timeout; followed logs may be quiet for long.
        A stream that stops midway is the cluster's error."""
        idle_s = self._idle_s(params or {})
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self._send(
                    "GET",
                    path,
                    params=params,
                    body=None,
                    content_type="application/json",
                    idle_s=idle_s,
                )
                if response.status >= 400:
                    text = await read_text(response)
                    response.release()
                    raise self._error(response.status, text, what)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self._unanswered(exc) from None
        try:
            yield response
        except (TimeoutError, aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
            problem = "nothing more in time (stalled)" if isinstance(exc, TimeoutError) else exc
            raise unusable(self.cluster, what, SERVER, f"a stream cut short: {problem}") from None
        finally:
            response.release()
            response.close()

    def _idle_s(self, params: Mapping[str, Any]) -> float | None:
        """How long a stream may send nothing before it is taken to have stalled."""
        if "timeoutSeconds" in params:
            return float(params["timeoutSeconds"]) + self.timeout_s
        if str(params.get("follow")).lower() == "true":
            return None
        return self.timeout_s

    async def version(self) -> str:
        answer = await self.request("GET", ("version",), what="version")
        expect_keys(answer, ("gitVersion",), cluster=self.cluster, what="version", server=SERVER)
        return str(answer["gitVersion"])
