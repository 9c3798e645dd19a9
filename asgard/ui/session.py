"""Dashboard sessions: the API key is typed once, on the login page, and exchanged for a
random token in an HttpOnly cookie; the database keeps only the token's SHA-256.

A session names its user, the API key it was made from and the account chosen in the
switcher; revoking the key ends the session (its row goes with the key), as deleting the
user does. What was read is kept for ``auth_cache_s`` (as authentication keeps keys), so
a page does not cost a database read; any change to keys, users, memberships or sessions
(the ``auth`` notice, from this process or another on PostgreSQL) empties it at once.
Every write made with the cookie carries a CSRF token, the HMAC of the session token
under the server's signing key, so another site can neither read nor forge it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Final
from urllib.parse import quote

from aiohttp import web

from asgard.db.ui_sessions import StoredSession, UiSessionStore
from asgard.errors import Forbidden, NotFound, Unauthenticated
from asgard.http.security_headers import is_https
from asgard.http.state import CREDENTIALS, PRINCIPAL, Services, services
from asgard.models.base import utc_now
from asgard.services.auth import Credentials
from asgard.services.principal import Principal

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "UI_SESSIONS",
    "SessionKeeper",
    "check_csrf",
    "cookie_principal",
    "csrf_token",
    "ui_principal",
]

COOKIE: Final = "asgard_session"
CSRF_HEADER: Final = "X-CSRF-Token"
LOGIN_PATH: Final = "/ui/login"
MAX_CACHED: Final = 10_000
SESSION_TOKEN = web.RequestKey("ui_session_token", str)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(signing_key: str, token: str) -> str:
    return hmac.new(signing_key.encode(), token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class _Kept:
    stored: StoredSession
    at: float


class SessionKeeper:
    """Creates, finds and ends sessions; one per application, holding the short cache."""

    def __init__(self) -> None:
        self.kept: dict[str, _Kept] = {}
        self._heeding = False

    def _heed(self, svc: Services) -> None:
        """Forget what was kept on every ``auth`` notice (the keeper is made before the
        database it would listen to, hence on first use)."""
        if not self._heeding:
            svc.db.notices.on("auth", self.kept.clear)
            self._heeding = True

    async def create(
        self, svc: Services, user_id: int, account_id: int | None, key_id: int | None
    ) -> str:
        """A session made from the API key ``key_id``, which ends with it."""
        token = secrets.token_urlsafe(32)
        now = utc_now()
        async with svc.db.writing() as session:
            store = UiSessionStore(session)
            await store.delete_expired(now)
            await store.add(
                token_hash=hash_token(token),
                user_id=user_id,
                account_id=account_id,
                expires_at=now + timedelta(seconds=svc.settings.session_ttl_s),
                key_id=key_id,
            )
        return token

    async def find(self, svc: Services, token: str) -> StoredSession | None:
        """The live session of ``token``; None when unknown or expired."""
        self._heed(svc)
        key = hash_token(token)
        kept = self.kept.get(key)
        if kept is None or time.monotonic() - kept.at >= svc.settings.auth_cache_s:
            async with svc.db.session() as session:
                stored = await UiSessionStore(session).by_hash(key)
            if stored is None:
                self.kept.pop(key, None)
                return None
            if svc.settings.auth_cache_s > 0:
                if len(self.kept) >= MAX_CACHED:
                    self.kept.clear()
                self.kept[key] = _Kept(stored, time.monotonic())
        else:
            stored = kept.stored
        return stored if stored.expires_at > utc_now() else None

    async def revoke(self, svc: Services, token: str) -> None:
        """Log out: the session ends, and so do the streams opened with it, in every
        process (told as any change to who may do what is)."""
        key = hash_token(token)
        self.kept.pop(key, None)
        async with svc.db.writing() as session:
            await UiSessionStore(session).delete(key)
        svc.auth.forget()

    async def switch(self, svc: Services, token: str, account_id: int) -> None:
        key = hash_token(token)
        self.kept.pop(key, None)
        async with svc.db.writing() as session:
            await UiSessionStore(session).set_account(key, account_id)


UI_SESSIONS = web.AppKey("ui_sessions", SessionKeeper)


def keeper(request: web.Request) -> SessionKeeper:
    return request.app[UI_SESSIONS]


async def _principal_of(request: web.Request, token: str) -> Principal | None:
    svc = services(request)
    stored = await keeper(request).find(svc, token)
    if stored is None:
        return None
    if stored.key_id is not None and not await svc.auth.key_alive(stored.key_id, stored.user_id):
        return None  # the row goes with its key; this is for a copy kept a moment longer
    try:
        user = await svc.auth.user(stored.user_id)
    except NotFound:
        return None
    credentials = Credentials(
        user, stored.account_id, key_id=stored.key_id, session=stored.token_hash
    )
    request[CREDENTIALS] = credentials
    return await svc.auth.principal(credentials, None)


async def cookie_principal(request: web.Request) -> Principal:
    """For the JSON API: the principal of the session cookie, or 401."""
    token = request.cookies.get(COOKIE, "")
    principal = await _principal_of(request, token) if token else None
    if principal is None:
        raise Unauthenticated("the session has expired or was ended: log in again")
    request[SESSION_TOKEN] = token
    return principal


def login_url(request: web.Request) -> str:
    return f"{LOGIN_PATH}?next={quote(request.path_qs, safe='/')}"


async def ui_principal(request: web.Request) -> Principal:
    """Who is asking, from the session cookie; without a live session, off to the login."""
    found = request.get(PRINCIPAL)
    if isinstance(found, Principal):
        return found
    token = request.cookies.get(COOKIE, "")
    principal = await _principal_of(request, token) if token else None
    if principal is None:
        raise web.HTTPFound(login_url(request))
    request[PRINCIPAL] = principal
    request[SESSION_TOKEN] = token
    return principal


def session_token(request: web.Request) -> str:
    return request.get(SESSION_TOKEN) or request.cookies.get(COOKIE, "")


def csrf_token(request: web.Request) -> str:
    """The token every write of this session must carry (a form field or ``X-CSRF-Token``)."""
    token = session_token(request)
    return csrf_for(services(request).auth.signing_key, token) if token else ""


def check_csrf(request: web.Request, given: str | None) -> None:
    expected = csrf_token(request)
    if not given or not expected or not hmac.compare_digest(given, expected):
        raise Forbidden("a write made with the session cookie needs its CSRF token")


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=services(request).settings.session_ttl_s,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
    )


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/", samesite="Strict", secure=is_https(request))
