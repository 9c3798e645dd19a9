"""Dashboard sessions: an API key typed once, on the login page, exchanged for a random
token; the database keeps only the token's SHA-256.

A session names its user, the API key it was made from and the account chosen in the
switcher; revoking the key ends the session (its row goes with the key), as deleting the
user does. What was read is kept for ``cache_s`` (as authentication keeps keys), so a
page does not cost a database read; any change to keys, users, memberships or sessions
(the ``auth`` notice, from this process or another on PostgreSQL) empties it at once.

This service is the one place that reads and writes the sessions' rows. How a session
travels (the cookie, the CSRF token every write carries) is HTTP's:
``asgard.http.sessions``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from asgard.db.engine import Database
from asgard.db.ui_sessions import StoredSession, UiSessionStore
from asgard.errors import Forbidden, NotFound
from asgard.models.base import utc_now
from asgard.services.auth import Authenticator, Credentials
from asgard.services.principal import Principal

__all__ = ["DashboardSessions", "OpenSession", "hash_token"]

MAX_CACHED: Final = 10_000


def hash_token(token: str) -> str:
    """What the database keeps of a session's token, and what streams are held by."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class _Kept:
    stored: StoredSession
    at: float


@dataclass(frozen=True)
class OpenSession:
    """A live session: who it is, and the credentials its requests carry (the key it was
    made from, the session itself), which the streams it opens are held by."""

    principal: Principal
    credentials: Credentials


class DashboardSessions:
    """Opens, finds, switches and ends sessions; one per application, holding the short
    cache of what was read."""

    def __init__(self, db: Database, auth: Authenticator, *, ttl_s: int, cache_s: float) -> None:
        self._db = db
        self._auth = auth
        self.ttl_s = ttl_s
        self.cache_s = cache_s
        self.kept: dict[str, _Kept] = {}
        db.notices.on("auth", self.kept.clear)

    async def create(self, user_id: int, account_id: int | None, key_id: int | None) -> str:
        """A session made from the API key ``key_id``, which ends with it; its token."""
        token = secrets.token_urlsafe(32)
        now = utc_now()
        async with self._db.writing() as session:
            store = UiSessionStore(session)
            await store.delete_expired(now)
            await store.add(
                token_hash=hash_token(token),
                user_id=user_id,
                account_id=account_id,
                expires_at=now + timedelta(seconds=self.ttl_s),
                key_id=key_id,
            )
        return token

    async def find(self, token: str) -> StoredSession | None:
        """The live session of ``token``; None when unknown or expired."""
        key = hash_token(token)
        kept = self.kept.get(key)
        if kept is None or time.monotonic() - kept.at >= self.cache_s:
            async with self._db.session() as session:
                stored = await UiSessionStore(session).by_hash(key)
            if stored is None:
                self.kept.pop(key, None)
                return None
            if self.cache_s > 0:
                if len(self.kept) >= MAX_CACHED:
                    self.kept.clear()
                self.kept[key] = _Kept(stored, time.monotonic())
        else:
            stored = kept.stored
        return stored if stored.expires_at > utc_now() else None

    async def open(self, token: str) -> OpenSession | None:
        """Who the session of ``token`` is, as authentication would say of its key; None
        when the session, its key or its user is gone."""
        stored = await self.find(token)
        if stored is None:
            return None
        auth = self._auth
        if stored.key_id is not None and not await auth.key_alive(stored.key_id, stored.user_id):
            return None  # the row goes with its key; this is for a copy kept a moment longer
        try:
            user = await auth.user(stored.user_id)
        except NotFound:
            return None
        credentials = Credentials(
            user, stored.account_id, key_id=stored.key_id, session=stored.token_hash
        )
        return OpenSession(await auth.principal(credentials, None), credentials)

    async def revoke(self, token: str) -> None:
        """Log out: the session ends, and so do the streams opened with it, in every
        process (told as any change to who may do what is)."""
        key = hash_token(token)
        self.kept.pop(key, None)
        async with self._db.writing() as session:
            await UiSessionStore(session).delete(key)
        self._auth.forget()

    async def switch(self, principal: Principal, token: str, account_id: int) -> None:
        """The session's account becomes another of the user's own, never one they lack."""
        if account_id not in {m.id for m in principal.memberships}:
            raise Forbidden(f"user {principal.user.id} is not a member of account {account_id}")
        key = hash_token(token)
        self.kept.pop(key, None)
        async with self._db.writing() as session:
            await UiSessionStore(session).set_account(key, account_id)
