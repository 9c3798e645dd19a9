"""The fleet page's registered clusters, over HTTP as a browser without JavaScript sends
its forms: an administrator registers and removes a cluster there (the session's CSRF
token required); the page of anyone else shows no such part, and their forms are 403."""

from __future__ import annotations

import re

from aiohttp import ClientResponse
from sqlalchemy import text

from asgard.backends.orchestrator import Orchestrator
from asgard.models import Role
from tests.conftest import StartAsgard
from tests.support.static_backend import static_cluster
from tests.ui.ui_client import Browser, browser

AUDITED = "SELECT action, resource_id, status FROM audit_log WHERE resource = 'cluster' ORDER BY id"
SETTINGS = 'agents = [{id = "b1"}]\ntimeout_s = 2\n'


async def post(who: Browser, path: str, csrf: str | None, **fields: str) -> ClientResponse:
    form = {**fields, **({"csrf_token": csrf} if csrf is not None else {})}
    return await who.request("POST", path, data=form)


async def test_an_administrator_registers_and_removes_a_cluster_on_the_fleet_page(
    start_asgard: StartAsgard, db_url: str
) -> None:
    lab = Orchestrator([await static_cluster("lab", [{"id": "l1"}])])
    asgard = await start_asgard(lab, db_url=db_url)
    account = await asgard.account("dev")
    root = await browser(
        await asgard.caller("root@example.com", admin=True, roles={account.id: Role.VIEWER})
    )
    page = await root.page("/ui/")
    assert "Registered clusters" in page
    assert 'data-registered="' not in page
    csrf = await root.csrf()

    added = await post(root, "/ui/clusters", csrf, name="b", kind="static", settings=SETTINGS)
    assert added.status == 303, await added.text()
    assert asgard.orchestrator.cluster_names() == ["b", "lab"]
    page = await root.page("/ui/")
    assert 'data-registered="b"' in page
    assert 'data-registered="lab"' not in page  # the file's: not removable here
    assert re.search(r'id="cluster-b"', page), "b is a row of the fleet table too"

    refused = await post(root, "/ui/clusters", csrf, name="c", kind="nomad")
    assert refused.status == 422
    assert "nomad" in await refused.text()

    assert (await post(root, "/ui/clusters/b/remove", None)).status == 403  # no CSRF token
    assert asgard.orchestrator.cluster_names() == ["b", "lab"]
    removed = await post(root, "/ui/clusters/b/remove", csrf)
    assert removed.status == 303
    assert asgard.orchestrator.cluster_names() == ["lab"]
    await asgard.services.audit.writer.settled(5)
    async with asgard.db.session() as session:
        rows = (await session.execute(text(AUDITED))).all()
    assert [tuple(r) for r in rows] == [
        ("create", "b", 303),
        ("create", "c", 422),
        ("delete", "b", 403),
        ("delete", "b", 303),
    ]


async def test_others_see_no_registry_and_cannot_post_to_it(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard(Orchestrator([await static_cluster("lab", [{"id": "l1"}])]))
    account = await asgard.account("dev")
    operator = await browser(await asgard.caller("op@example.com", roles={account.id: Role.ADMIN}))
    page = await operator.page("/ui/")
    assert "Registered clusters" not in page
    csrf = await operator.csrf()
    answer = await post(operator, "/ui/clusters", csrf, name="b", kind="static")
    assert answer.status == 403
    assert asgard.orchestrator.cluster_names() == ["lab"]
    assert (await post(operator, "/ui/clusters/lab/remove", csrf)).status == 403
