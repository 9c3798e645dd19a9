"""Queries over users, accounts, memberships and API keys, answering with domain models.

Stores know SQL and nothing of permissions; ``asgard.services`` decides who may
call what. Each method runs in the session it is given, so a service can make
several calls one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from asgard.db.tables import AccountRow, ApiKeyRow, MembershipRow, UserRow
from asgard.errors import Conflict, NotFound
from asgard.models import (
    Account,
    AccountCreate,
    AccountPatch,
    AccountWithRole,
    ApiKey,
    Member,
    Role,
    User,
    UserCreate,
    UserPatch,
)


def user_model(row: UserRow) -> User:
    return User(
        id=row.id, name=row.name, email=row.email, is_admin=row.is_admin, created_at=row.created_at
    )


def account_model(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        namespace=row.namespace,
        owner=row.owner,
        clusters=row.clusters,
        created_at=row.created_at,
    )


def api_key_model(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


async def _page(
    session: AsyncSession,
    query: Select[Any],
    id_column: InstrumentedAttribute[int],
    after: int | None,
    limit: int,
) -> tuple[list[Any], int]:
    """Up to ``limit + 1`` rows after ``after``: the extra row says whether a next page exists."""
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    if after is not None:
        query = query.where(id_column > after)
    rows = (await session.scalars(query.order_by(id_column).limit(limit + 1))).all()
    return list(rows), int(total or 0)


class UserStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _row(self, user_id: int) -> UserRow:
        row = await self.session.get(UserRow, user_id)
        if row is None:
            raise NotFound(f"user {user_id} not found")
        return row

    async def get(self, user_id: int) -> User:
        return user_model(await self._row(user_id))

    async def by_email(self, email: str) -> User | None:
        row = await self.session.scalar(select(UserRow).where(UserRow.email == email.lower()))
        return user_model(row) if row else None

    async def page(self, after: int | None, limit: int) -> tuple[list[User], int]:
        rows, total = await _page(self.session, select(UserRow), UserRow.id, after, limit)
        return [user_model(r) for r in rows], total

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count(UserRow.id))) or 0)

    async def count_admins(self) -> int:
        query = select(func.count(UserRow.id)).where(UserRow.is_admin.is_(True))
        return int(await self.session.scalar(query) or 0)

    async def create(self, data: UserCreate) -> User:
        row = UserRow(name=data.name, email=data.email, is_admin=data.is_admin)
        self.session.add(row)
        await flush_or_conflict(
            self.session, f"a user with e-mail {data.email} already exists", "email"
        )
        return user_model(row)

    async def update(self, user_id: int, patch: UserPatch) -> User:
        row = await self._row(user_id)
        for name, value in patch.model_dump(exclude_unset=True).items():
            if value is not None:
                setattr(row, name, value)
        await flush_or_conflict(
            self.session, f"a user with e-mail {patch.email} already exists", "email"
        )
        return user_model(row)

    async def delete(self, user_id: int) -> None:
        await self.session.delete(await self._row(user_id))
        await self.session.flush()


class AccountStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _row(self, account_id: int) -> AccountRow:
        row = await self.session.get(AccountRow, account_id)
        if row is None:
            raise NotFound(f"account {account_id} not found")
        return row

    async def get(self, account_id: int) -> Account:
        return account_model(await self._row(account_id))

    async def by_name(self, name: str) -> Account | None:
        row = await self.session.scalar(select(AccountRow).where(AccountRow.name == name))
        return account_model(row) if row else None

    async def every(self) -> list[Account]:
        rows = await self.session.scalars(select(AccountRow).order_by(AccountRow.id))
        return [account_model(r) for r in rows]

    async def page(
        self, after: int | None, limit: int, *, member: int | None = None
    ) -> tuple[list[Account], int]:
        """All accounts, or (``member``) only those of that user."""
        query = select(AccountRow)
        if member is not None:
            query = query.join(MembershipRow, MembershipRow.account_id == AccountRow.id).where(
                MembershipRow.user_id == member
            )
        rows, total = await _page(self.session, query, AccountRow.id, after, limit)
        return [account_model(r) for r in rows], total

    async def create(self, data: AccountCreate) -> Account:
        row = AccountRow(
            name=data.name, namespace=data.namespace, owner=data.owner, clusters=data.clusters
        )
        self.session.add(row)
        await flush_or_conflict(
            self.session, f"an account named {data.name} or with namespace {data.namespace} exists"
        )
        return account_model(row)

    async def update(self, account_id: int, patch: AccountPatch) -> Account:
        row = await self._row(account_id)
        for name, value in patch.model_dump(exclude_unset=True).items():
            setattr(row, name, value)
        await flush_or_conflict(
            self.session, f"an account named {patch.name} already exists", "name"
        )
        return account_model(row)

    async def delete(self, account_id: int) -> None:
        await self.session.delete(await self._row(account_id))
        await self.session.flush()


class MembershipStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def role(self, user_id: int, account_id: int) -> Role | None:
        role = await self.session.scalar(
            select(MembershipRow.role).where(
                MembershipRow.user_id == user_id, MembershipRow.account_id == account_id
            )
        )
        return Role(role) if role else None

    async def accounts_of(self, user_id: int) -> list[AccountWithRole]:
        rows = await self.session.execute(
            select(AccountRow, MembershipRow.role)
            .join(MembershipRow, MembershipRow.account_id == AccountRow.id)
            .where(MembershipRow.user_id == user_id)
            .order_by(AccountRow.id)
        )
        return [
            AccountWithRole(**account_model(account).model_dump(), role=Role(role))
            for account, role in rows.all()
        ]

    async def members_of(self, account_id: int) -> list[Member]:
        rows = await self.session.execute(
            select(UserRow, MembershipRow.role)
            .join(MembershipRow, MembershipRow.user_id == UserRow.id)
            .where(MembershipRow.account_id == account_id)
            .order_by(UserRow.id)
        )
        return [
            Member(**user_model(user).model_dump(), role=Role(role)) for user, role in rows.all()
        ]

    async def put(self, account_id: int, user_id: int, role: Role) -> None:
        row = await self.session.scalar(
            select(MembershipRow).where(
                MembershipRow.user_id == user_id, MembershipRow.account_id == account_id
            )
        )
        if row is None:
            self.session.add(MembershipRow(account_id=account_id, user_id=user_id, role=role.value))
        else:
            row.role = role.value
        await self.session.flush()

    async def remove(self, account_id: int, user_id: int) -> bool:
        result = await self.session.execute(
            delete(MembershipRow).where(
                MembershipRow.user_id == user_id, MembershipRow.account_id == account_id
            )
        )
        return bool(getattr(result, "rowcount", 0))


class ApiKeyStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, user_id: int, name: str, prefix: str, key_hash: str) -> ApiKey:
        row = ApiKeyRow(user_id=user_id, name=name, prefix=prefix, key_hash=key_hash)
        self.session.add(row)
        await self.session.flush()
        return api_key_model(row)

    async def by_prefix(self, prefix: str) -> ApiKeyRow | None:
        return await self.session.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))

    async def by_id(self, key_id: int) -> ApiKeyRow | None:
        """The key a JWT, a session or an open stream was made from; None once revoked."""
        return await self.session.get(ApiKeyRow, key_id, populate_existing=True)

    async def of_user(self, user_id: int) -> Sequence[ApiKey]:
        rows = await self.session.scalars(
            select(ApiKeyRow).where(ApiKeyRow.user_id == user_id).order_by(ApiKeyRow.id)
        )
        return [api_key_model(r) for r in rows]

    async def touch(self, key_id: int, when: datetime) -> None:
        row = await self.session.get(ApiKeyRow, key_id)
        if row is not None:
            row.last_used_at = when
            await self.session.flush()

    async def delete(self, user_id: int, key_id: int) -> None:
        result = await self.session.execute(
            delete(ApiKeyRow).where(ApiKeyRow.id == key_id, ApiKeyRow.user_id == user_id)
        )
        if not getattr(result, "rowcount", 0):
            raise NotFound(f"token {key_id} not found")


async def flush_or_conflict(session: AsyncSession, conflict: str, field: str | None = None) -> None:
    """Flush, turning a broken unique constraint into a ``Conflict`` the client can read."""
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict(conflict, field=field) from None
