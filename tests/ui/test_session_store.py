"""The sessions table on SQLite and PostgreSQL: its migration matches the model, and the
store finds, changes and removes sessions by the hash of their token."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from asgard.db.engine import Database, alembic_config
from asgard.db.tables import Base
from asgard.db.ui_sessions import UiSessionStore
from asgard.models import AccountCreate, UserCreate
from asgard.models.base import utc_now
from asgard.services.accounts import AccountsService
from asgard.services.principal import SYSTEM
from asgard.services.users import UsersService


def _session_diffs(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    diffs = compare_metadata(context, Base.metadata)
    return [d for d in diffs if "ui_sessions" in repr(d)]


async def test_the_migration_makes_the_table_the_model_describes(db: Database) -> None:
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_session_diffs) == []


async def test_the_migration_goes_down_and_up_again(db: Database) -> None:
    config = alembic_config(db.url)
    await asyncio.to_thread(command.downgrade, config, "0004")
    await asyncio.to_thread(command.upgrade, config, "head")
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_session_diffs) == []


async def test_sessions_by_hash_with_their_account_and_expiry(db: Database) -> None:
    user = await UsersService(db).create(SYSTEM, UserCreate(name="u", email="u@example.com"))
    account = await AccountsService(db).create(SYSTEM, AccountCreate(name="a", namespace="a"))
    now = utc_now()
    async with db.writing() as session:
        store = UiSessionStore(session)
        await store.add(token_hash="a" * 64, user_id=user.id, account_id=None, expires_at=now)
        await store.add(
            token_hash="b" * 64, user_id=user.id, account_id=None, expires_at=now + timedelta(1)
        )
    async with db.writing() as session:
        await UiSessionStore(session).set_account("b" * 64, account.id)
    async with db.session() as session:
        found = await UiSessionStore(session).by_hash("b" * 64)
    assert found is not None
    assert found.account_id == account.id
    assert found.user_id == user.id
    assert found.expires_at > now
    async with db.writing() as session:
        await UiSessionStore(session).delete_expired(now)
    async with db.session() as session:
        assert await UiSessionStore(session).by_hash("a" * 64) is None, "expired, removed"
        assert await UiSessionStore(session).by_hash("b" * 64) is not None
    async with db.writing() as session:
        await UiSessionStore(session).delete("b" * 64)
    async with db.session() as session:
        assert await UiSessionStore(session).by_hash("b" * 64) is None
