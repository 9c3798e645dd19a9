"""The database connection, and bringing its schema up to date."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event, exc, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from asgard.db.notices import Notices
from asgard.errors import AsgardError, DatabaseUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


WRITE = "asgard_write"
"""Execution option of the connections ``Database.writing`` hands out."""


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
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


UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, no route; TimeoutError (a connect that hangs) is one too
    exc.TimeoutError,  # every pooled connection busy for pool_timeout
    exc.DisconnectionError,
)
"""Failures that say the server could not be reached, not that a statement was wrong."""

POSTGRES_UNAVAILABLE = ("08", "57", "53300")
"""SQLSTATEs of a PostgreSQL that cannot serve now, whatever the driver: class 08 (the
connection failed or is gone), class 57 (shutting down, starting up, a query cancelled by
an operator), 53300 (too many connections)."""

SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error")
"""What SQLite says when its file cannot be used right now; any other error of SQLite
(no such table, a constraint) is about the statement or the schema."""


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, the driver's error SQLAlchemy wrapped (``orig``), and what each was
    raised from or while handling, once each."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.append(getattr(current, "orig", None))
        pending.append(current.__cause__)
        if not current.__suppress_context__:
            pending.append(current.__context__)


def is_connection_failure(error: BaseException) -> bool:
    """Whether ``error`` means the database could not be reached (its server stopped or
    restarting, the connection cut, the pool exhausted, SQLite's file locked or gone),
    as opposed to a statement that is wrong, which stays an internal error."""
    for cause in _causes(error):
        if isinstance(cause, exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, UNREACHABLE):
            return True
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(POSTGRES_UNAVAILABLE):
            return True
        if isinstance(cause, sqlite3.OperationalError) and str(cause).lower().startswith(
            SQLITE_UNAVAILABLE
        ):
            return True
    return False


def unavailable(error: BaseException) -> DatabaseUnavailable | None:
    """The ``DatabaseUnavailable`` that ``error`` stands for, or None if it is another kind.
    An ``AsgardError`` is typed already: a cluster unreachable (raised from an ``OSError``)
    within a session's block is still the cluster's failure."""
    if isinstance(error, AsgardError) or not is_connection_failure(error):
        return None
    return DatabaseUnavailable(str(error).splitlines()[0] if str(error) else type(error).__name__)


@contextlib.contextmanager
def connection_failures_typed() -> Iterator[None]:
    """Within the block, a database that cannot be reached raises ``DatabaseUnavailable``
    (503) instead of whatever the driver raised (a 500 with a traceback in the log)."""
    try:
        yield
    except Exception as error:
        typed = unavailable(error)
        if typed is None:
            raise
        raise typed from error


class GuardedSession(AsyncSession):
    """A session whose block, when the database cannot be reached, raises
    ``DatabaseUnavailable``: every store used in ``async with db.session()`` gets it
    without a ``try`` of its own. Closing a session whose connection is gone counts too."""

    async def __aexit__(
        self,
        type_: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with connection_failures_typed():
            await super().__aexit__(type_, value, traceback)
        typed = unavailable(value) if isinstance(value, Exception) else None
        if typed is not None:
            raise typed from value


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.notices = Notices(url)
        """Changes the other processes on this database must hear (started by ``serve``)."""
        # pool_pre_ping: a pooled connection that died with the server (it was restarted)
        # is found out and replaced when checked out, so no request fails once it is back.
        self.engine: AsyncEngine = create_async_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self.sessions = async_sessionmaker(
            self.engine, class_=GuardedSession, expire_on_commit=False
        )
        self._sqlite_writer: asyncio.Lock | None = None
        self.writers = async_sessionmaker(
            self.engine.execution_options(**{WRITE: True}),
            class_=GuardedSession,
            expire_on_commit=False,
        )

    def session(self) -> AsyncSession:
        """A session for reading."""
        return self.sessions()

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction: committed when the block ends, rolled back
        when it raises. On SQLite, which lets one writer in at a time, this process's
        writers queue here, in the event loop, rather than at the file's lock: forty
        clusters' janitors taking their leases at start would otherwise outwait
        ``busy_timeout`` and fail whoever came last (the first start's bootstrap, say).
        Other processes' writers still wait at the file's lock."""
        async with self._write_turn(), self.writers() as session, session.begin():
            yield session

    def _write_turn(self) -> contextlib.AbstractAsyncContextManager[object]:
        if self.engine.dialect.name != "sqlite":
            return contextlib.nullcontext()
        if self._sqlite_writer is None:
            self._sqlite_writer = asyncio.Lock()
        return self._sqlite_writer

    async def ping(self) -> None:
        with connection_failures_typed():
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.notices.close()
        await self.engine.dispose()


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # only to migrate: see ``upgrade``

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def upgrade_sync(url: str) -> None:
    """Migrate to the newest schema. Runs its own event loop: call it outside one."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def head_revision() -> str:
    """The newest migration's revision. The migrations are numbered in order and each
    file's name starts with its revision (``0009_clusters.py``); a test holds this to
    what alembic finds."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("*_*.py"))


async def at_head(url: str) -> bool:
    """Whether the database's schema is the newest, read without alembic. Any failure
    (no table yet, no server) says no, and ``upgrade_sync`` then does or says what it must."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return [row[0] for row in found] == [head_revision()]
    except (exc.SQLAlchemyError, OSError):
        return False
    finally:
        await engine.dispose()


async def upgrade(url: str) -> None:
    """Migrate from async code, in a thread so alembic can run a loop of its own. A
    database already at the newest schema (every start but the first) is left alone
    without loading alembic and its scripts: 0.4 s of CPU at each start, of a server or
    of a command."""
    if await at_head(url):
        return
    await asyncio.to_thread(upgrade_sync, url)
