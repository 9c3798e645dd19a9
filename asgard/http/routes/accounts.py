"""Accounts, their members, and JWTs scoped to one account."""

from __future__ import annotations

from aiohttp import web

from asgard.errors import Forbidden
from asgard.http.audit_note import about
from asgard.http.routing import RouteTable, follow, int_param, json_response
from asgard.http.schemas import AccountBody, AccountList, JwtBody, ListQuery, MemberBody, MemberList
from asgard.http.state import CREDENTIALS, principal, services
from asgard.models import AccountCreate, AccountPatch, Membership

routes = RouteTable("accounts")


@routes.get(
    "/accounts",
    summary="The caller's accounts (all of them for administrators)",
    query=ListQuery,
    responses={200: AccountList},
)
async def list_accounts(request: web.Request, query: ListQuery) -> web.Response:
    page = await services(request).accounts.list_accounts(
        principal(request), query.limit, query.cursor
    )
    return json_response(
        AccountList(accounts=page.items, next_cursor=page.next_cursor, total=page.total)
    )


@routes.post(
    "/accounts",
    summary="Create an account (administrators only)",
    body=AccountCreate,
    links=follow(
        "account",
        {"account_id": "id"},
        "get_account",
        "patch_account",
        "delete_account",
        "list_members",
        "account_jwt",
    ),
    responses={201: AccountBody},
)
async def create_account(request: web.Request, body: AccountCreate) -> web.Response:
    """409 when the name or the namespace is taken."""
    account = await services(request).accounts.create(principal(request), body)
    about(request, account=account.id, id=account.id)
    return json_response(AccountBody(account=account), status=201)


@routes.get(
    "/accounts/{account_id}",
    summary="One account (members and administrators)",
    responses={200: AccountBody},
)
async def get_account(request: web.Request) -> web.Response:
    account = await services(request).accounts.get(
        principal(request), int_param(request, "account_id")
    )
    return json_response(AccountBody(account=account))


@routes.patch(
    "/accounts/{account_id}",
    summary="Change an account (administrators only)",
    body=AccountPatch,
    responses={200: AccountBody},
)
async def patch_account(request: web.Request, body: AccountPatch) -> web.Response:
    """The namespace cannot change: what runs on the clusters is found by it."""
    account = await services(request).accounts.update(
        principal(request), int_param(request, "account_id"), body
    )
    return json_response(AccountBody(account=account))


@routes.delete(
    "/accounts/{account_id}",
    summary="Delete an account (administrators only)",
    responses={204: None},
)
async def delete_account(request: web.Request) -> web.Response:
    """Memberships go with it; nothing on the clusters is touched."""
    await services(request).accounts.delete(principal(request), int_param(request, "account_id"))
    return web.Response(status=204)


@routes.get(
    "/accounts/{account_id}/users",
    summary="Members of an account with their roles",
    responses={200: MemberList},
)
async def list_members(request: web.Request) -> web.Response:
    members = await services(request).accounts.members(
        principal(request), int_param(request, "account_id")
    )
    return json_response(MemberList(users=members))


@routes.put(
    "/accounts/{account_id}/users/{user_id}",
    summary="Add a member or change its role (account admins and administrators)",
    body=Membership,
    responses={200: MemberBody},
)
async def put_member(request: web.Request, body: Membership) -> web.Response:
    member = await services(request).accounts.put_member(
        principal(request),
        int_param(request, "account_id"),
        int_param(request, "user_id"),
        body.role,
    )
    return json_response(MemberBody(user=member))


@routes.delete(
    "/accounts/{account_id}/users/{user_id}",
    summary="Remove a member (account admins and administrators)",
    responses={204: None},
)
async def delete_member(request: web.Request) -> web.Response:
    await services(request).accounts.remove_member(
        principal(request), int_param(request, "account_id"), int_param(request, "user_id")
    )
    return web.Response(status=204)


@routes.get(
    "/accounts/{account_id}/auth", summary="A JWT scoped to this account", responses={200: JwtBody}
)
async def account_jwt(request: web.Request) -> web.Response:
    """Use it as ``Authorization: Bearer <jwt>``: requests then act in this account.
    Only members get one (403 otherwise). It is made from the API key of the request (or
    the key of the JWT or dashboard session used) and is refused once that key is revoked."""
    who = principal(request)
    account = await services(request).accounts.account_for_jwt(
        who, int_param(request, "account_id")
    )
    credentials = request.get(CREDENTIALS)
    if credentials is None or credentials.key_id is None:
        raise Forbidden("a JWT is made from an API key: authenticate with one")
    jwt = services(request).auth.issue_jwt(who.user, account, credentials.key_id)
    return json_response(JwtBody(jwt=jwt))
