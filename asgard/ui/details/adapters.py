"""Service methods the dashboard uses before every branch has them.

Agent usage history and last-known (``stale``) listings arrive in the services
separately from the dashboard; until a running Asgard has them, pages ask through these
two functions and get an empty history and today's listings. Once they exist everywhere,
the functions become direct calls.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from asgard.http.state import Services
from asgard.services.principal import Principal

__all__ = ["agent_history", "stale_listing"]


def stale_listing(method: Callable[..., Any]) -> dict[str, bool]:
    """``{"stale": True}`` for a listing method that takes it, else nothing."""
    return {"stale": True} if "stale" in inspect.signature(method).parameters else {}


async def agent_history(
    svc: Services, principal: Principal, cluster: str, agent_id: str
) -> list[dict[str, Any]]:
    """The agent's samples, oldest first, as the graph reads them: ``at``, and ``used`` and
    ``total`` with ``cpus`` (cores) and ``mem`` (MiB)."""
    history = getattr(svc.agents, "history", None)
    if history is None:
        return []
    samples = await history(principal, cluster, agent_id)
    return [
        {
            "at": sample.at.isoformat(),
            "used": {"cpus": sample.used_resources.cpus, "mem": sample.used_resources.mem},
            "total": {"cpus": sample.resources.cpus, "mem": sample.resources.mem},
        }
        for sample in samples
    ]
