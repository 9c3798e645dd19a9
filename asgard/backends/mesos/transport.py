"""JSON over HTTP for Mesos, Marathon and Chronos: one session, our timeouts, typed errors.

None of the three has an asyncio client worth its name, so plain aiohttp it is.
Every call runs under the cluster's timeout (a 429 or 503 with ``Retry-After`` waited
out within it), bodies are read within the cluster's cap, and failures become
Asgard's typed errors here, once: an answer that is not JSON, or not the shape the
call expects, is the cluster's ``UnusableAnswer`` (``asgard.backends.answers``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from asgard.backends.answers import (
    DEFAULT_CAP_BYTES,
    RETRY_ATTEMPTS,
    expect_keys,
    left_s,
    parse_json,
    read_bounded,
    retry_delay,
    unusable,
)
from asgard.backends.common import ApiPath, api_path, status_error
from asgard.backends.health import calling
from asgard.errors import ClusterTimeout, ClusterUnreachable

SERVER = "the server"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None

    @property
    def mime(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


class Unanswered(Exception):
    """The server did not answer at all (refused, reset, timed out): try another one."""


class JsonHttp:
    def __init__(self, cluster: str, timeout_s: float, cap_bytes: int = DEFAULT_CAP_BYTES) -> None:
        self.cluster = cluster
        self.timeout_s = timeout_s
        self.cap_bytes = cap_bytes
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout())
        return self._session

    def path(self, *segments: str) -> ApiPath:
        """The one way a path of Mesos', Marathon's or Chronos' API is made: each segment
        quoted, none climbing (``asgard.backends.common.api_path``)."""
        return api_path(*segments, cluster=self.cluster)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self,
        method: str,
        base: str,
        path: ApiPath,
        *,
        part: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        auth: str | None = None,
        timeout_s: float | None = None,
    ) -> Answer:
        """One request to ``path`` of the server at ``base``, sent as it was built (no
        normalising on the way), redirects not followed (masters redirect to their
        leader on purpose). ``Unanswered`` when the server did not answer in time or at
        all. ``part`` is the server's role (``asgard.backends.health``): an answer from
        Marathon says nothing of the masters."""
        limit = timeout_s or self.timeout_s
        url = URL(f"{base.rstrip('/')}{path}", encoded=True)
        with calling(part):
            return await self._send(method, url, limit, params, body, auth)

    async def _send(
        self,
        method: str,
        url: URL,
        limit: float,
        params: Mapping[str, Any] | None,
        body: Any,
        auth: str | None,
    ) -> Answer:
        try:
            async with asyncio.timeout(limit) as scope:
                for attempt in range(1, RETRY_ATTEMPTS + 1):
                    async with self.session().request(
                        method,
                        url,
                        params={k: str(v) for k, v in (params or {}).items() if v is not None},
                        json=body,
                        headers={"Authorization": auth} if auth else None,
                        allow_redirects=False,
                    ) as response:
                        delay = retry_delay(response.status, response.headers, left_s(scope))
                        if delay is None or attempt == RETRY_ATTEMPTS:
                            data = await read_bounded(
                                response,
                                cap=self.cap_bytes,
                                cluster=self.cluster,
                                what=f"{method} {url}",
                                server=SERVER,
                            )
                            return Answer(response.status, response.headers, data)
                    await asyncio.sleep(delay)
                raise AssertionError("unreachable: the last attempt returns")
        except TimeoutError:
            raise Unanswered(f"{url} did not answer in {limit:g} s") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise Unanswered(f"{url} is unreachable: {exc}") from None

    def parse(self, answer: Answer, what: str, *, keys: tuple[str, ...] = ()) -> Any:
        """The JSON of a successful answer; with ``keys``, an object holding them. HTML,
        JSON cut short or of another shape is this cluster's ``UnusableAnswer``."""
        if answer.mime and answer.mime != "application/json" and not answer.mime.endswith("json"):
            start = answer.body[:200].decode(errors="replace")
            raise unusable(self.cluster, what, SERVER, f"{answer.mime}, not JSON: {start!r}")
        found = parse_json(answer.body, cluster=self.cluster, what=what, server=SERVER)
        if keys:
            expect_keys(found, keys, cluster=self.cluster, what=what, server=SERVER)
        return found

    def parse_list(self, answer: Answer, what: str) -> list[Any]:
        """The JSON array of objects a successful answer carries, or the cluster's error."""
        found = self.parse(answer, what)
        if not isinstance(found, list) or not all(isinstance(i, dict) for i in found):
            raise unusable(self.cluster, what, SERVER, "JSON of the wrong shape, not a list")
        return found

    def failure(self, answer: Answer, what: str) -> Exception:
        """The error an answer of 400 and above stands for."""
        try:
            parsed = answer.json()
            message = (
                str(parsed.get("message") or parsed) if isinstance(parsed, dict) else str(parsed)
            )
        except ValueError:
            message = answer.body.decode(errors="replace")[:300]
        return status_error(answer.status, what, message, cluster=self.cluster, server="the server")

    def unreachable(self, what: str, detail: str) -> Exception:
        if "did not answer" in detail:
            return ClusterTimeout(self.cluster, f"{what}: {detail}")
        return ClusterUnreachable(self.cluster, f"{what}: {detail}")
