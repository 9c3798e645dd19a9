"""Users, accounts, memberships and API keys: who may do what, where."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from asgard.models.base import AsgardModel, DnsLabel, InputModel

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")


def _check_email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 320 or not _EMAIL_RE.match(value):
        raise ValueError("must be an e-mail address")
    return value


Email = Annotated[str, AfterValidator(_check_email)]
"""Checked for shape only and lower-cased: addresses here name people, nothing is mailed."""


class Role(StrEnum):
    """Per membership. Each role can do everything the one before it can."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


class User(AsgardModel):
    id: int
    name: str
    email: str
    is_admin: bool = False
    created_at: datetime | None = None


class UserCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    email: Email
    is_admin: bool = False


class UserPatch(InputModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    email: Email | None = None
    is_admin: bool | None = None


class Account(AsgardModel):
    id: int
    name: str
    namespace: str = Field(description="Kubernetes namespace, Marathon group, Chronos prefix")
    owner: str | None = Field(None, description="Agents whose 'owner' attribute matches are ours")
    clusters: list[str] | None = Field(
        None, description="The clusters this account may use; null means all of them"
    )
    created_at: datetime | None = None

    def may_use(self, cluster: str) -> bool:
        return self.clusters is None or cluster in self.clusters


class AccountCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    namespace: DnsLabel
    owner: str | None = Field(None, min_length=1, max_length=200)
    clusters: list[str] | None = None


class AccountPatch(InputModel):
    """The namespace is not here on purpose: changing it would orphan everything on the clusters."""

    name: str | None = Field(None, min_length=1, max_length=200)
    owner: str | None = Field(None, min_length=1, max_length=200)
    clusters: list[str] | None = None


class Membership(InputModel):
    """The body of ``PUT /accounts/{id}/users/{user_id}``."""

    role: Role = Role.VIEWER


class Member(User):
    """A user as seen from an account: with its role there."""

    role: Role


class AccountWithRole(Account):
    """An account as seen from a user: with the user's role there."""

    role: Role


class ApiKey(AsgardModel):
    """An API key's public face. The secret part is never stored, only its hash."""

    id: int
    name: str
    prefix: str = Field(description="The first characters of the key, to recognise it by")
    created_at: datetime | None = None
    last_used_at: datetime | None = None


class ApiKeyCreate(InputModel):
    name: str = Field("api key", min_length=1, max_length=200)


class NewApiKey(ApiKey):
    key: str = Field(description="The key itself; shown this once and never again")
