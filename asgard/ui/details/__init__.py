"""The dashboard's detail pages: one agent, app, job, workflow or scheduled job.

Each page module adds its routes to one table, which ``setup_ui`` mounts as ``routes``.
Pages call the services, as the JSON routes do, and render on the server; the page's
script only refreshes the live regions, tails logs and draws graphs.
"""

from __future__ import annotations

from asgard.ui.details import agent, app, job, scheduled, workflow
from asgard.ui.details.table import routes

__all__ = ["agent", "app", "job", "routes", "scheduled", "workflow"]
