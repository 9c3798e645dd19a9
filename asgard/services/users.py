"""Users: who may see and change them. Administrators manage everyone; a user sees itself."""

from __future__ import annotations

from asgard.db.stores import MembershipStore, UserStore
from asgard.errors import Conflict, Forbidden
from asgard.models import AccountWithRole, User, UserCreate, UserPatch
from asgard.services.identities import IdentityService
from asgard.services.pagination import Page, after_id, id_page
from asgard.services.principal import Principal


class UsersService(IdentityService):
    @staticmethod
    def _self_or_admin(principal: Principal, user_id: int) -> None:
        if principal.user.id != user_id and not principal.user.is_admin:
            raise Forbidden("a user can only see itself unless it is an administrator")

    async def list_users(self, principal: Principal, limit: int, cursor: str | None) -> Page[User]:
        principal.require_admin()
        async with self.db.session() as session:
            rows, total = await UserStore(session).page(after_id(cursor), limit)
        return id_page(rows, total, limit, lambda u: u.id)

    async def get(self, principal: Principal, user_id: int) -> User:
        self._self_or_admin(principal, user_id)
        async with self.db.session() as session:
            return await UserStore(session).get(user_id)

    async def by_email(self, email: str) -> User | None:
        async with self.db.session() as session:
            return await UserStore(session).by_email(email)

    async def create(self, principal: Principal, data: UserCreate) -> User:
        principal.require_admin()
        async with self._changing() as session:
            return await UserStore(session).create(data)

    async def update(self, principal: Principal, user_id: int, patch: UserPatch) -> User:
        self._self_or_admin(principal, user_id)
        if patch.is_admin is not None and not principal.user.is_admin:
            raise Forbidden(
                "only an administrator can grant or remove administration", field="is_admin"
            )
        async with self._changing() as session:
            users = UserStore(session)
            current = await users.get(user_id)
            if current.is_admin and patch.is_admin is False and await users.count_admins() == 1:
                raise Conflict("this is the last administrator", field="is_admin")
            return await users.update(user_id, patch)

    async def delete(self, principal: Principal, user_id: int) -> None:
        principal.require_admin()
        async with self._changing() as session:
            users = UserStore(session)
            user = await users.get(user_id)
            if user.is_admin and await users.count_admins() == 1:
                raise Conflict("the last administrator cannot be deleted")
            await users.delete(user_id)

    async def accounts_of(self, principal: Principal, user_id: int) -> list[AccountWithRole]:
        self._self_or_admin(principal, user_id)
        async with self.db.session() as session:
            await UserStore(session).get(user_id)
            return await MembershipStore(session).accounts_of(user_id)
