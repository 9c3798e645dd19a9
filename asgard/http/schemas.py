"""The shapes of requests' query strings and of responses: envelopes around domain models."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from asgard.http.queries import (
    _RFC3339 as _RFC3339,
)
from asgard.http.queries import (
    CLUSTER_NAME as CLUSTER_NAME,
)
from asgard.http.queries import (
    NAME as NAME,
)
from asgard.http.queries import (
    AsOf as AsOf,
)
from asgard.http.queries import (
    AuditQuery as AuditQuery,
)
from asgard.http.queries import (
    ClusterListQuery as ClusterListQuery,
)
from asgard.http.queries import (
    ClustersQuery as ClustersQuery,
)
from asgard.http.queries import (
    EventsQuery as EventsQuery,
)
from asgard.http.queries import (
    JobLogsQuery as JobLogsQuery,
)
from asgard.http.queries import (
    JobsQuery as JobsQuery,
)
from asgard.http.queries import (
    ListQuery as ListQuery,
)
from asgard.http.queries import (
    LogsQuery as LogsQuery,
)
from asgard.http.queries import (
    NextCursor as NextCursor,
)
from asgard.http.queries import (
    Query as Query,
)
from asgard.http.queries import (
    Rfc3339 as Rfc3339,
)
from asgard.http.queries import (
    TaskLogsQuery as TaskLogsQuery,
)
from asgard.http.queries import (
    Total as Total,
)
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
