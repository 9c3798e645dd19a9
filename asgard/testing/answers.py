"""The kit's checks that whatever a cluster answers is that cluster's error.

A kind's client meets endpoints that answer wrongly: a proxy's 404, a login wall's
HTML, JSON cut short, JSON of another API. The plugin contract asks every backend to
raise a ``ClusterError`` for such answers (``asgard.backends.answers`` has the
readers the built-in kinds use); these checks hold a kind to it. A harness opts in
with ``misbehaving(url)``: a cluster of its kind whose every endpoint is ``url``.
Harnesses without it (a kind that talks to no URL) do not get these checks: they are
not generated (the ``hook`` mark), rather than skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

import pytest
from aiohttp import web

from asgard.backends.contract import AgentsBackend, AppsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.models import Account
from asgard.testing.coverage import exercises
from asgard.testing.harness import Harness

__all__ = ["WRONG_ANSWERS", "test_a_wrong_answer_is_the_clusters_error_entry", "wrong_endpoint"]

WRONG_ANSWERS: Final[dict[str, tuple[int, str, bytes]]] = {
    "404": (404, "text/plain", b"404 page not found"),
    "html": (200, "text/html", b"<!doctype html><html><body>Sign in</body></html>"),
    "cut": (200, "application/json", b'{"items": [{"metadata": {"na'),
    "other": (200, "application/json", b'{"x": 1}'),
}
"""Status, content type and body of each wrong answer, whatever the path."""
ACCOUNT: Final = Account(id=990_001, name="answers", namespace="answers")


@asynccontextmanager
async def wrong_endpoint(how: str) -> AsyncIterator[str]:
    """An HTTP server on loopback answering every path as ``how`` says; its URL."""
    status, content_type, body = WRONG_ANSWERS[how]

    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", answer)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.hook("misbehaving")
@exercises(AgentsBackend.list_agents, AppsBackend.list_apps, marked=False)
@pytest.mark.parametrize("how", sorted(WRONG_ANSWERS))
async def test_a_wrong_answer_is_the_clusters_error_entry(harness: Harness, how: str) -> None:
    """Beside the harness's healthy cluster, one of its kind answering ``how``: listings
    carry the healthy cluster's items and one ``errors`` entry naming the other, and its
    status is down with a reason; nothing raises."""
    async with wrong_endpoint(how) as url, harness.misbehaving(url) as bad:
        healthy = harness.orchestrator.clusters[harness.cluster]
        fleet = Orchestrator([healthy, bad])
        for op in (AgentsBackend.list_agents, AppsBackend.list_apps):
            listing = await fleet.fan_out(ACCOUNT, None, op)
            assert [e.cluster for e in listing.errors] == [bad.name], listing.errors
            assert listing.errors[0].msg, "the entry says what was wrong"
            assert harness.cluster in listing.as_of, "the healthy cluster answered"
        status = await bad.status(live=True)
        assert status.status == "unreachable"
        assert status.error
