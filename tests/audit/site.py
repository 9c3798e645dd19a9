"""An Asgard on SQLite or PostgreSQL over the Kubernetes emulator, with an account, an
administrator, and members of each role: what the audit tests write through and read with."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from asgard.models import Account, Role
from tests.conftest import StartAsgard, running_kube
from tests.support.asgard import AsgardUnderTest, Caller


@dataclass
class Site:
    asgard: AsgardUnderTest
    dev: Account
    admin: Caller
    """An Asgard administrator, member of no account."""
    owner: Caller
    """dev's admin."""
    operator: Caller
    viewer: Caller

    async def entries(self, caller: Caller | None = None, **query: Any) -> dict[str, Any]:
        """``GET /audit`` as ``caller`` (the administrator by default)."""
        who = caller or self.admin
        params = {k: str(v) for k, v in query.items()}
        answer: dict[str, Any] = await who.json("GET", "/audit", params=params)
        return answer

    async def by_request(self, **query: Any) -> dict[str, dict[str, Any]]:
        found = await self.entries(limit=5000, **query)
        return {entry["request_id"]: entry for entry in found["entries"]}

    async def rows(self) -> list[str]:
        """Every row of the table, each column as text: what a copy of the database holds."""
        async with self.asgard.db.session() as session:
            result = await session.execute(text("SELECT * FROM audit_log"))
            return [" ".join(str(v) for v in row) for row in result.all()]


@contextlib.asynccontextmanager
async def audited_site(
    start_asgard: StartAsgard, db_url: str, **settings: Any
) -> AsyncIterator[Site]:
    async with running_kube() as kube:
        asgard = await start_asgard(kube.orchestrator, db_url=db_url, **settings)
        dev = await asgard.account("dev")
        yield Site(
            asgard,
            dev,
            admin=await asgard.caller("root@example.com", admin=True),
            owner=await asgard.caller("owner@example.com", roles={dev.id: Role.ADMIN}),
            operator=await asgard.caller("op@example.com", roles={dev.id: Role.OPERATOR}),
            viewer=await asgard.caller("viewer@example.com", roles={dev.id: Role.VIEWER}),
        )


def rid(name: str) -> dict[str, str]:
    """The X-Request-Id header that names one request in the log."""
    return {"X-Request-Id": name}
