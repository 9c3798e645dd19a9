"""Credentials: API keys (stored hashed, shown once) and JWTs (signed, scoped to an account).

An API key looks like ``asg_<prefix>_<secret>``. The prefix finds the row; the
SHA-256 of the whole key is compared in constant time. Keys are 256 bits of
randomness, so a fast hash is the right one: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

import jwt

from asgard.db.engine import Database
from asgard.db.stores import AccountStore, ApiKeyStore, MembershipStore, UserStore
from asgard.errors import Forbidden, InvalidValue, NotFound, Unauthenticated
from asgard.models import Account, ApiKey, NewApiKey, User
from asgard.models.base import utc_now
from asgard.services.principal import Principal

KEY_PREFIX = "asg"
JWT_ALGORITHM = "HS256"
JWT_ISSUER = "asgard"
TOUCH_EVERY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often, not on every request."""

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


class Authenticator:
    def __init__(self, db: Database, *, signing_key: str, jwt_ttl_s: int) -> None:
        self.db = db
        self.signing_key = signing_key
        self.jwt_ttl = timedelta(seconds=jwt_ttl_s)

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

    def issue_jwt(self, user: User, account: Account | None) -> str:
        now = utc_now()
        claims = {
            "iss": JWT_ISSUER,
            "sub": str(user.id),
            "email": user.email,
            "acc": account.id if account else None,
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
                return Credentials(await self._by_key(value), None)
            case "bearer" | "jwt":
                return await self._by_jwt(value)
        raise Unauthenticated("unknown authorization scheme; use Token, Bearer or JWT")

    async def _by_key(self, key: str) -> User:
        prefix = key_prefix(key)
        if prefix is None:
            raise Unauthenticated("invalid API key")
        async with self.db.writing() as session:
            keys = ApiKeyStore(session)
            row = await keys.by_prefix(prefix)
            if row is None or not hmac.compare_digest(row.key_hash, hash_key(key)):
                raise Unauthenticated("invalid API key")
            now = utc_now()
            if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
                await keys.touch(row.id, now)
            return await UserStore(session).get(row.user_id)

    async def _by_jwt(self, token: str) -> Credentials:
        try:
            claims = jwt.decode(
                token,
                self.signing_key,
                algorithms=[JWT_ALGORITHM],
                issuer=JWT_ISSUER,
                options={"require": ["exp", "sub", "iss"]},
            )
            user_id = int(claims["sub"])
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the JWT has expired") from None
        except (jwt.InvalidTokenError, ValueError):
            raise Unauthenticated("invalid JWT") from None
        async with self.db.session() as session:
            try:
                user = await UserStore(session).get(user_id)
            except NotFound:
                raise Unauthenticated("invalid JWT: its user no longer exists") from None
        account = claims.get("acc")
        return Credentials(user, account if isinstance(account, int) else None)

    async def principal(self, credentials: Credentials, account_param: str | None) -> Principal:
        """The account of a request: ``?account_id``, else the JWT's, else the user's first."""
        user = credentials.user
        async with self.db.session() as session:
            memberships = MembershipStore(session)
            if account_param is not None:
                try:
                    wanted = int(account_param)
                except ValueError:
                    raise InvalidValue("must be an integer", field="account_id") from None
                role = await memberships.role(user.id, wanted)
                if role is None:
                    raise Forbidden(f"user {user.id} is not a member of account {wanted}")
                return Principal(user, await AccountStore(session).get(wanted), role)
            mine = await memberships.accounts_of(user.id)
        chosen = next((a for a in mine if a.id == credentials.jwt_account_id), None)
        chosen = chosen or (mine[0] if mine else None)
        if chosen is None:
            return Principal(user, None, None)
        account = Account(**chosen.model_dump(exclude={"role"}))
        return Principal(user, account, chosen.role)
