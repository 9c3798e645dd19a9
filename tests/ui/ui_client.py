"""Logging in to the dashboard from a test, as a browser would, without one."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import ClientResponse

from asgard.http.sessions import COOKIE
from tests.support.asgard import AsgardClient, Caller

CSRF_META = re.compile(r'<meta name="csrf-token" content="([0-9a-f]*)">')


class Browser:
    """One logged-in session: its cookie sent by hand, so each test says what it sends."""

    def __init__(self, client: AsgardClient, token: str) -> None:
        self.client = client
        self.token = token

    @property
    def cookie(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.token}"}

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> ClientResponse:
        self.client.session.cookie_jar.clear()
        return await self.client.request(
            method,
            path,
            headers={**self.cookie, **(headers or {})},
            allow_redirects=False,
            **kwargs,
        )

    async def page(self, path: str, status: int = 200) -> str:
        response = await self.request("GET", path)
        text = await response.text()
        assert response.status == status, f"GET {path}: {response.status} {text[:500]}"
        return text

    async def csrf(self) -> str:
        found = CSRF_META.search(await self.page("/ui/"))
        assert found, "the page carries the session's CSRF token"
        assert found.group(1), "a session has a CSRF token"
        return found.group(1)


async def login(client: AsgardClient, key: str, **headers: str) -> tuple[ClientResponse, str]:
    """POST the key to the login form; the answer and the session token it set ('' if none)."""
    client.session.cookie_jar.clear()
    response = await client.post(
        "/ui/login", data={"key": key, "next": "/ui/"}, headers=headers, allow_redirects=False
    )
    morsel = response.cookies.get(COOKIE)
    client.session.cookie_jar.clear()
    return response, morsel.value if morsel is not None else ""


async def browser(caller: Caller) -> Browser:
    response, token = await login(caller.client, caller.key)
    assert response.status == 303, await response.text()
    assert token
    return Browser(caller.client, token)
