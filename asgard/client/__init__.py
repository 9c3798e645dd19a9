"""A typed async client of Asgard's HTTP API.

    async with AsgardClient("http://127.0.0.1:4898", key) as asgard:
        app = await asgard.apps.create({"cluster": "local", "id": "web", "image": "nginx"})
        async for job in asgard.jobs.all(state="running"):
            ...
        async for event in asgard.events.stream(kind=["app"]):
            ...

Answers are the API's own pydantic models; failures are one exception per kind.
"""

from asgard.client.audit import AuditFilter
from asgard.client.client import AsgardClient
from asgard.client.errors import (
    ApiError,
    AsgardClientError,
    ClusterFailure,
    ClusterTimeout,
    Conflict,
    ConnectionFailed,
    Forbidden,
    Invalid,
    Malformed,
    NotFound,
    NotSupported,
    ServerError,
    TooLarge,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    UnexpectedAnswer,
)
from asgard.client.events import EventStream
from asgard.client.jobs import Progress
from asgard.client.models import AppVersion, LogLine, Notice

__all__ = [
    "ApiError",
    "AppVersion",
    "AsgardClient",
    "AsgardClientError",
    "AuditFilter",
    "ClusterFailure",
    "ClusterTimeout",
    "Conflict",
    "ConnectionFailed",
    "EventStream",
    "Forbidden",
    "Invalid",
    "LogLine",
    "Malformed",
    "NotFound",
    "NotSupported",
    "Notice",
    "Progress",
    "ServerError",
    "TooLarge",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "UnexpectedAnswer",
]
