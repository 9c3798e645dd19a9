"""The database connection, and bringing its schema up to date."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).parent / "migrations"


WRITE = "asgard_write"
"""Execution option of the connections ``Database.writing`` hands out."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite ignores foreign keys unless asked, and fails at once on a busy file unless
    told to wait. In WAL mode readers never wait for a writer, nor a writer for readers.
    The driver's own BEGIN is turned off: ``_sqlite_begin`` says which kind."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """A write transaction takes the write lock when it begins (``IMMEDIATE``), so it waits
    its turn behind another writer (``busy_timeout``). Begun as a read, it would fail at
    once with "database is locked" when it came to write after another writer had."""
    writing = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.writers = async_sessionmaker(
            self.engine.execution_options(**{WRITE: True}), expire_on_commit=False
        )

    def session(self) -> AsyncSession:
        """A session for reading."""
        return self.sessions()

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction: committed when the block ends, rolled back
        when it raises."""
        async with self.writers() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def upgrade_sync(url: str) -> None:
    """Migrate to the newest schema. Runs its own event loop: call it outside one."""
    command.upgrade(alembic_config(url), "head")


async def upgrade(url: str) -> None:
    """Migrate from async code, in a thread so alembic can run a loop of its own."""
    await asyncio.to_thread(upgrade_sync, url)
