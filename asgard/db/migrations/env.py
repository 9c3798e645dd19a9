"""Alembic environment: async engines, URL from the caller or from ASGARD_DB_URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, event, text
from sqlalchemy.ext.asyncio import create_async_engine

from asgard.db.engine import sqlite_pragmas
from asgard.db.tables import Base
from asgard.settings import Settings

config = context.config
url: str = config.attributes.get("url") or Settings().db_url

MIGRATION_LOCK = 4898_0001
"""The PostgreSQL advisory lock every process takes before it migrates. Replicas start
together, and each runs ``upgrade`` at start: the first to get the lock migrates, the
others wait for it, then find the schema current and do nothing. (DDL is transactional
on PostgreSQL, and the lock is the transaction's, so a process killed mid-migration
leaves neither a half-made schema nor a held lock.) On SQLite the migration's
transaction begins ``IMMEDIATE``: it takes the file's write lock first, and the others
wait for it (``busy_timeout``)."""


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


async def run_async() -> None:
    engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":  # the write lock first, waited for (busy_timeout)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
    async with engine.begin() as connection:
        await connection.run_sync(run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_async())
