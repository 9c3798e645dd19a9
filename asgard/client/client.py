"""``AsgardClient``: one object for the whole API, one attribute per area."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import aiohttp

from asgard.client.agents import AgentsClient, ClustersClient
from asgard.client.apps import AppsClient
from asgard.client.audit import AuditClient
from asgard.client.errors import ApiError
from asgard.client.events import EventsClient
from asgard.client.jobs import JobsClient
from asgard.client.people import AccountsClient, TokensClient, UsersClient
from asgard.client.transport import DEFAULT_TIMEOUT, Transport
from asgard.client.workflows import ScheduledJobsClient, WorkflowsClient

__all__ = ["AsgardClient"]


class AsgardClient:
    """Talks to one Asgard server with one key (an API key, or a JWT from
    ``accounts.jwt``). Requests act in ``account_id`` when given, else in the key's account.
    Use it as ``async with AsgardClient(url, key) as asgard: ...`` so its connections close.

    Every method returns the API's models (``asgard.models``, ``asgard.http.schemas``) and
    raises an ``ApiError`` subclass (``NotFound``, ``Conflict``, ...) for an error answer,
    ``ConnectionFailed`` when there is no answer."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        account_id: int | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.transport = Transport(
            url, token, account_id=account_id, session=session, timeout=timeout
        )
        self.agents = AgentsClient(self.transport)
        self.clusters = ClustersClient(self.transport)
        self.apps = AppsClient(self.transport)
        self.jobs = JobsClient(self.transport)
        self.workflows = WorkflowsClient(self.transport)
        self.scheduled_jobs = ScheduledJobsClient(self.transport)
        self.users = UsersClient(self.transport)
        self.accounts = AccountsClient(self.transport)
        self.tokens = TokensClient(self.transport)
        self.events = EventsClient(self.transport)
        self.audit = AuditClient(self.transport)

    @property
    def url(self) -> str:
        return self.transport.url

    async def health(self) -> bool:
        """Whether the service and its database answer (``/health``, no key needed)."""
        try:
            data = await self.transport.call("GET", "/health")
        except ApiError:
            return False
        return isinstance(data, dict) and data.get("status") == "ok"

    async def ready(self) -> bool:
        try:
            await self.transport.call("GET", "/ready")
        except ApiError:
            return False
        return True

    async def openapi(self) -> dict[str, Any]:
        data = await self.transport.call("GET", "/openapi.json")
        assert isinstance(data, dict)
        return data

    async def metrics(self, token: str | None = None) -> str:
        """The Prometheus text; ``token``: the server's ``ASGARD_METRICS_TOKEN``, when it
        reserves ``/metrics`` to its scraper (sent instead of the client's own key)."""
        headers = {"Accept": "*/*"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self.transport.open("GET", "/metrics", headers=headers) as r:
            return await r.text()

    async def close(self) -> None:
        await self.transport.close()

    async def __aenter__(self) -> AsgardClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
