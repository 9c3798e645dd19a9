"""The first start: an empty database gets an administrator, a default account, and a key."""

from __future__ import annotations

from dataclasses import dataclass

from asgard.db.engine import Database
from asgard.db.stores import AccountStore, MembershipStore, UserStore
from asgard.errors import Conflict
from asgard.models import Account, AccountCreate, NewApiKey, Role, User, UserCreate
from asgard.services.auth import Authenticator

DEFAULT_ACCOUNT = AccountCreate(name="default", namespace="asgard-default")
"""Namespace ``default`` is reserved (``asgard.models.namespaces``); a database whose first
start made the account in it keeps it so."""


@dataclass(frozen=True)
class Bootstrapped:
    user: User
    account: Account
    key: NewApiKey


async def bootstrap(db: Database, auth: Authenticator, admin_email: str) -> Bootstrapped | None:
    """Create the first administrator if there is no user at all; None when there is one."""
    try:
        return await _bootstrap(db, auth, admin_email)
    except Conflict:  # another Asgard process sharing the database got there first
        return None


async def _bootstrap(db: Database, auth: Authenticator, admin_email: str) -> Bootstrapped | None:
    async with db.writing() as session:
        users = UserStore(session)
        if await users.count() > 0:
            return None
        user = await users.create(
            UserCreate(name="Administrator", email=admin_email, is_admin=True)
        )
        accounts = AccountStore(session)
        account = await accounts.by_name(DEFAULT_ACCOUNT.name) or await accounts.create(
            DEFAULT_ACCOUNT
        )
        await MembershipStore(session).put(account.id, user.id, Role.ADMIN)
    key = await auth.create_key(user.id, "created on first start")
    return Bootstrapped(user=user, account=account, key=key)
