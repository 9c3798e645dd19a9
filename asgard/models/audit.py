"""The audit log's entries: who changed what, through the API or the dashboard, and how it went.

An entry names what was written, never what was written into it: no request body, no
environment value, key, password or input file, so reading the log hands out no secret.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from asgard.models.base import AsgardModel

__all__ = ["AuditEntry", "AuditOutcome", "outcome_of"]


class AuditOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    """The write was done (a 2xx, or the dashboard's redirect after a done form)."""
    REFUSED = "refused"
    """Asgard refused it: bad credentials, no permission, an invalid or conflicting request."""
    FAILED = "failed"
    """Asgard or a cluster failed while doing it (5xx): it may be partly done."""
    ABANDONED = "abandoned"
    """The client went away before the answer: it may or may not have been done."""


def outcome_of(status: int) -> AuditOutcome:
    """The outcome of an answer given; a client that left is ``ABANDONED`` whatever it was."""
    if status >= 500:
        return AuditOutcome.FAILED
    if status >= 400:
        return AuditOutcome.REFUSED
    return AuditOutcome.SUCCEEDED


class AuditEntry(AsgardModel):
    at: datetime = Field(description="When the answer was given")
    user: int | None = Field(description="The user's id; null when the credentials were bad")
    account: int | None = Field(
        description="The account acted in or on; null for what belongs to no account (users, "
        "API keys)"
    )
    cluster: str | None = Field(description="The cluster written to, where there is one")
    resource: str = Field(
        description="app, job, workflow, scheduled_job, user, account, membership, api_key "
        "or session (a dashboard login)"
    )
    id: str | None = Field(
        description="The id of what was written (a membership's is the user's id); null "
        "when a create failed before one was known"
    )
    action: str = Field(
        description="create, update, delete, restart, put, login, logout, ... (the "
        "dashboard's own: scale, enable, disable, switch_account)"
    )
    request_id: str = Field(description="The X-Request-Id of the request, to find it in the logs")
    status: int = Field(description="The HTTP status of the answer (499: the client left)")
    outcome: AuditOutcome
