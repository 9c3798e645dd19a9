"""Domain models: what Asgard talks about, independent of any cluster kind or of HTTP."""

from asgard.models.account import (
    Account,
    AccountCreate,
    AccountPatch,
    AccountWithRole,
    ApiKey,
    ApiKeyCreate,
    Member,
    Membership,
    NewApiKey,
    Role,
    User,
    UserCreate,
    UserPatch,
)
from asgard.models.agent import Agent, UsageSample
from asgard.models.app import App, AppInstances, AppPatch, AppRef, AppSpec, Port, ResourceLimits
from asgard.models.base import Resources, UsageStats
from asgard.models.cluster import (
    Capabilities,
    ClusterCheck,
    ClusterEntry,
    ClusterErrorInfo,
    ClusterStatus,
    StoredCluster,
)
from asgard.models.job import Job, JobSpec, JobStatus, JobTransition
from asgard.models.log_line import LogLine
from asgard.models.scheduled_job import Schedule, ScheduledJob, ScheduledJobSpec
from asgard.models.stats import AppStats, StatsWindow
from asgard.models.task import Task
from asgard.models.version import AppVersion
from asgard.models.workflow import (
    StageSpec,
    Workflow,
    WorkflowSpec,
    WorkflowStage,
    WorkflowVolume,
)

__all__ = [
    "Account",
    "AccountCreate",
    "AccountPatch",
    "AccountWithRole",
    "Agent",
    "ApiKey",
    "ApiKeyCreate",
    "App",
    "AppInstances",
    "AppPatch",
    "AppRef",
    "AppSpec",
    "AppStats",
    "AppVersion",
    "Capabilities",
    "ClusterCheck",
    "ClusterEntry",
    "ClusterErrorInfo",
    "ClusterStatus",
    "Job",
    "JobSpec",
    "JobStatus",
    "JobTransition",
    "LogLine",
    "Member",
    "Membership",
    "NewApiKey",
    "Port",
    "ResourceLimits",
    "Resources",
    "Role",
    "Schedule",
    "ScheduledJob",
    "ScheduledJobSpec",
    "StageSpec",
    "StatsWindow",
    "StoredCluster",
    "Task",
    "UsageSample",
    "UsageStats",
    "User",
    "UserCreate",
    "UserPatch",
    "Workflow",
    "WorkflowSpec",
    "WorkflowStage",
    "WorkflowVolume",
]
