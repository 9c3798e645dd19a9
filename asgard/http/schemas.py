"""The shapes of requests' query strings and of responses: envelopes around domain models."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from asgard.events import EventKind
from asgard.models import (
    Account,
    AccountWithRole,
    Agent,
    ApiKey,
    App,
    AppStats,
    AppVersion,
    ClusterEntry,
    ClusterErrorInfo,
    ClusterStatus,
    Job,
    Member,
    NewApiKey,
    ScheduledJob,
    Task,
    UsageSample,
    UsageStats,
    User,
    Workflow,
)
from asgard.models.audit import AuditEntry
from asgard.models.job import JobState
from asgard.services.listing import ListRequest
from asgard.services.pagination import DEFAULT_LIMIT, MAX_LIMIT


class Query(BaseModel):
    """Query strings ignore what they do not know (``account_id`` is read by authentication)."""

    model_config = ConfigDict(extra="ignore")


class ListQuery(Query):
    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, {DEFAULT_LIMIT} by default"
    )
    cursor: Annotated[str | None, BeforeValidator(lambda v: v or None)] = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The next_cursor of the previous page; none or empty: the first page",
    )


class ClusterListQuery(ListQuery):
    cluster: list[str] | None = Field(
        None, description="Only these clusters (comma-separated, or repeat the parameter)"
    )
    stale: bool = Field(
        False,
        description="A cluster that is down contributes the items Asgard last saw there; "
        "its errors entry says so with stale_since and last_contact_at, and as_of says how "
        "old its part is. Without it, a cluster that is down contributes only its error",
    )

    def asked(self) -> ListRequest:
        """What the query asks of a list service."""
        return ListRequest(self.cluster, self.limit, self.cursor, self.stale)


class ClustersQuery(Query):
    probe: bool = Field(
        False, description="Ask each cluster now, instead of answering from what is known"
    )


_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+ -]\d{2}:\d{2})$"
)


def _rfc3339(value: object) -> object:
    """An RFC 3339 time and nothing looser (no dates alone, no times without a zone, no
    UNIX numbers). A ``+`` sent unencoded in a query string arrives as a space: read back."""
    if not isinstance(value, str):
        return value
    found = _RFC3339.match(value.strip())
    if found is None:
        raise ValueError("must be an RFC 3339 time with a zone, such as 2026-12-01T16:00:00Z")
    head, fraction, zone = found.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone.replace(" ", "+")
    digits = f".{fraction[:6]}" if fraction else ""
    try:
        return datetime.fromisoformat(f"{head.upper()}{digits}{zone}").astimezone(UTC)
    except OverflowError:  # year 1 east of UTC, or 9999 west of it
        raise ValueError("must be a time between the years 1 and 9999 in UTC") from None


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]


class TaskLogsQuery(Query):
    tail: int = Field(
        100, ge=0, le=100_000, description="Lines to send from the end of each instance's log"
    )
    follow: bool = Field(False, description="Keep streaming new lines until the client goes away")
    since: Rfc3339 | None = Field(
        None,
        description="Only lines stamped from this RFC 3339 time on (of the last tail ones); "
        "not on Mesos, whose sandbox files carry no times",
    )
    format: Literal["text", "jsonl"] = Field(
        "text",
        description="text: the lines (merged: 'task-id | line'); jsonl: one JSON object a "
        'line, {"task", "ts", "stream", "line"}',
    )


class LogsQuery(TaskLogsQuery):
    tasks: Literal["all"] | None = Field(
        None,
        description="all: every task's lines merged in time order, each labelled with its "
        "task; since and format=jsonl imply it",
    )


NextCursor = Annotated[
    str | None, Field(description="Pass as cursor for the next page; null on the last")
]
Total = Annotated[int, Field(description="How many items all pages hold together")]
AsOf = Annotated[
    dict[str, datetime],
    Field(description="When each cluster's part of the answer was read, from its cache or live"),
]


NAME = r"^[a-z][a-z_]{0,39}$"
CLUSTER_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
"""What the clusters file allows a cluster's name to be."""


class AuditQuery(ListQuery):
    """Filters of the audit log; each one given must match."""

    account_id: int | None = Field(
        None,
        ge=1,
        le=2**31 - 1,
        description="Only this account's entries. Here it filters, and does not choose the "
        "request's account: an administrator may name any account",
    )
    user: int | None = Field(None, ge=1, le=2**31 - 1, description="Only this user's writes")
    cluster: str | None = Field(None, pattern=CLUSTER_NAME, description="Only this cluster")
    resource: str | None = Field(
        None, pattern=NAME, description="Only this resource: app, job, workflow, ..."
    )
    action: str | None = Field(
        None, pattern=NAME, description="Only this action: create, update, delete, ..."
    )
    since: Rfc3339 | None = Field(
        None, description="Only entries at or after this time (RFC 3339, with its zone)"
    )
    until: Rfc3339 | None = Field(
        None, description="Only entries before this time (RFC 3339, with its zone)"
    )

    @field_validator("until")
    @classmethod
    def _after_since(
        cls, value: AwareDatetime | None, info: ValidationInfo
    ) -> AwareDatetime | None:
        since = info.data.get("since")
        if value is not None and since is not None and value < since:
            raise ValueError("until must not be before since")
        return value


