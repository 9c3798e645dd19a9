"""Migration 0007 makes the table the model describes, indexes included, on SQLite and
PostgreSQL, and goes down (one step: to whatever it follows) and up again."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from asgard.db.engine import Database, alembic_config
from asgard.db.tables import Base


def _audit_diffs(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return [d for d in compare_metadata(context, Base.metadata) if "audit_log" in repr(d)]


def _indexes(connection: Connection) -> set[str]:
    return {str(index["name"]) for index in inspect(connection).get_indexes("audit_log")}


async def test_the_migration_makes_the_table_the_model_describes(db: Database) -> None:
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_audit_diffs) == []
        assert await connection.run_sync(_indexes) == {
            "ix_audit_log_at",
            "ix_audit_log_account_id_id",
            "ix_audit_log_user_id_id",
            "ix_audit_log_cluster_id",
            "ix_audit_log_resource_action_id",
        }


async def test_the_migration_goes_down_and_up_again(db: Database) -> None:
    config = alembic_config(db.url)
    await asyncio.to_thread(command.downgrade, config, "0006")  # to before 0007
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
    assert "audit_log" not in tables
    await asyncio.to_thread(command.upgrade, config, "head")
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_audit_diffs) == []
