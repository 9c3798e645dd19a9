"""The aiohttp application factory: the API, and whatever else is mounted on it.

The API knows nothing of the dashboard: the dashboard is given to ``build_app`` as one of
its ``mounts`` by the composition root (``asgard.server``), so ``asgard.http`` never
imports ``asgard.ui`` and the dashboard may use HTTP's helpers without a cycle.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from asgard.backends.orchestrator import Orchestrator
from asgard.events import EventHub
from asgard.http.audit import audit_trail
from asgard.http.errors import error_middleware
from asgard.http.lifecycle import RUNNING, SUBSYSTEMS, Running, stopping
from asgard.http.metrics import Metrics
from asgard.http.middlewares import add_request_id, authenticate, request_context
from asgard.http.openapi import OPENAPI, build_openapi
from asgard.http.routes import (
    accounts,
    agents,
    apps,
    audit,
    clusters,
    events,
    jobs,
    scheduled_jobs,
    system,
    users,
    workflows,
)
from asgard.http.routing import Operation, bind
from asgard.http.security_headers import install_security_headers
from asgard.http.serving import IN_FLIGHT, InFlight, count_in_flight
from asgard.http.state import METRICS
from asgard.loop_watch import watch_loop
from asgard.services.bootstrap import Bootstrapped
from asgard.settings import Settings

ROUTE_MODULES = (
    system,
    clusters,
    agents,
    apps,
    jobs,
    workflows,
    scheduled_jobs,
    events,
    users,
    accounts,
    audit,
)


Mount = Callable[[web.Application], None]
"""Adds routes, middlewares and hooks of its own to the application (the dashboard)."""


def operations() -> list[Operation]:
    return [op for module in ROUTE_MODULES for op in module.routes.operations]


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of ``operations()``, made once per process: it comes from the
    route modules alone, so every app a process builds (the tests build hundreds) has the
    same, and pydantic takes about 0.3 s of CPU to make its schemas. Never changed after."""
    return build_openapi(operations())


def build_app(
    settings: Settings,
    *,
    mounts: Sequence[Mount] = (),
    orchestrator: Orchestrator | None = None,
    hub: EventHub | None = None,
    announce: Callable[[Bootstrapped], None] | None = None,
) -> web.Application:
    """An Asgard application: the API, and what each of ``mounts`` adds, in order, after
    the API's routes and before the headers every answer gets (so a mount's own say on
    caching stands). Without ``orchestrator``, the clusters come from settings (with
    their caches, feeding ``/events``); an orchestrator given is used as it is, and
    ``hub`` should be the one its caches were enabled with.

    On start it migrates the database, and on an empty database creates the first
    administrator; ``announce`` is given the new key (the CLI prints it, once).
    """
    app = web.Application(
        middlewares=[count_in_flight, request_context, audit_trail, error_middleware, authenticate],
        # What aiohttp reads whole (dashboard forms); uploads and JSON bodies are streamed
        # with their own limits (``read_body``, ``asgard.spooling``).
        client_max_size=settings.max_form_bytes,
    )
    app[METRICS] = Metrics()

    def body_limit(_request: web.Request) -> int:
        return settings.max_body_bytes

    ops = operations()
    for op in ops:
        app.router.add_route(op.method, op.path, bind(op, body_limit))
    app[OPENAPI] = openapi_document()
    for mount in mounts:
        mount(app)
    app.on_response_prepare.append(add_request_id)
    install_security_headers(app, trust_proxy=settings.trust_proxy)

    app[IN_FLIGHT] = InFlight()
    app[RUNNING] = Running(settings, hub or EventHub(), orchestrator, announce)
    app.cleanup_ctx.extend(SUBSYSTEMS)
    app.cleanup_ctx.append(watch_loop(settings.loop_lag_warn_s))
    app.on_shutdown.append(stopping)
    return app
