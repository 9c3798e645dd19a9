"""Asgard under test: the real application on a real socket, and callers with real keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from asgard.backends.orchestrator import Orchestrator
from asgard.db.engine import Database
from asgard.http.lifecycle import RUNNING
from asgard.http.state import SERVICES, Services
from asgard.models import Account, AccountCreate, Role, User, UserCreate
from asgard.services.principal import SYSTEM


@dataclass
class Caller:
    """A user of the HTTP API, with its own API key."""

    client: AsgardClient
    user: User
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.key}"}

    async def request(
        self, method: str, path: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> ClientResponse:
        return await self.client.request(
            method, path, headers={**self.headers, **(headers or {})}, **kwargs
        )

    async def get(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("PUT", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("DELETE", path, **kwargs)

    async def json(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        """The JSON answer, after checking the status (the body is in the failure message)."""
        response = await self.request(method, path, **kwargs)
        text = await response.text()
        assert response.status == status, f"{method} {path}: {response.status} {text}"
        return await response.json() if text else None


AsgardClient = TestClient[web.Request, web.Application]


class AsgardUnderTest:
    def __init__(self, client: AsgardClient, app: web.Application) -> None:
        self.client = client
        self.app = app

    @property
    def services(self) -> Services:
        return self.app[SERVICES]

    @property
    def db(self) -> Database:
        """The database, as the wiring holds it (handlers never do): for a test to look
        at, or set up, what no route shows."""
        return self.app[RUNNING].database()

    @property
    def orchestrator(self) -> Orchestrator:
        return self.app[RUNNING].orchestrator()

    async def account(
        self,
        name: str,
        namespace: str | None = None,
        owner: str | None = None,
        clusters: list[str] | None = None,
    ) -> Account:
        return await self.services.accounts.create(
            SYSTEM,
            AccountCreate(name=name, namespace=namespace or name, owner=owner, clusters=clusters),
        )

    async def caller(
        self, email: str, *, admin: bool = False, roles: Mapping[int, Role] | None = None
    ) -> Caller:
        """A new user with an API key, member of the given accounts (id -> role)."""
        user = await self.services.users.create(
            SYSTEM, UserCreate(name=email.split("@")[0], email=email, is_admin=admin)
        )
        for account_id, role in (roles or {}).items():
            await self.services.accounts.put_member(SYSTEM, account_id, user.id, role)
        key = await self.services.auth.create_key(user.id, "test")
        return Caller(client=self.client, user=user, key=key.key)
