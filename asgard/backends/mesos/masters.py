"""The Mesos masters of a cluster, and its agents.

Any master answers ``/master/redirect`` with a 307 to the leader
(``Location: //host:port``); a master that is not the leader redirects the
other endpoints the same way. The leader found is remembered; when it stops
answering, or redirects, the masters are asked again and the call is made
once more, so a change of leader never reaches Asgard's users.
``/master/state`` is never asked for: it is too heavy for large clusters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import structlog

from asgard.backends.common import ApiPath
from asgard.backends.health import WHOLE
from asgard.backends.mesos.transport import Answer, JsonHttp, Unanswered
from asgard.errors import ClusterUnreachable

log = structlog.get_logger(__name__)
MASTERS = "mesos masters"
"""The masters, as one part of the cluster's health: any of them answering is the part
answering."""


class NoLeader(Exception):
    pass


class MesosMasters:
    def __init__(self, http: JsonHttp, urls: list[str]) -> None:
        self.http = http
        self.urls = [u.rstrip("/") for u in urls]
        self.leader: str | None = None

    async def _find_leader(self) -> str:
        problems = []
        for url in self.urls:
            try:
                answer = await self.http.send(
                    "GET", url, self.http.path("master", "redirect"), part=MASTERS
                )
            except Unanswered as exc:
                problems.append(str(exc))
                continue
            location = answer.headers.get("Location")
            if answer.status in (301, 302, 307) and location:
                found = urlsplit(location if "//" in location else f"//{location}")
                scheme = urlsplit(url).scheme or "http"
                leader = f"{scheme}://{found.netloc}"
                if leader != self.leader:
                    log.info("mesos leader found", cluster=self.http.cluster, leader=leader)
                return leader
            problems.append(f"{url} knows no leader ({answer.status})")
        raise ClusterUnreachable(
            self.http.cluster, "no Mesos master knows a leader: " + "; ".join(problems)
        )

    async def get(
        self,
        path: ApiPath,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        keys: tuple[str, ...] = (),
    ) -> Any:
        """A GET on the leading master, finding the leader again if it changed; its JSON,
        an object holding ``keys``."""
        for attempt in (1, 2):
            if self.leader is None:
                self.leader = await self._find_leader()
            try:
                answer: Answer = await self.http.send(
                    "GET", self.leader, path, part=MASTERS, params=params
                )
            except Unanswered as exc:
                log.warning(
                    "mesos leader did not answer", cluster=self.http.cluster, error=str(exc)
                )
                self.leader = None
                if attempt == 2:
                    raise self.http.unreachable(what, str(exc)) from None
                continue
            if answer.status in (301, 302, 307):  # not the leader any more
                self.leader = None
                continue
            if answer.status >= 400:
                raise self.http.failure(answer, what)
            return self.http.parse(answer, what, keys=keys)
        raise ClusterUnreachable(self.http.cluster, f"{what}: the Mesos leader kept changing")

    async def version(self) -> str:
        answer = await self.get(self.http.path("version"), what="version", keys=("version",))
        return str(answer["version"])

    async def agents(self, agent_id: str | None = None) -> list[dict[str, Any]]:
        params = {"slave_id": agent_id} if agent_id else None
        answer = await self.get(
            self.http.path("master", "slaves"), what="list agents", params=params, keys=("slaves",)
        )
        return list(answer["slaves"] or [])

    async def tasks(self, page_size: int) -> list[dict[str, Any]]:
        """Every task, ``page_size`` at a time: ``/master/tasks`` pages with limit and offset."""
        found: list[dict[str, Any]] = []
        while True:
            page = await self.get(
                self.http.path("master", "tasks"),
                what="list tasks",
                params={"limit": page_size, "offset": len(found)},
                keys=("tasks",),
            )
            tasks = list(page["tasks"] or [])
            found.extend(tasks)
            if len(tasks) < page_size:
                return found


class Agent:
    """One agent, asked directly at ``http://<hostname>:<port>``. No probe asks agents,
    so a failure of one is the whole cluster's until the next answer from anything
    (``asgard.backends.health.WHOLE``), as with a kind of one server."""

    def __init__(self, http: JsonHttp, info: Mapping[str, Any]) -> None:
        self.http = http
        self.id = str(info["id"])
        self.url = f"http://{info['hostname']}:{info.get('port', 5051)}"

    async def get(
        self, path: ApiPath, *, what: str, params: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            answer = await self.http.send("GET", self.url, path, part=WHOLE, params=params)
        except Unanswered as exc:
            raise self.http.unreachable(f"agent {self.id}: {what}", str(exc)) from None
        if answer.status >= 400:
            raise self.http.failure(answer, f"agent {self.id}: {what}")
        return self.http.parse(answer, f"agent {self.id}: {what}")

    async def containers(self) -> list[dict[str, Any]]:
        return list(await self.get(self.http.path("containers"), what="containers") or [])

    async def state(self) -> dict[str, Any]:
        return dict(await self.get(self.http.path("state"), what="state") or {})

    async def read_file(self, path: str, offset: int, length: int) -> dict[str, Any]:
        return dict(
            await self.get(
                self.http.path("files", "read"),
                what=f"read {path}",
                params={"path": path, "offset": offset, "length": length},
            )
            or {}
        )
