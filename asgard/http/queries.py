"""The shapes of requests' query strings: what each route reads from its URL, checked once."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

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
    after: str | None = Field(
        None,
        max_length=64,
        description="The id of the newest event when a page was rendered (the dashboard's "
        "pages give it): the events after it are sent first. Unlike last_event_id, a "
        "resync is asked only when events came after it",
    )
