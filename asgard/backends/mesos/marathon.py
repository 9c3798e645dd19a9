"""Marathon: apps under the account's group, several instances, the leader from a header.

Every Marathon answers, proxying to the leader, and says who the leader is in
``X-Marathon-Leader``; Asgard then talks to the leader directly, and to the
others in turn when it does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import structlog

from asgard.backends.common import ApiPath
from asgard.backends.mesos.config import KIND
from asgard.backends.mesos.transport import JsonHttp, Unanswered
from asgard.errors import ClusterUnreachable, NotSupported

log = structlog.get_logger(__name__)

LEADER_HEADER = "X-Marathon-Leader"
EVENT_TYPES = [
    "status_update_event",
    "instance_changed_event",
    "api_post_event",
    "app_terminated_event",
    "deployment_info",
    "deployment_success",
    "deployment_failed",
    "deployment_step_success",
    "deployment_step_failure",
]
"""What changes apps and tasks; the health check and framework message events are left out."""
APP_EMBEDS = ["apps.tasks", "apps.counts", "apps.deployments", "apps.lastTaskFailure"]


class Marathon:
    def __init__(self, http: JsonHttp, urls: list[str], auth: str | None) -> None:
        self.http = http
        self.urls = [u.rstrip("/") for u in urls]
        self.auth = auth
        self.leader: str | None = None

    def _order(self) -> list[str]:
        if self.leader is None:
            return list(self.urls)
        return [self.leader, *(u for u in self.urls if u != self.leader)]

    def _learn_leader(self, headers: Mapping[str, str]) -> str | None:
        """The leader an answer names (every instance says who leads), remembered."""
        leader = headers.get(LEADER_HEADER)
        if not leader:
            return None
        leader = leader.rstrip("/")
        if "://" not in leader:
            leader = f"http://{leader}"
        if leader != self.leader:
            log.info("marathon leader", cluster=self.http.cluster, leader=leader)
        self.leader = leader
        return leader

    async def call(
        self,
        method: str,
        path: ApiPath,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        keys: tuple[str, ...] = (),
    ) -> Any:
        """One call's JSON (an object holding ``keys``), from the leader or, failing
        that, the other instances in turn."""
        if not self.urls:
            raise NotSupported(
                KIND, "apps without Marathon (no marathon_urls)", cluster=self.http.cluster
            )
        problems = []
        for url in self._order():
            try:
                answer = await self.http.send(
                    method, url, path, part="marathon", params=params, body=body, auth=self.auth
                )
            except Unanswered as exc:
                problems.append(str(exc))
                if url == self.leader:
                    self.leader = None
                continue
            self._learn_leader(answer.headers)
            if answer.status >= 400:
                raise self.http.failure(answer, what)
            return self.http.parse(answer, what, keys=keys)
        raise ClusterUnreachable(
            self.http.cluster, f"{what}: no Marathon answered: " + "; ".join(problems)
        )

    def path(self, *segments: str) -> ApiPath:
        """A path of Marathon's API, each segment quoted (``JsonHttp.path``)."""
        return self.http.path(*segments)

    def app_path(self, marathon_id: str, *suffix: str) -> ApiPath:
        """``/v2/apps/<group>/<app>[/suffix...]``: a Marathon id is DNS labels joined by
        ``/``, each its own segment (an empty or climbing one is refused, never sent)."""
        return self.path("v2", "apps", *marathon_id.strip("/").split("/"), *suffix)

    async def apps(self, group: str) -> list[dict[str, Any]]:
        """The apps of a group and its subgroups, with their tasks, in one call."""
        found = await self.call(
            "GET",
            self.path("v2", "apps"),
            what="list apps",
            params={"id": group, "embed": APP_EMBEDS},
            keys=("apps",),
        )
        return [a for a in found["apps"] or [] if str(a.get("id", "")).startswith(group)]

    async def app(self, marathon_id: str) -> dict[str, Any]:
        embeds = ["app.tasks", "app.counts", "app.deployments", "app.lastTaskFailure"]
        found = await self.call(
            "GET", self.app_path(marathon_id), what=f"app {marathon_id}", params={"embed": embeds}
        )
        return dict((found or {}).get("app") or {})

    async def versions(self, marathon_id: str) -> list[str]:
        """The app's version ids (timestamps), newest first."""
        found = await self.call(
            "GET", self.app_path(marathon_id, "versions"), what=f"versions of {marathon_id}"
        )
        return [str(v) for v in (found or {}).get("versions") or []]

    async def app_version(self, marathon_id: str, version: str) -> dict[str, Any]:
        """The app's definition as it was in that version."""
        found = await self.call(
            "GET",
            self.app_path(marathon_id, "versions", version),
            what=f"version {version} of {marathon_id}",
        )
        return dict(found or {})

    async def deployments(self) -> list[dict[str, Any]]:
        return list(
            await self.call("GET", self.path("v2", "deployments"), what="list deployments") or []
        )

    async def version(self) -> str:
        info = await self.call("GET", self.path("v2", "info"), what="info", keys=("version",))
        return str(info["version"])

    async def _open_events(self, url: str) -> aiohttp.ClientResponse:
        """``/v2/events`` of one instance; only opening it is under the timeout."""
        async with asyncio.timeout(self.http.timeout_s):
            return await self.http.session().get(
                f"{url}/v2/events",
                params=[("event_type", t) for t in EVENT_TYPES],
                headers={
                    "Accept": "text/event-stream",
                    **({"Authorization": self.auth} if self.auth else {}),
                },
            )

    @contextlib.asynccontextmanager
    async def events(self) -> AsyncIterator[aiohttp.StreamReader | None]:
        """Marathon's ``/v2/events`` (server-sent events) from the leader, or failing that
        from the first instance that streams it. A stream opened on an instance that names
        another leader is left for the leader's own: after a change of leader nobody may
        have asked Marathon anything yet, and a stream through a standby depends on two
        instances and ends when either goes. Yields None when no Marathon offers the stream
        (none configured, or every one answers 404: started without the HTTP event bus),
        so the caller knows to poll; raises ``ClusterUnreachable`` when none could be reached."""
        if not self.urls:
            yield None
            return
        problems = []
        pending = self._order()
        redirected = False  # once: two instances naming each other must not go round forever
        while pending:
            url = pending.pop(0)
            try:
                response = await self._open_events(url)
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                problems.append(f"{url}: {exc or type(exc).__name__}")
                if url == self.leader:
                    self.leader = None
                continue
            if response.status != 200:
                problems.append(f"{url}: {response.status}")
                response.release()
                continue
            leader = self._learn_leader(response.headers)
            if leader != url and leader in pending and not redirected:  # a standby
                redirected = True
                response.close()
                pending.remove(leader)
                pending[:0] = [leader, url]
                continue
            try:
                yield response.content
            finally:
                response.close()
            return
        if all(p.endswith(": 404") for p in problems):
            yield None
            return
        raise ClusterUnreachable(
            self.http.cluster, "no Marathon streamed /v2/events: " + "; ".join(problems)
        )
