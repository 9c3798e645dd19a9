"""What an Asgard server said went wrong, as one exception type per kind of failure.

Every error answer of the API is ``{"errors": [{"msg", "field", "cluster"}]}``; the client
raises the type its status stands for, carrying the status and those details, so a caller
catches ``NotFound`` or ``Conflict`` rather than comparing numbers."""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

__all__ = [
    "ApiError",
    "AsgardClientError",
    "ClusterFailure",
    "ClusterTimeout",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "Invalid",
    "Malformed",
    "NotFound",
    "NotSupported",
    "ServerError",
    "TooLarge",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "UnexpectedAnswer",
    "error_for",
]


class ErrorItem(BaseModel):
    msg: str
    field: str | None = None
    cluster: str | None = None


class AsgardClientError(Exception):
    """Base of everything the client raises on purpose."""


class ConnectionFailed(AsgardClientError):
    """No answer at all: the server is not there, or the connection broke."""


class UnexpectedAnswer(AsgardClientError):
    """A success status with a body that is not what the API sends there: not JSON, or
    not the model the route answers with (another service at that URL, or a server of
    another version)."""


class ApiError(AsgardClientError):
    """The server answered with an error status."""

    status: int = 0

    def __init__(self, status: int, errors: list[ErrorItem], retry_after_s: int | None = None):
        self.status = status
        self.errors = errors
        self.retry_after_s = retry_after_s
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """Every detail on one line, each with the field or cluster it is about."""
        parts = []
        for item in self.errors or [ErrorItem(msg=f"HTTP {self.status}")]:
            where = ", ".join(
                f"{name} {value}"
                for name, value in (("field", item.field), ("cluster", item.cluster))
                if value
            )
            parts.append(f"{item.msg} ({where})" if where else item.msg)
        return "; ".join(parts)


class Malformed(ApiError):
    """400: the body or query could not be read."""


class Unauthorized(ApiError):
    """401: no key, or a key the server does not know."""


class Forbidden(ApiError):
    """403: outside the caller's accounts, or above its role."""


class NotFound(ApiError):
    """404."""


class Conflict(ApiError):
    """409: the id is taken, or the object is busy."""


class TooLarge(ApiError):
    """413: a body or an upload over the server's limit."""


class Invalid(ApiError):
    """422: the values were read but are not acceptable; ``errors`` name the fields."""


class TooManyRequests(ApiError):
    """429: too many failed attempts; ``retry_after_s`` says when to try again."""


class ServerError(ApiError):
    """500 (or any status without a type of its own)."""


class NotSupported(ApiError):
    """501: this kind of cluster cannot do this."""


class ClusterFailure(ApiError):
    """502: a cluster failed or could not be reached."""


class Unavailable(ApiError):
    """503: the server's database does not answer."""


class ClusterTimeout(ApiError):
    """504: a cluster did not answer in time."""


BY_STATUS: Final[dict[int, type[ApiError]]] = {
    400: Malformed,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: TooLarge,
    422: Invalid,
    429: TooManyRequests,
    501: NotSupported,
    502: ClusterFailure,
    503: Unavailable,
    504: ClusterTimeout,
}


def error_for(status: int, body: Any, retry_after: str | None = None) -> ApiError:
    """The exception for an error answer; a body that is not the API's envelope (a proxy's
    page) still gives the status."""
    items: list[ErrorItem] = []
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        for raw in body["errors"]:
            if isinstance(raw, dict) and isinstance(raw.get("msg"), str):
                items.append(ErrorItem.model_validate(raw))
    kind = BY_STATUS.get(status, ServerError)
    retry = int(retry_after) if retry_after and retry_after.isdigit() else None
    return kind(status, items, retry_after_s=retry)
