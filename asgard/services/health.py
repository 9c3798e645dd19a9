"""Whether Asgard's own database answers: what ``/health`` and ``/ready`` report.

Handlers hold services, never the database; this is the one question they ask of it.
"""

from __future__ import annotations

from asgard.db.engine import Database
from asgard.errors import DatabaseUnavailable

__all__ = ["HealthService"]


class HealthService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def database_trouble(self) -> str | None:
        """Why the database does not answer now, for the logs; None while it does. A
        database that is broken in any way (not only one that refuses connections) is one
        that does not answer."""
        try:
            await self._db.ping()
        except Exception as exc:
            return exc.reason if isinstance(exc, DatabaseUnavailable) else type(exc).__name__
        return None
