"""Chronos: jobs whose names start with the account's namespace and ``_``.

``/v1/scheduler/jobs/search?name=`` matches anywhere in the name, so what it
finds is narrowed to the exact prefix here. ``/v1/scheduler/iso8601`` both
creates and replaces a job. Optional HTTP basic auth; the password is never
logged.
"""

from __future__ import annotations

from typing import Any

from asgard.backends.answers import unusable
from asgard.backends.common import ApiPath
from asgard.backends.mesos.config import KIND
from asgard.backends.mesos.transport import SERVER, JsonHttp, Unanswered
from asgard.errors import NotFound, NotSupported


class Chronos:
    def __init__(self, http: JsonHttp, url: str | None, auth: str | None) -> None:
        self.http = http
        self.url = url.rstrip("/") if url else None
        self.auth = auth

    async def call(
        self,
        method: str,
        path: ApiPath,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        keys: tuple[str, ...] = (),
    ) -> Any:
        if self.url is None:
            raise NotSupported(
                KIND, "jobs without Chronos (no chronos_url)", cluster=self.http.cluster
            )
        try:
            answer = await self.http.send(
                method, self.url, path, part="chronos", params=params, body=body, auth=self.auth
            )
        except Unanswered as exc:
            raise self.http.unreachable(what, str(exc)) from None
        if answer.status == 400 and method in ("GET", "DELETE") and "/job/" in path:
            raise NotFound(f"{what}: no such job", cluster=self.http.cluster)  # Chronos says 400
        if answer.status >= 400:
            raise self.http.failure(answer, what)
        return self.http.parse(answer, what, keys=keys)

    async def search(self, prefix: str) -> list[dict[str, Any]]:
        found = await self.call(
            "GET",
            self.http.path("v1", "scheduler", "jobs", "search"),
            what="search jobs",
            params={"name": prefix},
        )
        if not isinstance(found, list) or not all(isinstance(j, dict) for j in found):
            raise unusable(
                self.http.cluster, "search jobs", SERVER, "JSON of the wrong shape, not a list"
            )
        return [j for j in found if str(j.get("name", "")).startswith(prefix)]

    async def alive(self) -> None:
        """Ask Chronos something cheap: a search for a name no job can have."""
        await self.call(
            "GET",
            self.http.path("v1", "scheduler", "jobs", "search"),
            what="search jobs",
            params={"name": "~asgard-probe~"},
        )

    async def job(self, name: str) -> dict[str, Any]:
        found = await self.call(
            "GET", self.http.path("v1", "scheduler", "job", name), what=f"job {name}"
        )
        if not found:
            raise NotFound(f"job {name}: no such job", cluster=self.http.cluster)
        return dict(found)

    async def save(self, job: dict[str, Any]) -> None:
        await self.call(
            "POST",
            self.http.path("v1", "scheduler", "iso8601"),
            what=f"save job {job.get('name')}",
            body=job,
        )

    async def delete(self, name: str) -> None:
        await self.call(
            "DELETE", self.http.path("v1", "scheduler", "job", name), what=f"delete job {name}"
        )

    async def kill(self, name: str) -> None:
        await self.call(
            "DELETE",
            self.http.path("v1", "scheduler", "task", "kill", name),
            what=f"stop job {name}",
        )

    async def summary(self) -> dict[str, dict[str, Any]]:
        found = await self.call(
            "GET",
            self.http.path("v1", "scheduler", "jobs", "summary"),
            what="job summary",
            keys=("jobs",),
        )
        return {str(j.get("name")): dict(j) for j in found["jobs"] or []}
