"""What users and accounts services share: a change to who may do what is told about."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from asgard.db.engine import Database

__all__ = ["IdentityService"]


class IdentityService:
    """Base of the services that change users, accounts and memberships."""

    def __init__(self, db: Database, changed: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self.changed = changed
        """Told after every change: credentials read before it are read again."""

    @contextlib.asynccontextmanager
    async def _changing(self) -> AsyncIterator[AsyncSession]:
        async with self.db.writing() as session:
            yield session
        self.changed()
