"""The shapes of requests' query strings and of responses: envelopes around domain models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from asgard.models import (
    Account,
    AccountWithRole,
    Agent,
    ApiKey,
    App,
    ClusterErrorInfo,
    ClusterStatus,
    Member,
    NewApiKey,
    Task,
    UsageStats,
    User,
)
from asgard.services.pagination import DEFAULT_LIMIT, MAX_LIMIT


class Query(BaseModel):
    """Query strings ignore what they do not know (``account_id`` is read by authentication)."""

    model_config = ConfigDict(extra="ignore")


class ListQuery(Query):
    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, {DEFAULT_LIMIT} by default"
    )
    cursor: str | None = Field(None, description="The next_cursor of the previous page")


class ClusterListQuery(ListQuery):
    cluster: list[str] | None = Field(
        None, description="Only these clusters (repeat the parameter for several)"
    )


class Paged(BaseModel):
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null on the last"
    )
    total: int = Field(description="How many items all pages hold together")


class HealthBody(BaseModel):
    status: str


class ClusterList(BaseModel):
    clusters: list[ClusterStatus]


class AgentList(Paged):
    agents: list[Agent]
    stats: UsageStats = Field(description="Usage summed over every agent that matched")
    errors: list[ClusterErrorInfo] = Field(description="One entry per cluster that failed")


class AgentBody(BaseModel):
    agent: Agent


class AppList(Paged):
    apps: list[App]
    errors: list[ClusterErrorInfo]


class AgentApps(BaseModel):
    apps: list[App]


class AppBody(BaseModel):
    app: App


class TaskList(BaseModel):
    tasks: list[Task]


class UserBody(BaseModel):
    user: User


class UserList(Paged):
    users: list[User]


class AccountBody(BaseModel):
    account: Account


class AccountList(Paged):
    accounts: list[Account]


class UserAccounts(BaseModel):
    accounts: list[AccountWithRole]


class Me(BaseModel):
    user: User
    current_account: AccountWithRole | None
    accounts: list[AccountWithRole] = Field(description="Every account of the user, with its role")


class MemberList(BaseModel):
    users: list[Member]


class MemberBody(BaseModel):
    user: Member


class JwtBody(BaseModel):
    jwt: str


class TokenList(BaseModel):
    tokens: list[ApiKey]


class NewTokenBody(BaseModel):
    token: NewApiKey
