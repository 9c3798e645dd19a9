"""Health, metrics and the API's own description: no credentials needed."""

from __future__ import annotations

import structlog
from aiohttp import web

from asgard.errors import ErrorDetail
from asgard.http.errors import error_response
from asgard.http.lifecycle import RUNNING
from asgard.http.metrics import require_metrics_token
from asgard.http.openapi import OPENAPI
from asgard.http.routing import RouteTable, json_response
from asgard.http.schemas import HealthBody
from asgard.http.state import METRICS, services

routes = RouteTable("system")
log = structlog.get_logger(__name__)


@routes.get(
    "/health",
    summary="Whether the service and its database answer",
    responses={200: HealthBody, 503: None},
    auth="public",
)
async def health(request: web.Request) -> web.Response:
    """200 while the service and its database answer; 503 with the reason otherwise."""
    reason = await services(request).health.database_trouble()
    if reason is not None:
        log.warning("health check failed", error=reason)
        return error_response(503, [ErrorDetail(msg="the database does not answer")])
    return json_response(HealthBody(status="ok"))


@routes.get(
    "/ready",
    summary="Whether this process should be sent requests: started, and its database answers",
    responses={200: HealthBody, 503: None},
    auth="public",
)
async def ready(request: web.Request) -> web.Response:
    """200 once every subsystem started (the database migrated, the clusters file loaded,
    the background work running) and while the database answers; 503 while starting, once
    stopping (so a load balancer takes it out before it goes), or without a database. A
    cluster that is down does not make Asgard unready: that is data in every answer."""
    if not request.app[RUNNING].ready:
        return error_response(503, [ErrorDetail(msg="this process is starting or stopping")])
    reason = await services(request).health.database_trouble()
    if reason is not None:
        log.warning("readiness check failed", error=reason)
        return error_response(503, [ErrorDetail(msg="the database does not answer")])
    return json_response(HealthBody(status="ready"))


@routes.get(
    "/metrics",
    summary="Prometheus metrics",
    responses={200: "prometheus", 401: None},
    auth="public",
)
async def metrics(request: web.Request) -> web.Response:
    """Requests by route, method and status, and their latency, then the fleet's state
    (every cluster's health, feed, calls and cache; each account's apps and jobs per
    cluster: ``docs/metrics.rst``), in Prometheus text format, read from memory: a scrape
    asks no cluster anything. With ``ASGARD_METRICS_TOKEN`` set, only for
    ``Authorization: Bearer <that token>`` (else 401); without it, for anyone who can
    reach the port."""
    token = request.app[RUNNING].settings.metrics_token
    require_metrics_token(request.headers.get("Authorization"), token)
    fleet = await services(request).fleet_state.snapshot()
    response = web.Response(body=request.app[METRICS].render(fleet))
    response.content_type = "text/plain"
    response.charset = "utf-8"
    response.headers["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
    return response


@routes.get(
    "/openapi.json",
    summary="The OpenAPI 3 document of this API",
    responses={200: None},
    auth="public",
)
async def openapi(request: web.Request) -> web.Response:
    """Generated from the routes and models this service runs, so it cannot drift from them."""
    return web.json_response(request.app[OPENAPI])
