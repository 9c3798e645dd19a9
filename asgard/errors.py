"""One error type per failure kind.

Everything below ``asgard.http`` raises these; ``asgard.http.errors`` maps each
type to exactly one HTTP status. Nothing outside that module knows about status
codes, so a backend or a service never decides how a failure is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from asgard.redact import redact

ClusterErrorKind = Literal["unreachable", "timeout", "unauthorized", "error"]


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of the ``errors`` envelope; ``field`` and ``cluster`` only where they apply."""

    msg: str
    field: str | None = None
    cluster: str | None = None


class AsgardError(Exception):
    """Base of every failure Asgard reports to a client.

    A message about a cluster (``cluster`` given, or a detail naming one) may quote what
    the cluster's client said, URLs and headers included: it is redacted here, once, so
    that neither a tenant nor a log line ever sees the credentials of a cluster entry.
    """

    def __init__(
        self,
        msg: str,
        *,
        field: str | None = None,
        cluster: str | None = None,
        details: list[ErrorDetail] | None = None,
    ) -> None:
        if cluster is not None:
            msg = redact(msg)
        super().__init__(msg)
        self.msg = msg
        self.details = [
            replace(d, msg=redact(d.msg)) if d.cluster is not None else d
            for d in details or [ErrorDetail(msg=msg, field=field, cluster=cluster)]
        ]


class MalformedRequest(AsgardError):
    """The body or a parameter cannot even be parsed (bad JSON, bad multipart)."""


class Unauthenticated(AsgardError):
    """No credentials, or credentials that match nobody."""


class TooManyAttempts(AsgardError):
    """Bad credentials came from one address too often: it must wait ``retry_after_s``."""

    def __init__(self, msg: str, *, retry_after_s: int) -> None:
        super().__init__(msg)
        self.retry_after_s = retry_after_s


class Forbidden(AsgardError):
    """A known user acting outside its accounts or above its role."""


class NotFound(AsgardError):
    """The thing asked for does not exist, or is not visible to this account."""


class Conflict(AsgardError):
    """The request clashes with what exists (a taken name, a stale version)."""


class PayloadTooLarge(AsgardError):
    """The body is over the configured limit."""


class InvalidValue(AsgardError):
    """The request parses but a value is wrong; ``details`` names the fields."""


class DatabaseUnavailable(AsgardError):
    """The database cannot be reached (stopped, restarting, out of connections, a locked
    file): nothing is wrong with the request, so it may simply be sent again. ``reason``
    is the driver's own account, for the logs only: it names hosts and ports a client has
    no business seeing."""

    MESSAGE = "the database does not answer; try again shortly"

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGE)
        self.reason = reason


class NotSupported(AsgardError):
    """This kind of cluster cannot do this operation."""

    def __init__(self, kind: str, operation: str, *, cluster: str | None = None) -> None:
        super().__init__(f"{operation} is not supported on {kind} clusters", cluster=cluster)
        self.kind = kind
        self.operation = operation


class ClusterError(AsgardError):
    """A cluster failed to answer properly. ``kind`` is what the fan-out reports."""

    kind: ClusterErrorKind = "error"

    def __init__(self, cluster: str, msg: str) -> None:
        super().__init__(msg, cluster=cluster)
        self.cluster = cluster


class ClusterUnreachable(ClusterError):
    kind: ClusterErrorKind = "unreachable"


class ClusterTimeout(ClusterError):
    kind: ClusterErrorKind = "timeout"


class ClusterUnauthorized(ClusterError):
    kind: ClusterErrorKind = "unauthorized"


class ClusterFailure(ClusterError):
    """The cluster answered, but with an error we cannot attribute to the request."""

    kind: ClusterErrorKind = "error"


class UnusableAnswer(ClusterFailure):
    """The cluster answered, but not with anything Asgard can use: a status the call
    cannot have (a 404 on a listing or a probe: the endpoint is wrong, not an object
    missing), HTML where JSON was due, JSON cut short or of another shape, a body over
    the cap. Never the request's fault: that cluster's error, like any other failure."""


class AllClustersFailed(AsgardError):
    """A multi-cluster read where no cluster answered: nothing useful to return."""

    def __init__(self, failures: list[ClusterError]) -> None:
        super().__init__(
            "no cluster answered",
            details=[ErrorDetail(msg=f.msg, cluster=f.cluster) for f in failures],
        )
        self.failures = failures