class JobsQuery(ClusterListQuery):
    state: JobState | None = Field(None, description="Only jobs in this state")


class JobLogsQuery(Query):
    follow: bool = Field(
        False, description="Keep streaming until the job ends or the client leaves"
    )


class EventsQuery(Query):
    kind: list[EventKind] | None = Field(
        None, description="Only these kinds (comma-separated, or repeat the parameter)"
    )
    cluster: list[str] | None = Field(
        None, description="Only these clusters (comma-separated, or repeat the parameter)"
    )
    last_event_id: str | None = Field(
        None,
        max_length=64,
        description="As the Last-Event-ID header (which wins): resume after this event",
    )


class HealthBody(BaseModel):
    status: str


class ClusterList(BaseModel):
    clusters: list[ClusterStatus]


class ClusterCreateQuery(Query):
    check: bool = Field(
        True,
        description="Check the cluster before saving it: it answers, its version, the "
        "permissions Asgard needs (false: save it as given)",
    )


class ClusterEntryBody(BaseModel):
    """A cluster's entry: the fields of a ``[[clusters]]`` entry of the clusters file for
    its kind (``docs/configuration.rst``), secrets included (``token``, passwords): they
    are stored encrypted and never shown again."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=CLUSTER_NAME, description="The cluster's name, unique")
    kind: str = Field(
        pattern=r"^[a-z][a-z0-9_-]{0,39}$", description="docker, kubernetes, mesos..."
    )

    def entry(self) -> dict[str, Any]:
        return self.model_dump()


class ClusterPatchBody(BaseModel):
    """Fields of the cluster's entry to change; null puts one back to its default. A
    secret not given stays as it is."""

    model_config = ConfigDict(extra="allow")

    def patch(self) -> dict[str, Any]:
        return self.model_dump()


class ClusterEntryAnswer(BaseModel):
    cluster: ClusterEntry


class AgentHistory(BaseModel):
    history: list[UsageSample] = Field(description="Oldest first, within the window")
    interval_s: float = Field(description="How often Asgard samples (history_interval_s)")
    window_s: float = Field(description="How far back the history goes (history_window_s)")


class AgentList(BaseModel):
    agents: list[Agent]
    stats: UsageStats = Field(description="Usage summed over every agent that matched")
    errors: list[ClusterErrorInfo] = Field(description="One entry per cluster that failed")
    next_cursor: NextCursor
    total: Total
    as_of: AsOf


class AgentBody(BaseModel):
    agent: Agent


class AppList(BaseModel):
    apps: list[App]
    errors: list[ClusterErrorInfo]
    next_cursor: NextCursor
    total: Total
    as_of: AsOf


class AgentApps(BaseModel):
    apps: list[App]


class AppBody(BaseModel):
    app: App


class AppVersionList(BaseModel):
    versions: list[AppVersion] = Field(description="Newest first; the first is what runs")


class AppVersionBody(BaseModel):
    version: AppVersion


class RollbackBody(BaseModel):
    """The body of ``POST .../rollback``; ``{}`` goes back to the previous version."""

    model_config = ConfigDict(extra="forbid")

    version: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="An id from the app's versions; absent or null: the newest version whose "
        "spec differs from the one that runs",
    )


class StatsBody(BaseModel):
    stats: AppStats


class TaskList(BaseModel):
    tasks: list[Task]


class JobBody(BaseModel):
    job: Job


class JobList(BaseModel):
    jobs: list[Job]
    errors: list[ClusterErrorInfo]
    next_cursor: NextCursor
    total: Total
    as_of: AsOf


class ScheduledJobBody(BaseModel):
    scheduled_job: ScheduledJob


class ScheduledJobList(BaseModel):
    scheduled_jobs: list[ScheduledJob]
    errors: list[ClusterErrorInfo]
    next_cursor: NextCursor
    total: Total
    as_of: AsOf


class UserBody(BaseModel):
    user: User


class WorkflowBody(BaseModel):
    workflow: Workflow


class DeletionAccepted(BaseModel):
    """A DELETE taken, whose removal on the cluster is still going (the object is hidden
    from reads already, and goes when the cluster lets it)."""

    message: str


class WorkflowList(BaseModel):
    workflows: list[Workflow]
    errors: list[ClusterErrorInfo] = Field(
        default_factory=list, description="Always empty: workflows are read from Asgard"
    )
    next_cursor: NextCursor
    total: Total


class UserList(BaseModel):
    users: list[User]
    next_cursor: NextCursor
    total: Total


class AccountBody(BaseModel):
    account: Account


class AccountList(BaseModel):
    accounts: list[Account]
    next_cursor: NextCursor
    total: Total


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


class AuditList(BaseModel):
    entries: list[AuditEntry] = Field(description="Newest first, in the order they were written")
    next_cursor: NextCursor
    total: Total
