"""Users, and ``/users/me``: who am I, in which accounts, with which keys."""

from __future__ import annotations

from aiohttp import web

from asgard.http.audit_note import about
from asgard.http.routing import RouteTable, follow, int_param, json_response
from asgard.http.schemas import (
    ListQuery,
    Me,
    NewTokenBody,
    TokenList,
    UserAccounts,
    UserBody,
    UserList,
)
from asgard.http.state import principal, services
from asgard.models import ApiKeyCreate, UserCreate, UserPatch

routes = RouteTable("users")

USER = "/users/{user_id:(?!me(?:/|$))[^/]+}"
"""A user by id, never ``me``: ``PATCH /users/me`` is the ``/users/me`` route's (405), not a
user whose id is not a number."""


@routes.get(
    "/users/me", summary="The caller, its current account and all its accounts", responses={200: Me}
)
async def me(request: web.Request) -> web.Response:
    """``current_account`` is the account this request acts in (see authentication)."""
    who = principal(request)
    accounts = list(who.memberships)  # as read to authenticate this request
    current = next(
        (a for a in accounts if who.account is not None and a.id == who.account.id), None
    )
    return json_response(Me(user=who.user, current_account=current, accounts=accounts))


@routes.get(
    "/users/me/tokens",
    summary="The caller's API keys (never the keys themselves)",
    responses={200: TokenList},
)
async def list_tokens(request: web.Request) -> web.Response:
    who = principal(request)
    return json_response(TokenList(tokens=await services(request).auth.list_keys(who.user.id)))


@routes.post(
    "/users/me/tokens",
    summary="Create an API key for the caller",
    body=ApiKeyCreate,
    links=follow("token", {"token_id": "id"}, "delete_token"),
    responses={201: NewTokenBody},
)
async def create_token(request: web.Request, body: ApiKeyCreate) -> web.Response:
    """The answer holds the key in ``token.key``. It is shown this once: only its hash is kept."""
    who = principal(request)
    token = await services(request).auth.create_key(who.user.id, body.name)
    about(request, id=token.id)
    return json_response(NewTokenBody(token=token), status=201)


@routes.delete(
    "/users/me/tokens/{token_id}",
    summary="Revoke one of the caller's API keys",
    responses={204: None},
)
async def delete_token(request: web.Request) -> web.Response:
    who = principal(request)
    await services(request).auth.delete_key(who.user.id, int_param(request, "token_id"))
    return web.Response(status=204)


@routes.get(
    "/users", summary="All users (administrators only)", query=ListQuery, responses={200: UserList}
)
async def list_users(request: web.Request, query: ListQuery) -> web.Response:
    page = await services(request).users.list_users(principal(request), query.limit, query.cursor)
    return json_response(UserList(users=page.items, next_cursor=page.next_cursor, total=page.total))


@routes.post(
    "/users",
    summary="Create a user (administrators only)",
    body=UserCreate,
    links=follow(
        "user", {"user_id": "id"}, "get_user", "patch_user", "delete_user", "user_accounts"
    ),
    responses={201: UserBody},
)
async def create_user(request: web.Request, body: UserCreate) -> web.Response:
    """409 when the e-mail is taken. The new user has no account and no key yet."""
    user = await services(request).users.create(principal(request), body)
    about(request, id=user.id)
    return json_response(UserBody(user=user), status=201)


@routes.get(
    USER,
    summary="One user (itself, or any for administrators)",
    responses={200: UserBody},
)
async def get_user(request: web.Request) -> web.Response:
    user = await services(request).users.get(principal(request), int_param(request, "user_id"))
    return json_response(UserBody(user=user))


@routes.patch(USER, summary="Change a user", body=UserPatch, responses={200: UserBody})
async def patch_user(request: web.Request, body: UserPatch) -> web.Response:
    """A user may change its own name and e-mail; only administrators change ``is_admin``."""
    user = await services(request).users.update(
        principal(request), int_param(request, "user_id"), body
    )
    return json_response(UserBody(user=user))


@routes.delete(USER, summary="Delete a user (administrators only)", responses={204: None})
async def delete_user(request: web.Request) -> web.Response:
    """Its memberships and API keys go with it. The last administrator cannot be deleted (409)."""
    await services(request).users.delete(principal(request), int_param(request, "user_id"))
    return web.Response(status=204)


@routes.get(
    f"{USER}/accounts",
    summary="A user's accounts with its role in each",
    responses={200: UserAccounts},
)
async def user_accounts(request: web.Request) -> web.Response:
    found = await services(request).users.accounts_of(
        principal(request), int_param(request, "user_id")
    )
    return json_response(UserAccounts(accounts=found))
