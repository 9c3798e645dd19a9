"""``/ui/events``: the newest events the account may see, from the hub's buffer."""

from __future__ import annotations

import asyncio
import html as markup
import re

import aiohttp

from asgard.events import Audience, Event, EventHub
from asgard.models import Role
from tests.conftest import StartAsgard
from tests.ui.ui_client import browser


async def test_the_events_page_lists_the_accounts_events_newest_first(
    start_asgard: StartAsgard,
) -> None:
    hub = EventHub()
    asgard = await start_asgard(hub=hub)
    team = await asgard.account("team")
    await asgard.account("other")
    session = await browser(await asgard.caller("v@example.com", roles={team.id: Role.VIEWER}))
    empty = await session.page("/ui/events")
    assert "No event yet" in empty
    assert 'sse-connect="/events?kind=agent,app,task,job,workflow,cluster&amp;after=' in empty

    hub.publish(
        Audience(cluster="c1", namespace="team"),
        [Event(kind="app", cluster="c1", id="web", change="added", object={"id": "web"})],
    )
    hub.publish(
        Audience(cluster="c1", namespace="team"),
        [Event(kind="job", cluster="c1", id="once-1", change="deleted", object=None)],
    )
    hub.publish(
        Audience(cluster="c1", namespace="other"),
        [Event(kind="app", cluster="c1", id="secret", change="added", object={})],
    )
    html = await session.page("/ui/events")
    assert html.index("once-1") < html.index("/ui/clusters/c1/apps/web"), "newest first"
    assert "secret" not in html, "another account's"
    assert '<div id="events" data-live>' in html
    only_jobs = await session.page("/ui/events?kind=job")
    assert "once-1" in only_jobs
    assert "/ui/clusters/c1/apps/web" not in only_jobs
    assert 'sse-connect="/events?kind=job,cluster&amp;after=' in only_jobs
    both = await session.page("/ui/events?kind=job&kind=app")
    assert "once-1" in both
    assert "/ui/clusters/c1/apps/web" in both
    elsewhere = await session.page("/ui/events?cluster=c2")
    assert "once-1" not in elsewhere


async def test_a_change_between_the_render_and_the_connect_still_reaches_the_page(
    start_asgard: StartAsgard,
) -> None:
    """The page's stream starts after the newest event the page was rendered with: a
    cluster going down after the render, before the browser connects, still refreshes it,
    by that event, or by a ``resync`` when what changed meanwhile cannot be told (nobody
    was listening to the account's clusters: their changes were not followed)."""
    hub = EventHub()
    asgard = await start_asgard(hub=hub)
    team = await asgard.account("team")
    session = await browser(await asgard.caller("v@example.com", roles={team.id: Role.VIEWER}))
    hub.publish(
        Audience(cluster="c1", namespace="team"),
        [Event(kind="app", cluster="c1", id="before", change="added", object={})],
    )
    page = await session.page("/ui/apps")
    found = re.search(r'sse-connect="([^"]+)"', page)
    assert found is not None
    url = markup.unescape(found.group(1))
    assert f"after={hub.last_id()}" in url

    hub.publish(
        Audience(cluster="c1", namespace=None),
        [Event(kind="cluster", cluster="c1", id="c1", change="modified", object={})],
    )
    response = await session.request("GET", url, timeout=aiohttp.ClientTimeout(total=10))
    try:
        assert response.status == 200
        said = b""
        async with asyncio.timeout(10):
            while b"event: cluster" not in said and b"event: resync" not in said:
                said += await response.content.readany()
    finally:
        response.close()
    assert b"before" not in said, "only what came after the render"
