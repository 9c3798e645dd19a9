"""The sessions table on SQLite and PostgreSQL: its migration matches the model, the
store finds, changes and removes sessions by the hash of their token, and the
``DashboardSessions`` service, the one writer of them, opens, switches and ends them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from asgard.db.engine import Database, alembic_config
from asgard.db.tables import Base
from asgard.db.ui_sessions import UiSessionStore
from asgard.errors import Forbidden
from asgard.models import AccountCreate, Role, UserCreate
from asgard.models.base import utc_now
from asgard.services.accounts import AccountsService
from asgard.services.auth import Authenticator
from asgard.services.dashboard_sessions import DashboardSessions, hash_token
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


async def test_the_service_opens_switches_and_ends_sessions(db: Database) -> None:
    auth = Authenticator(db, signing_key="k" * 32, jwt_ttl_s=60, cache_s=0)
    sessions = DashboardSessions(db, auth, ttl_s=60, cache_s=0)
    user = await UsersService(db).create(SYSTEM, UserCreate(name="u", email="u@example.com"))
    accounts = AccountsService(db)
    mine = await accounts.create(SYSTEM, AccountCreate(name="mine", namespace="mine"))
    theirs = await accounts.create(SYSTEM, AccountCreate(name="theirs", namespace="theirs"))
    other = await accounts.create(SYSTEM, AccountCreate(name="other", namespace="other"))
    await accounts.put_member(SYSTEM, mine.id, user.id, Role.VIEWER)
    await accounts.put_member(SYSTEM, other.id, user.id, Role.OPERATOR)
    key = await auth.create_key(user.id, "laptop")

    token = await sessions.create(user.id, mine.id, key.id)
    opened = await sessions.open(token)
    assert opened is not None
    assert opened.principal.account is not None
    assert opened.principal.account.id == mine.id
    assert opened.credentials.session == hash_token(token)
    assert opened.credentials.key_id == key.id

    with pytest.raises(Forbidden):
        await sessions.switch(opened.principal, token, theirs.id)
    await sessions.switch(opened.principal, token, other.id)
    switched = await sessions.open(token)
    assert switched is not None
    assert switched.principal.role == Role.OPERATOR

    await sessions.revoke(token)
    assert await sessions.open(token) is None
    later = await sessions.create(user.id, mine.id, key.id)
    await auth.delete_key(user.id, key.id)
    assert await sessions.open(later) is None, "a session ends with the key it was made from"
