"""Users, accounts with their members, and the caller's API keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from asgard.client.pagination import each
from asgard.client.transport import Transport, path_of
from asgard.http.schemas import (
    AccountBody,
    AccountList,
    JwtBody,
    Me,
    MemberBody,
    MemberList,
    NewTokenBody,
    TokenList,
    UserAccounts,
    UserBody,
    UserList,
)
from asgard.models import (
    Account,
    AccountCreate,
    AccountPatch,
    AccountWithRole,
    ApiKey,
    Member,
    NewApiKey,
    Role,
    User,
    UserCreate,
    UserPatch,
)

__all__ = ["AccountsClient", "TokensClient", "UsersClient"]


class UsersClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def me(self) -> Me:
        """Who the key belongs to, the account requests act in, and all its accounts."""
        return await self._t.model(Me, "GET", "/users/me")

    async def page(self, *, limit: int | None = None, cursor: str | None = None) -> UserList:
        params = {"limit": limit, "cursor": cursor}
        return await self._t.model(UserList, "GET", "/users", params=params)

    def all(self) -> AsyncIterator[User]:
        async def fetch(cursor: str | None) -> UserList:
            return await self.page(cursor=cursor)

        return each(fetch, lambda page: page.users)

    async def create(self, user: UserCreate | Mapping[str, Any]) -> User:
        return (await self._t.model(UserBody, "POST", "/users", body=user)).user

    async def get(self, user_id: int) -> User:
        return (await self._t.model(UserBody, "GET", path_of("users", str(user_id)))).user

    async def update(self, user_id: int, patch: UserPatch | Mapping[str, Any]) -> User:
        path = path_of("users", str(user_id))
        return (await self._t.model(UserBody, "PATCH", path, body=patch)).user

    async def delete(self, user_id: int) -> None:
        await self._t.call("DELETE", path_of("users", str(user_id)))

    async def accounts(self, user_id: int) -> list[AccountWithRole]:
        path = path_of("users", str(user_id), "accounts")
        return (await self._t.model(UserAccounts, "GET", path)).accounts


class AccountsClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def page(self, *, limit: int | None = None, cursor: str | None = None) -> AccountList:
        params = {"limit": limit, "cursor": cursor}
        return await self._t.model(AccountList, "GET", "/accounts", params=params)

    def all(self) -> AsyncIterator[Account]:
        async def fetch(cursor: str | None) -> AccountList:
            return await self.page(cursor=cursor)

        return each(fetch, lambda page: page.accounts)

    async def create(self, account: AccountCreate | Mapping[str, Any]) -> Account:
        return (await self._t.model(AccountBody, "POST", "/accounts", body=account)).account

    async def get(self, account_id: int) -> Account:
        path = path_of("accounts", str(account_id))
        return (await self._t.model(AccountBody, "GET", path)).account

    async def update(self, account_id: int, patch: AccountPatch | Mapping[str, Any]) -> Account:
        path = path_of("accounts", str(account_id))
        return (await self._t.model(AccountBody, "PATCH", path, body=patch)).account

    async def delete(self, account_id: int) -> None:
        await self._t.call("DELETE", path_of("accounts", str(account_id)))

    async def members(self, account_id: int) -> list[Member]:
        path = path_of("accounts", str(account_id), "users")
        return (await self._t.model(MemberList, "GET", path)).users

    async def put_member(self, account_id: int, user_id: int, role: Role | str) -> Member:
        path = path_of("accounts", str(account_id), "users", str(user_id))
        body = {"role": str(role)}
        return (await self._t.model(MemberBody, "PUT", path, body=body)).user

    async def remove_member(self, account_id: int, user_id: int) -> None:
        await self._t.call("DELETE", path_of("accounts", str(account_id), "users", str(user_id)))

    async def jwt(self, account_id: int) -> str:
        """A JWT acting in this account; a client made with it sends it as Bearer."""
        path = path_of("accounts", str(account_id), "auth")
        return (await self._t.model(JwtBody, "GET", path)).jwt


class TokensClient:
    """The caller's own API keys (``/users/me/tokens``)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def all(self) -> list[ApiKey]:
        return (await self._t.model(TokenList, "GET", "/users/me/tokens")).tokens

    async def create(self, name: str = "api key") -> NewApiKey:
        """The answer holds the key itself, this once."""
        body = {"name": name}
        return (await self._t.model(NewTokenBody, "POST", "/users/me/tokens", body=body)).token

    async def delete(self, token_id: int) -> None:
        await self._t.call("DELETE", path_of("users", "me", "tokens", str(token_id)))
