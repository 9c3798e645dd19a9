"""The tables: users, accounts, memberships, API keys, and what Asgard keeps besides (job
records, leases, schedules, workflows, dashboard sessions, the audit log, the clusters
registered through the API). Migrations live in
``migrations/``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from asgard.models.base import utc_now


class UtcDateTime(TypeDecorator[datetime]):
    """Times go in and come out as aware UTC datetimes, SQLite included (it keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    namespace: Mapped[str] = mapped_column(String(63), unique=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    clusters: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class MembershipRow(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("account_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class JobRecordRow(Base):
    """What Asgard remembers of a job it created; the cluster says what is running."""

    __tablename__ = "job_records"
    __table_args__ = (UniqueConstraint("cluster", "account_id", "job_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    cluster: Mapped[str] = mapped_column(String(63))
    job_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(63))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[dict[str, Any]] = mapped_column(JSON)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class LeaseRow(Base):
    """A named lease: who holds it and until when (the reconciler, the scheduler)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column()


class ScheduleRow(Base):
    """A scheduled job Asgard runs itself, on clusters with no scheduler of their own."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("account_id", "cluster", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    cluster: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(63))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    next_run_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(default=None)
    last_job_id: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class WorkflowRow(Base):
    """A workflow Asgard runs stage after stage; all its progress is here, so a restart
    picks it up where it was."""

    __tablename__ = "workflows"
    __table_args__ = (UniqueConstraint("account_id", "cluster", "workflow_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    cluster: Mapped[str] = mapped_column(String(63))
    workflow_id: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), index=True)
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class UiSessionRow(Base):
    """A dashboard login: the browser holds a random token, the row only its SHA-256, so a
    copy of the database opens no session."""

    __tablename__ = "ui_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), index=True, default=None
    )
    """The API key typed at the login: revoking it ends the session with it."""


AUDIT_ID = BigInteger().with_variant(Integer, "sqlite")
"""64 bits where a log of every write can outgrow 32; SQLite's rowid is 64 bits already and
only an ``INTEGER`` primary key is one."""


class AuditRow(Base):
    """One write through the API or the dashboard. Users and accounts are kept as plain ids,
    not foreign keys: deleting a user must not delete, nor be blocked by, its history."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_account_id_id", "account_id", "id"),
        Index("ix_audit_log_user_id_id", "user_id", "id"),
        Index("ix_audit_log_cluster_id", "cluster", "id"),
        Index("ix_audit_log_resource_action_id", "resource", "action", "id"),
    )

    id: Mapped[int] = mapped_column(AUDIT_ID, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    account_id: Mapped[int | None] = mapped_column(Integer, default=None)
    cluster: Mapped[str | None] = mapped_column(String(63), default=None)
    resource: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[str | None] = mapped_column(String(300), default=None)
    action: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))


class AppVersionRow(Base):
    """A spec Asgard deployed (created, changed or rolled back to), by whom and when: the
    whole history of a kind that keeps none (a single Docker engine), the older part of
    one that keeps little (a Swarm service's previous spec), and who deployed a version
    a cluster keeps. One row per deploy; ``version`` is the spec's hash
    (``asgard.models.version.spec_hash``)."""

    __tablename__ = "app_versions"
    __table_args__ = (Index("ix_app_versions_app", "cluster", "namespace", "app_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(63))
    namespace: Mapped[str] = mapped_column(String(63))
    app_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    deployed_by: Mapped[str | None] = mapped_column(String(320), default=None)


class ClusterRow(Base):
    """A cluster registered through the API: its entry's fields but its secrets, and
    those secrets encrypted with ``ASGARD_CLUSTER_KEYS`` (``asgard.cluster_keys``), never
    in plain text."""

    __tablename__ = "clusters"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    secrets: Mapped[str | None] = mapped_column(Text, default=None)
    secret_names: Mapped[str] = mapped_column(String(500), default="")
    """The names of the secrets that are set, separated by commas: shown as ``"set"``
    without decrypting anything."""
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class ClusterRevisionRow(Base):
    """One row, bumped by every change to ``clusters`` in the same transaction: what a
    process polling the registry (SQLite) reads to learn, cheaply, that it must read the
    clusters again."""

    __tablename__ = "cluster_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)
