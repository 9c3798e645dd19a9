"""Asgard's record of deployed specs on SQLite and PostgreSQL: the migration makes the
table the model describes, and the store keeps each app's deploys newest first."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from asgard.db.app_versions import KEPT_PER_APP, AppVersionStore
from asgard.db.engine import Database, alembic_config
from asgard.db.tables import Base
from asgard.models import AppSpec, ResourceLimits
from asgard.models.version import spec_hash


def _diffs(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return [d for d in compare_metadata(context, Base.metadata) if "app_versions" in repr(d)]


def spec(env: str, instances: int = 1) -> AppSpec:
    return AppSpec(
        cluster="c",
        id="shop/web",
        image="web:1",
        env={"MODE": env},
        resources=ResourceLimits(cpus=0.5),
        instances=instances,
    )


async def test_the_migration_makes_the_table_the_model_describes(db: Database) -> None:
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_diffs) == []


async def test_the_migration_goes_down_and_up_again(db: Database) -> None:
    config = alembic_config(db.url)
    await asyncio.to_thread(command.downgrade, config, "0005")
    await asyncio.to_thread(command.upgrade, config, "head")
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_diffs) == []


async def test_deploys_come_back_newest_first_as_they_were_recorded(db: Database) -> None:
    async with db.writing() as session:
        store = AppVersionStore(session)
        await store.record("c", "dev", "shop/web", spec("test"), "ana@example.com")
        await store.record("c", "dev", "shop/web", spec("prod", 2), "ben@example.com")
        await store.record("c", "dev", "shop/web", spec("test"), None)
        await store.record("c", "ops", "shop/web", spec("other"), "ana@example.com")
    async with db.session() as session:
        found = await AppVersionStore(session).deploys("c", "dev", "shop/web")
    assert [(v.spec.env["MODE"], v.by) for v in found] == [
        ("test", None),
        ("prod", "ben@example.com"),
        ("test", "ana@example.com"),
    ]
    assert found[0].id == found[2].id == spec_hash(spec("test")), "a spec's id is its hash"
    assert found[1].spec == spec("prod", 2), "the spec comes back whole"
    newest, oldest = found[0].created_at, found[2].created_at
    assert newest is not None
    assert oldest is not None
    assert newest >= oldest

    async with db.writing() as session:
        await AppVersionStore(session).forget("c", "dev", "shop/web")
    async with db.session() as session:
        assert await AppVersionStore(session).deploys("c", "dev", "shop/web") == []
        assert len(await AppVersionStore(session).deploys("c", "ops", "shop/web")) == 1


async def test_only_the_newest_deploys_are_kept(db: Database) -> None:
    for n in range(KEPT_PER_APP + 3):
        async with db.writing() as session:
            await AppVersionStore(session).record("c", "dev", "a", spec(str(n)), None)
    async with db.session() as session:
        found = await AppVersionStore(session).deploys("c", "dev", "a")
    assert len(found) == KEPT_PER_APP
    assert found[0].spec.env == {"MODE": str(KEPT_PER_APP + 2)}
    assert found[-1].spec.env == {"MODE": "3"}
