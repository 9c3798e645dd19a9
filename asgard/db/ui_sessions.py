"""Dashboard sessions in the database: found by the hash of their token, never the token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from asgard.db.tables import UiSessionRow

__all__ = ["StoredSession", "UiSessionStore"]


@dataclass(frozen=True)
class StoredSession:
    id: int
    token_hash: str
    user_id: int
    account_id: int | None
    created_at: datetime
    expires_at: datetime
    key_id: int | None = None
    """The API key the session was made from; the session ends with it."""


def _stored(row: UiSessionRow) -> StoredSession:
    return StoredSession(
        row.id,
        row.token_hash,
        row.user_id,
        row.account_id,
        row.created_at,
        row.expires_at,
        row.key_id,
    )


class UiSessionStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        token_hash: str,
        user_id: int,
        account_id: int | None,
        expires_at: datetime,
        key_id: int | None = None,
    ) -> StoredSession:
        row = UiSessionRow(
            token_hash=token_hash,
            user_id=user_id,
            account_id=account_id,
            expires_at=expires_at,
            key_id=key_id,
        )
        self.session.add(row)
        await self.session.flush()
        return _stored(row)

    async def by_hash(self, token_hash: str) -> StoredSession | None:
        row = await self.session.scalar(
            select(UiSessionRow).where(UiSessionRow.token_hash == token_hash)
        )
        return None if row is None else _stored(row)

    async def set_account(self, token_hash: str, account_id: int) -> None:
        await self.session.execute(
            update(UiSessionRow)
            .where(UiSessionRow.token_hash == token_hash)
            .values(account_id=account_id)
        )

    async def delete(self, token_hash: str) -> None:
        await self.session.execute(
            delete(UiSessionRow).where(UiSessionRow.token_hash == token_hash)
        )

    async def delete_expired(self, now: datetime) -> None:
        """Expired rows are useless: removed when someone logs in, so the table stays small."""
        await self.session.execute(delete(UiSessionRow).where(UiSessionRow.expires_at <= now))
