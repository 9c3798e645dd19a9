"""A client of a running ``asgard serve`` (``testbed.asgard_process``), as a user's script
talks to it: one user's key, every answer's status, parsed body and text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from testbed.asgard_process import RunningAsgard


@dataclass
class Answer:
    status: int
    body: Any
    text: str


class Api:
    """A client of the running Asgard, with one user's key."""

    def __init__(self, session: aiohttp.ClientSession, url: str, key: str) -> None:
        self.session = session
        self.url = url
        self.key = key

    async def call(self, method: str, path: str, **kwargs: Any) -> Answer:
        headers = {"Authorization": f"Token {self.key}"}
        async with self.session.request(
            method, self.url + path, headers=headers, **kwargs
        ) as response:
            body = await response.text()
            parsed = await response.json() if "json" in response.content_type else None
            return Answer(response.status, parsed, body)

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        answer = await self.call(method, path, **kwargs)
        assert answer.status == status, f"{method} {path}: {answer.status} {answer.text}"
        return answer.body

    def using(self, key: str) -> Api:
        return Api(self.session, self.url, key)

    @classmethod
    def of(cls, session: aiohttp.ClientSession, asgard: RunningAsgard) -> Api:
        """As the user whose key ``asgard`` was set up with."""
        return cls(session, asgard.url, asgard.key)
