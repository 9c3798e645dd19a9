"""Accounts and their members.

Administrators create, change and delete accounts; an account's own ``admin``
members manage who else belongs to it; every member can see the account.
"""

from __future__ import annotations

from collections.abc import Callable

from asgard.db.engine import Database
from asgard.db.stores import AccountStore, MembershipStore, UserStore
from asgard.errors import Forbidden, InvalidValue, NotFound
from asgard.models import Account, AccountCreate, AccountPatch, Member, Role
from asgard.models.namespaces import ReservedNamespaces
from asgard.services.identities import IdentityService
from asgard.services.pagination import Page, after_id, id_page
from asgard.services.principal import Principal


class AccountsService(IdentityService):
    def __init__(
        self,
        db: Database,
        changed: Callable[[], None] = lambda: None,
        reserved: ReservedNamespaces | None = None,
    ) -> None:
        super().__init__(db, changed)
        self.reserved = reserved or ReservedNamespaces()

    async def _role(self, principal: Principal, account_id: int) -> Role | None:
        async with self.db.session() as session:
            await AccountStore(session).get(account_id)
            return await MembershipStore(session).role(principal.user.id, account_id)

    async def _require_member(self, principal: Principal, account_id: int, role: Role) -> None:
        held = await self._role(principal, account_id)
        if principal.user.is_admin:
            return
        if held is None:
            raise Forbidden(f"user {principal.user.id} is not a member of account {account_id}")
        if not held.allows(role):
            raise Forbidden(f"role '{held.value}' cannot do this; '{role.value}' is needed")

    async def list_accounts(
        self, principal: Principal, limit: int, cursor: str | None
    ) -> Page[Account]:
        member = None if principal.user.is_admin else principal.user.id
        async with self.db.session() as session:
            rows, total = await AccountStore(session).page(after_id(cursor), limit, member=member)
        return id_page(rows, total, limit, lambda a: a.id)

    async def get(self, principal: Principal, account_id: int) -> Account:
        await self._require_member(principal, account_id, Role.VIEWER)
        async with self.db.session() as session:
            return await AccountStore(session).get(account_id)

    async def every_account(self, principal: Principal) -> list[Account]:
        """Every account, for an administrator's one-off work over all of them."""
        principal.require_admin()
        async with self.db.session() as session:
            return await AccountStore(session).every()

    async def by_name(self, name: str) -> Account | None:
        async with self.db.session() as session:
            return await AccountStore(session).by_name(name)

    async def create(self, principal: Principal, data: AccountCreate) -> Account:
        principal.require_admin()
        refused = self.reserved.refusal(data.namespace)
        if refused:
            raise InvalidValue(refused, field="namespace")
        async with self._changing() as session:
            return await AccountStore(session).create(data)

    async def update(self, principal: Principal, account_id: int, patch: AccountPatch) -> Account:
        principal.require_admin()
        async with self._changing() as session:
            return await AccountStore(session).update(account_id, patch)

    async def delete(self, principal: Principal, account_id: int) -> None:
        principal.require_admin()
        async with self._changing() as session:
            await AccountStore(session).delete(account_id)

    async def members(self, principal: Principal, account_id: int) -> list[Member]:
        await self._require_member(principal, account_id, Role.VIEWER)
        async with self.db.session() as session:
            return await MembershipStore(session).members_of(account_id)

    async def put_member(
        self, principal: Principal, account_id: int, user_id: int, role: Role
    ) -> Member:
        await self._require_member(principal, account_id, Role.ADMIN)
        async with self._changing() as session:
            user = await UserStore(session).get(user_id)
            await MembershipStore(session).put(account_id, user_id, role)
        return Member(**user.model_dump(), role=role)

    async def remove_member(self, principal: Principal, account_id: int, user_id: int) -> None:
        await self._require_member(principal, account_id, Role.ADMIN)
        async with self._changing() as session:
            await UserStore(session).get(user_id)
            if not await MembershipStore(session).remove(account_id, user_id):
                raise NotFound(f"user {user_id} is not a member of account {account_id}")

    async def account_for_jwt(self, principal: Principal, account_id: int) -> Account:
        """An account the user may act in: membership, not administration, is what counts."""
        if await self._role(principal, account_id) is None:
            raise Forbidden(f"user {principal.user.id} is not a member of account {account_id}")
        async with self.db.session() as session:
            return await AccountStore(session).get(account_id)
