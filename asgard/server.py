"""The composition root: Asgard as it is served, the API with the dashboard mounted.

It is the one module that knows both ``asgard.http`` and ``asgard.ui``: the dashboard
depends on HTTP's helpers, and HTTP is handed the dashboard here rather than importing
it, so imports run one way.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from asgard.backends.orchestrator import Orchestrator
from asgard.events import EventHub
from asgard.http.app import build_app
from asgard.services.bootstrap import Bootstrapped
from asgard.settings import Settings
from asgard.ui import setup_ui

__all__ = ["create_app"]


def create_app(
    settings: Settings,
    *,
    orchestrator: Orchestrator | None = None,
    hub: EventHub | None = None,
    announce: Callable[[Bootstrapped], None] | None = None,
) -> web.Application:
    """The API and the dashboard (``asgard.http.app.build_app`` says what the arguments
    do)."""
    return build_app(
        settings, mounts=(setup_ui,), orchestrator=orchestrator, hub=hub, announce=announce
    )
