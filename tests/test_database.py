"""SQLite shared by busy writers: a write waits its turn, it never fails as "locked"."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from asgard.db.engine import (
    MIGRATIONS,
    Database,
    alembic_config,
    at_head,
    head_revision,
    upgrade,
)
from asgard.db.job_records import LeaseStore
from asgard.db.tables import LeaseRow

HOLD_S = 0.3


async def test_a_write_that_reads_first_waits_for_another_writer(sqlite_url: str) -> None:
    """Both read, then write: begun as reads, the second would fail at once with 'database
    is locked' when the first had written in between. Begun as writes, it waits."""
    await upgrade(sqlite_url)
    first, second = Database(sqlite_url), Database(sqlite_url)
    try:
        order: list[str] = []

        async def write(db: Database, name: str, pause_s: float) -> None:
            async with db.writing() as session:
                await session.execute(select(LeaseRow))  # read first, as the stores do
                await asyncio.sleep(pause_s)
                await LeaseStore(session).acquire(name, name, timedelta(seconds=60))
                order.append(name)

        await asyncio.gather(write(first, "a", HOLD_S), write(second, "b", 0))
        assert sorted(order) == ["a", "b"]
        async with first.session() as session:
            names = (await session.execute(select(LeaseRow.name))).scalars().all()
        assert sorted(names) == ["a", "b"]
    finally:
        await first.close()
        await second.close()


async def test_sqlite_files_are_in_wal_mode(sqlite_url: str) -> None:
    await upgrade(sqlite_url)
    db = Database(sqlite_url)
    try:
        async with db.session() as session:
            mode = (await session.execute(text("PRAGMA journal_mode"))).scalar()
        assert mode == "wal"
    finally:
        await db.close()


async def test_many_loops_taking_leases_at_once_never_fail(sqlite_url: str) -> None:
    """Ten processes' worth of background loops, each taking and keeping its lease."""
    await upgrade(sqlite_url)
    databases = [Database(sqlite_url) for _ in range(10)]
    try:

        async def loop(db: Database, index: int) -> int:
            kept = 0
            for _ in range(20):
                async with db.writing() as session:
                    kept += await LeaseStore(session).acquire(
                        "scheduler", f"holder-{index}", timedelta(seconds=60)
                    )
            return kept

        kept = await asyncio.gather(*(loop(db, i) for i, db in enumerate(databases)))
        assert sum(kept) == 20, "the lease was held by one holder at every take"
        assert max(kept) == 20, "the same holder: it kept its lease"
    finally:
        await asyncio.gather(*(db.close() for db in databases))


async def test_replicas_starting_together_migrate_once(db_url: str) -> None:
    """Three processes run ``asgard db upgrade`` at the same moment on an empty database
    (as three replicas do when they start): each succeeds, and the schema is made once."""
    asgard = str(Path(sys.executable).with_name("asgard"))
    env = {**os.environ, "ASGARD_DB_URL": db_url}
    started = [
        await asyncio.create_subprocess_exec(
            asgard,
            "db",
            "upgrade",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    results = await asyncio.gather(*(p.communicate() for p in started))
    for process, (_, stderr) in zip(started, results, strict=True):
        assert process.returncode == 0, stderr.decode()
    db = Database(db_url)
    try:
        async with db.session() as session:
            versions = await session.execute(text("SELECT version_num FROM alembic_version"))
            assert len(versions.scalars().all()) == 1, "one schema version, not one per process"
    finally:
        await db.close()


def test_the_newest_revision_is_told_as_alembic_tells_it() -> None:
    """``upgrade`` reads the newest revision from the migrations' file names: they must
    agree with the chain alembic follows."""
    assert ScriptDirectory(str(MIGRATIONS)).get_heads() == [head_revision()]


async def test_a_database_is_migrated_only_when_it_is_behind(db_url: str) -> None:
    assert not await at_head(db_url), "an empty database"
    await upgrade(db_url)
    assert await at_head(db_url)
    before = str(int(head_revision()) - 1).zfill(4)
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), before)
    assert not await at_head(db_url), "one migration behind"
    await upgrade(db_url)
    assert await at_head(db_url)
    assert not await at_head("sqlite+aiosqlite:////nonexistent-folder/x.db")
