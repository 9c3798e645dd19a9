"""What every kind's client and converters share, written once.

Every cluster Asgard talks to answers HTTP, so every kind turns a status into the
same errors: a missing object is ``NotFound``, a clash ``Conflict``, a refused value
``InvalidValue``, refused credentials ``ClusterUnauthorized`` and anything else a
``ClusterFailure`` naming the cluster. A kind maps what is particular to it (Docker's
"port is already allocated", Kubernetes' 410 Gone) before falling back on these.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NewType
from urllib.parse import quote

import aiohttp

from asgard.errors import (
    AsgardError,
    ClusterError,
    ClusterFailure,
    ClusterTimeout,
    ClusterUnauthorized,
    ClusterUnreachable,
    Conflict,
    InvalidValue,
    NotFound,
)

__all__ = [
    "ApiPath",
    "Json",
    "Segments",
    "api_path",
    "app_taken",
    "parse_time",
    "schedule_taken",
    "status_error",
    "transport_error",
]

Json = dict[str, Any]
"""A JSON object as a cluster sends it, or as Asgard builds one to send."""


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 time as clusters write it, in UTC. Docker's carry nanoseconds (more
    digits than Python reads) and use year 1 for 'never'."""
    if not value or value.startswith("0001-01-01"):
        return None
    text = value.replace("Z", "+00:00")
    if "." in text:
        head, rest = text.split(".", 1)
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    parsed = datetime.fromisoformat(text)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def status_error(
    status: int, what: str, message: str, *, cluster: str, server: str = "the cluster"
) -> AsgardError:
    """The error an answer of 400 and above stands for; ``what`` names the call and
    ``server`` what answered it ("the API server", "the Docker Engine")."""
    text = f"{what}: {message}" if message else what
    if status == 404:
        return NotFound(text, cluster=cluster)
    if status == 409:
        return Conflict(text, cluster=cluster)
    if status in (400, 422):
        return InvalidValue(text, cluster=cluster)
    if status in (401, 403):
        return ClusterUnauthorized(cluster, f"{server} refused Asgard's credentials: {text}")
    return ClusterFailure(cluster, f"{what}: {server} answered {status}: {message}".rstrip(": "))


def transport_error(
    exc: BaseException, *, cluster: str, server: str, timeout_s: float
) -> ClusterError | None:
    """The error for a call that got no answer at all (timed out, refused, reset); None
    for an exception that is not about the transport."""
    if isinstance(exc, TimeoutError):
        return ClusterTimeout(
            cluster, f"{server} of cluster {cluster} did not answer in {timeout_s:g} s"
        )
    if isinstance(exc, aiohttp.ClientError | OSError):
        return ClusterUnreachable(cluster, f"{server} of cluster {cluster} is unreachable: {exc}")
    return None


def app_taken(app_id: str, cluster: str) -> Conflict:
    """Creating an app whose id the account already has on this cluster."""
    return Conflict(f"app '{app_id}' already exists", field="id", cluster=cluster)


def schedule_taken(name: str, cluster: str) -> Conflict:
    """Creating a scheduled job whose name the account already has on this cluster."""
    return Conflict(f"scheduled job '{name}' already exists", field="name", cluster=cluster)


ApiPath = NewType("ApiPath", str)
"""A path of a cluster's API as ``api_path`` built it: each segment quoted, none climbing.
The clients take nothing else, so an id cannot reach a cluster as an f-string."""

Segments = tuple[str, ...]
"""A path of a cluster's API as its segments (``("api", "v1", "nodes", name)``), for a
client to join with ``api_path``: no id is ever part of an f-string's path."""

_CLIMBING = frozenset({"", ".", ".."})


def api_path(*segments: str, cluster: str) -> ApiPath:
    """``/a/b/c`` from the segments ``a``, ``b``, ``c``, each quoted whole (``/``, ``%``,
    ``?``, ``#`` and control characters become ``%XX``), so that a name is one segment
    whatever it holds. An empty, ``.`` or ``..`` segment would name another object than
    the one asked for (a server or a client normalises it away): no such object, and
    nothing is sent."""
    for segment in segments:
        if segment in _CLIMBING:
            shown = "/".join(segments)[:200]
            raise NotFound(f"no such object: {shown!r}", cluster=cluster)
    return ApiPath("/" + "/".join(quote(segment, safe="") for segment in segments))
