"""Credentials: API keys (stored hashed, shown once) and JWTs (signed, scoped to an account).

An API key looks like ``asg_<prefix>_<secret>``. The prefix finds the row; the
SHA-256 of the whole key is compared in constant time. Keys are 256 bits of
randomness, so a fast hash is the right one: there is nothing to brute-force.
What was read to authenticate is kept for a few seconds (``auth_cache``): the hot
path of every request does not touch the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import time
from dataclasses import dataclass
from datetime import timedelta

import jwt

from asgard.db.engine import Database
from asgard.db.stores import ApiKeyStore, MembershipStore, UserStore
from asgard.errors import Forbidden, InvalidValue, NotFound, Unauthenticated
from asgard.models import Account, AccountWithRole, ApiKey, NewApiKey, User
from asgard.models.base import utc_now
from asgard.services.auth_cache import AuthCache, StoredKey
from asgard.services.principal import Principal

KEY_PREFIX = "asg"
JWT_ALGORITHM = "HS256"
JWT_ISSUER = "asgard"
TOUCH_EVERY_S = 60.0
"""``last_used_at`` is written at most this often by one process, not on every request."""

_PREFIX_ALPHABET = string.ascii_lowercase + string.digits


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh key and its lookup prefix."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(10))
    return f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}", prefix


def key_prefix(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    return parts[1]


@dataclass(frozen=True)
class Credentials:
    user: User
    jwt_account_id: int | None
    key_id: int | None = None
    """The API key of the request, or the key its JWT or dashboard session was made from:
    what it may do ends when that key is revoked (open streams included)."""
    session: str | None = None
    """The dashboard session (its token's hash) of a request made with the cookie."""


class Authenticator:
    def __init__(
        self, db: Database, *, signing_key: str, jwt_ttl_s: int, cache_s: float = 5.0
    ) -> None:
        self.db = db
        self.signing_key = signing_key
        self.jwt_ttl = timedelta(seconds=jwt_ttl_s)
        self.cache = AuthCache(cache_s)
        db.notices.on("auth", self.cache.forget)

    def forget(self) -> None:
        """A key, user, account or membership changed: the next request reads them again,
        here and (told through the database, on PostgreSQL) in every other process."""
        self.db.notices.publish("auth")

    async def create_key(self, user_id: int, name: str) -> NewApiKey:
        key, prefix = new_key()
        async with self.db.writing() as session:
            stored = await ApiKeyStore(session).add(
                user_id=user_id, name=name, prefix=prefix, key_hash=hash_key(key)
            )
        return NewApiKey(**stored.model_dump(), key=key)

    async def list_keys(self, user_id: int) -> list[ApiKey]:
        async with self.db.session() as session:
            return list(await ApiKeyStore(session).of_user(user_id))

    async def delete_key(self, user_id: int, key_id: int) -> None:
        async with self.db.writing() as session:
            await ApiKeyStore(session).delete(user_id, key_id)
        self.forget()

    def issue_jwt(self, user: User, account: Account | None, key_id: int) -> str:
        """A JWT made from the API key ``key_id`` (the ``key`` claim): refused once the
        key is revoked, as the key itself is."""
        now = utc_now()
        claims = {
            "iss": JWT_ISSUER,
            "sub": str(user.id),
            "email": user.email,
            "acc": account.id if account else None,
            "key": key_id,
            "iat": now,
            "exp": now + self.jwt_ttl,
        }
        return jwt.encode(claims, self.signing_key, algorithm=JWT_ALGORITHM)

    async def authenticate(self, authorization: str | None) -> Credentials:
        """``Token <api-key>``, ``Bearer <jwt>`` or ``JWT <jwt>``; anything else is a 401."""
        if not authorization:
            raise Unauthenticated("credentials are required: 'Authorization: Token <api-key>'")
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if not value:
            raise Unauthenticated("the Authorization header has no credentials")
        match scheme.lower():
            case "token":
                stored = await self._by_key(value)
                return Credentials(await self._key_user(stored), None, key_id=stored.key_id)
            case "bearer" | "jwt":
                return await self._by_jwt(value)
        raise Unauthenticated("unknown authorization scheme; use Token, Bearer or JWT")

    async def _by_key(self, key: str) -> StoredKey:
        prefix = key_prefix(key)
        if prefix is None:
            raise Unauthenticated("invalid API key")
        stored = self.cache.keys.get(prefix)
        if stored is None:
            stored = await self._stored_key(prefix)
            if stored is None or not hmac.compare_digest(stored.key_hash, hash_key(key)):
                raise Unauthenticated("invalid API key")
            self.cache.keys.put(prefix, stored)  # only what matched, and only when read
        elif not hmac.compare_digest(stored.key_hash, hash_key(key)):
            raise Unauthenticated("invalid API key")
        await self._touch(stored.key_id)
        return stored

    async def _key_user(self, stored: StoredKey) -> User:
        try:
            return await self._user(stored.user_id)
        except NotFound:
            raise Unauthenticated("invalid API key") from None

    async def key_alive(self, key_id: int, user_id: int) -> bool:
        """Whether the key exists and is ``user_id``'s (kept for ``cache_s``, as keys are)."""

        async def read() -> int:
            async with self.db.session() as session:
                row = await ApiKeyStore(session).by_id(key_id)
            return 0 if row is None else row.user_id

        return await self.cache.key_owners.through(key_id, read) == user_id

    async def _stored_key(self, prefix: str) -> StoredKey | None:
        async with self.db.session() as session:
            row = await ApiKeyStore(session).by_prefix(prefix)
        return None if row is None else StoredKey(row.id, row.key_hash, row.user_id)

    async def _touch(self, key_id: int) -> None:
        """Say when the key was last used, once a minute at most."""
        now = time.monotonic()
        if now - self.cache.touched.get(key_id, -TOUCH_EVERY_S) < TOUCH_EVERY_S:
            return
        self.cache.touched[key_id] = now
        async with self.db.writing() as session:
            await ApiKeyStore(session).touch(key_id, utc_now())

    async def user(self, user_id: int) -> User:
        """The user, as authentication reads it (kept for ``cache_s``); ``NotFound``."""
        return await self._user(user_id)

    async def _user(self, user_id: int) -> User:
        async def read() -> User:
            async with self.db.session() as session:
                return await UserStore(session).get(user_id)

        return await self.cache.users.through(user_id, read)

    async def _memberships(self, user_id: int) -> list[AccountWithRole]:
        async def read() -> list[AccountWithRole]:
            async with self.db.session() as session:
                return await MembershipStore(session).accounts_of(user_id)

        return await self.cache.memberships.through(user_id, read)

    async def _by_jwt(self, token: str) -> Credentials:
        try:
            claims = jwt.decode(
                token,
                self.signing_key,
                algorithms=[JWT_ALGORITHM],
                issuer=JWT_ISSUER,
                options={"require": ["exp", "sub", "iss", "key"]},
            )
            user_id = int(claims["sub"])
            key_id = claims["key"]
            if not isinstance(key_id, int) or isinstance(key_id, bool):
                raise ValueError("the key claim is not an id")
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the JWT has expired") from None
        except (jwt.InvalidTokenError, ValueError):
            raise Unauthenticated("invalid JWT") from None
        try:
            user = await self._user(user_id)
        except NotFound:
            raise Unauthenticated("invalid JWT: its user no longer exists") from None
        if not await self.key_alive(key_id, user_id):
            raise Unauthenticated("invalid JWT: the API key it was made from was revoked")
        account = claims.get("acc")
        return Credentials(user, account if isinstance(account, int) else None, key_id=key_id)

    async def principal(self, credentials: Credentials, account_param: str | None) -> Principal:
        """The account of a request: ``?account_id``, else the JWT's, else the user's first."""
        user = credentials.user
        mine = await self._memberships(user.id)
        if account_param is not None:
            try:
                wanted = int(account_param)
            except ValueError:
                raise InvalidValue("must be an integer", field="account_id") from None
            chosen = next((a for a in mine if a.id == wanted), None)
            if chosen is None:
                raise Forbidden(f"user {user.id} is not a member of account {wanted}")
        else:
            chosen = next((a for a in mine if a.id == credentials.jwt_account_id), None)
            chosen = chosen or (mine[0] if mine else None)
        if chosen is None:
            return Principal(user, None, None, tuple(mine))
        account = Account(**chosen.model_dump(exclude={"role"}))
        return Principal(user, account, chosen.role, tuple(mine))
