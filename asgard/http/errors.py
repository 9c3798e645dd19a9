"""The one place where failures become HTTP statuses, always in the same envelope.

``{"errors": [{"msg": ..., "field": ..., "cluster": ...}]}``, with ``field`` and
``cluster`` only where they apply. An unexpected exception is logged with its
traceback and answered with a plain 500 that names the request id, never the
traceback.
"""

from __future__ import annotations

import json

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel

from asgard import errors as e
from asgard.http.state import REQUEST_ID

log = structlog.get_logger(__name__)

STATUS: dict[type[e.AsgardError], int] = {
    e.MalformedRequest: 400,
    e.Unauthenticated: 401,
    e.TooManyAttempts: 429,
    e.Forbidden: 403,
    e.NotFound: 404,
    e.Conflict: 409,
    e.PayloadTooLarge: 413,
    e.InvalidValue: 422,
    e.NotSupported: 501,
    e.ClusterUnreachable: 502,
    e.ClusterUnauthorized: 502,
    e.ClusterFailure: 502,
    e.AllClustersFailed: 502,
    e.ClusterTimeout: 504,
    e.DatabaseUnavailable: 503,
}


def status_of(exc: e.AsgardError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


class ErrorItem(BaseModel):
    msg: str
    field: str | None = None
    cluster: str | None = None


class ErrorBody(BaseModel):
    """What every error answer looks like."""

    errors: list[ErrorItem]


def error_response(
    status: int, details: list[e.ErrorDetail], headers: dict[str, str] | None = None
) -> web.Response:
    body = {
        "errors": [
            {
                k: v
                for k, v in {"msg": d.msg, "field": d.field, "cluster": d.cluster}.items()
                if v is not None
            }
            for d in details
        ]
    }
    return web.Response(
        text=json.dumps(body), status=status, content_type="application/json", headers=headers
    )


def from_asgard_error(exc: e.AsgardError) -> web.Response:
    status = status_of(exc)
    headers = {"WWW-Authenticate": 'Token realm="asgard", Bearer'} if status == 401 else None
    if isinstance(exc, e.TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return error_response(status, exc.details, headers)


HTTP_MESSAGES = {
    404: "no such route",
    405: "method not allowed on this route",
    413: "the body is over the size limit",
}


def from_http_exception(exc: web.HTTPException) -> web.Response:
    """aiohttp's own refusals (no route, wrong method, body too big) in our envelope."""
    message = HTTP_MESSAGES.get(exc.status, exc.reason)
    response = error_response(exc.status, [e.ErrorDetail(msg=message)])
    if exc.status == 405 and "Allow" in exc.headers:
        response.headers["Allow"] = exc.headers["Allow"]
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except e.DatabaseUnavailable as exc:
        # One line per failed request, no traceback: during an outage every request fails
        # the same way, and the cause is the database, not this code.
        log.warning("the database does not answer", reason=exc.reason)
        return from_asgard_error(exc)
    except e.AsgardError as exc:
        return from_asgard_error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return from_http_exception(exc)
    except ConnectionResetError:
        raise
    except Exception:
        log.exception("unhandled error")
        request_id = request.get(REQUEST_ID, "unknown")
        return error_response(
            500,
            [e.ErrorDetail(msg=f"internal error; quote request id {request_id} when reporting it")],
        )
