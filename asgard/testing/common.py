"""What the kit's checks share: their accounts, the app they deploy, and waiting for a
cluster to catch up with a change (while the harness plays its controllers)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

from asgard.backends.contract import AppsBackend
from asgard.db.engine import Database, upgrade
from asgard.db.tables import AccountRow
from asgard.models import Account, AppSpec, Port, ResourceLimits, Task
from asgard.testing.harness import Harness

__all__ = [
    "DEV",
    "OPS",
    "SETTLE_S",
    "database",
    "owned",
    "running",
    "settle",
    "web",
]

DEV: Final = Account(id=1, name="dev", namespace="dev")
OPS: Final = Account(id=2, name="ops", namespace="ops")
SETTLE_S: Final = 90


def owned(owner: str | None, namespace: str = "dev") -> Account:
    """An account that sees the agents whose ``owner`` is ``owner`` (all, for None)."""
    return Account(id=3, name=f"team-{owner}", namespace=namespace, owner=owner)


def web(harness: Harness, instances: int = 3, **changes: object) -> AppSpec:
    """The app most checks deploy, ``shop/web`` of ``DEV``."""
    base = AppSpec(
        cluster=harness.cluster,
        id="shop/web",
        image=harness.image,
        args=harness.serve_forever,
        env={"MODE": "test", "EMPTY": ""},
        labels={"team": "shop"},
        resources=ResourceLimits(cpus=0.1, mem=32),
        ports=[Port(container_port=8080)],
        instances=instances,
    )
    return base.model_copy(update=changes)


async def settle(harness: Harness, check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until ``check`` holds, the harness playing the cluster's controllers."""
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        await harness.converge()
        if await check():
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"the cluster did not settle: {what}")


async def running(harness: Harness, app_id: str, count: int, account: Account = DEV) -> list[Task]:
    """Wait until exactly ``count`` instances run and the app says so; the tasks then."""
    found: list[Task] = []

    async def check() -> bool:
        nonlocal found
        app = await harness.call(account, AppsBackend.get_app, app_id)
        found = [
            t
            for t in await harness.call(account, AppsBackend.list_tasks, app_id)
            if t.state == "running"
        ]
        return (
            app.instances.running == count
            and len(found) == count
            and app.instances.desired == count
        )

    await settle(harness, check, f"{app_id} with {count} running instances")
    return found


@asynccontextmanager
async def database(folder: Path, *accounts: Account) -> AsyncIterator[Database]:
    """A database of the check's own in ``folder`` (SQLite, migrated as Asgard migrates
    its own), holding ``accounts``, for the services a check runs over the cluster under
    test."""
    url = f"sqlite+aiosqlite:///{folder / 'kit.db'}"
    await upgrade(url)
    db = Database(url)
    try:
        async with db.writing() as session:
            session.add_all(
                AccountRow(id=a.id, name=a.name, namespace=a.namespace, owner=a.owner)
                for a in accounts
            )
        yield db
    finally:
        await db.close()
