"""The dashboard's writes over HTTP, as a browser without JavaScript sends them: a form
POST with the session cookie and its CSRF token, answered by a 303 back with a flash.

Each action works for an operator and changes what the API then shows; a viewer, or a
form without the session's CSRF token, gets a 403 page and nothing changes; a value the
service refuses, or a cluster that does not answer, is a page with the reason.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientResponse

from asgard.http.sessions import COOKIE
from asgard.models import Role
from tests.conftest import StartAsgard, running_mesos
from tests.support.dockerd import TEST_IMAGE
from tests.ui.details_site import Site, deployed, site, text_of, until
from tests.ui.ui_client import Browser, browser

__all__ = ["site"]

APP = "/ui/clusters/local/apps/web"
LONG = ["sh", "-c", "sleep 3600"]


async def post(who: Browser, path: str, csrf: str | None, **fields: str) -> ClientResponse:
    form = {**fields, **({"csrf_token": csrf} if csrf is not None else {})}
    return await who.request("POST", path, data=form)


async def flash_after(who: Browser, response: ClientResponse) -> str:
    """The words of the page the 303 leads to, read with the flash cookie it set."""
    assert response.status == 303, await response.text()
    flash = response.cookies["asgard_flash"].value
    page = await who.request(
        "GET",
        response.headers["Location"],
        headers={"Cookie": f"{COOKIE}={who.token}; asgard_flash={flash}"},
    )
    assert page.status == 200
    assert page.cookies["asgard_flash"].value == "", "a flash is shown once"
    return text_of(await page.text())


async def running_job(site: Site) -> str:
    spec = {"cluster": "local", "name": "long", "image": TEST_IMAGE, "command": LONG}
    job_id: str = (await site.operator.json("POST", "/jobs", 201, json=spec))["job"]["id"]

    async def running() -> bool:
        job = (await site.operator.json("GET", f"/clusters/local/jobs/{job_id}"))["job"]
        return bool(job["status"]["state"] == "running")

    await until("the job runs", running)
    return job_id


async def running_workflow(site: Site) -> str:
    stage = {"name": "wait", "image": TEST_IMAGE, "command": LONG}
    spec = {"cluster": "local", "name": "slow", "stages": [stage]}
    flow_id: str = (await site.operator.json("POST", "/workflows", 201, json=spec))["workflow"][
        "id"
    ]

    async def running() -> bool:
        flow = await site.operator.json("GET", f"/clusters/local/workflows/{flow_id}")
        stage = flow["workflow"]["stages"][0]
        return bool(stage["state"] == "running" and stage["job_id"])

    # Running, as the name says: deleting one whose stage is being started is another
    # case (see the hand-over note: it can answer 409 while the stage's volume is in use).
    await until("the workflow's stage runs", running)
    return flow_id


async def scheduled(site: Site) -> dict[str, Any]:
    spec = {
        "cluster": "local",
        "name": "nightly",
        "image": TEST_IMAGE,
        "command": ["sh", "-c", "echo report"],
        "schedule": {"value": "0 3 * * *"},
    }
    found: dict[str, Any] = await site.operator.json("POST", "/scheduled-jobs", 201, json=spec)
    return found


async def test_an_operator_scales_restarts_and_deletes_an_app(site: Site) -> None:
    await deployed(site)
    csrf = await site.ops.csrf()
    scaled = await post(site.ops, f"{APP}/scale", csrf, instances="2")
    assert scaled.headers["Location"] == APP
    assert "App web is scaled to 2 instances." in await flash_after(site.ops, scaled)
    app = (await site.operator.json("GET", "/clusters/local/apps/web"))["app"]
    assert app["instances"]["desired"] == 2

    restarted = await post(site.ops, f"{APP}/restart", csrf)
    assert "App web is restarting" in await flash_after(site.ops, restarted)

    deleted = await post(site.ops, f"{APP}/delete", csrf)
    assert deleted.headers["Location"] == "/ui/apps"
    await site.operator.json("GET", "/clusters/local/apps/web", 404)


async def test_an_operator_cancels_a_job_and_a_workflow(site: Site) -> None:
    job_id = await running_job(site)
    flow_id = await running_workflow(site)
    csrf = await site.ops.csrf()
    cancelled = await post(site.ops, f"/ui/clusters/local/jobs/{job_id}/delete", csrf)
    assert cancelled.status == 303
    assert cancelled.headers["Location"] == "/ui/jobs"
    await site.operator.json("GET", f"/clusters/local/jobs/{job_id}", 404)

    stopped = await post(site.ops, f"/ui/clusters/local/workflows/{flow_id}/delete", csrf)
    assert stopped.status == 303
    assert stopped.headers["Location"] == "/ui/workflows"
    await site.operator.json("GET", f"/clusters/local/workflows/{flow_id}", 404)


async def test_an_operator_disables_and_enables_a_scheduled_job(site: Site) -> None:
    await scheduled(site)
    page = "/ui/clusters/local/scheduled-jobs/nightly"
    api = "/clusters/local/scheduled-jobs/nightly"
    csrf = await site.ops.csrf()
    assert 'action="/ui/clusters/local/scheduled-jobs/nightly/disable"' in await site.ops.page(page)
    disabled = await post(site.ops, f"{page}/disable", csrf)
    assert "Scheduled job nightly is disabled." in await flash_after(site.ops, disabled)
    got = (await site.operator.json("GET", api))["scheduled_job"]
    assert got["enabled"] is False
    assert got["next_run_at"] is None

    assert 'action="/ui/clusters/local/scheduled-jobs/nightly/enable"' in await site.ops.page(page)
    enabled = await post(site.ops, f"{page}/enable", csrf)
    assert "Scheduled job nightly is enabled." in await flash_after(site.ops, enabled)
    got = (await site.operator.json("GET", api))["scheduled_job"]
    assert got["enabled"] is True
    assert got["next_run_at"] is not None


async def test_a_viewer_sees_no_action_and_a_forged_one_is_403(site: Site) -> None:
    await deployed(site)
    job_id = await running_job(site)
    flow_id = await running_workflow(site)
    await scheduled(site)
    pages = {
        APP: ("scale", "restart", "delete"),
        f"/ui/clusters/local/jobs/{job_id}": ("delete",),
        f"/ui/clusters/local/workflows/{flow_id}": ("delete",),
        "/ui/clusters/local/scheduled-jobs/nightly": ("disable",),
    }
    csrf = await site.view.csrf()
    for page, verbs in pages.items():
        shown = await site.view.page(page)
        assert 'method="post"' not in shown.split('<main id="main"')[1], f"{page} offers a write"
        assert f'action="{page}/{verbs[0]}"' in await site.ops.page(page), "the operator's"
        for verb in verbs:
            refused = await post(site.view, f"{page}/{verb}", csrf, instances="3")
            assert refused.status == 403, f"{verb} on {page}"
            assert refused.content_type == "text/html"
            assert "'operator' is needed" in text_of(await refused.text())
    app = (await site.operator.json("GET", "/clusters/local/apps/web"))["app"]
    assert app["instances"]["desired"] == 1
    await site.operator.json("GET", f"/clusters/local/jobs/{job_id}")
    await site.operator.json("GET", f"/clusters/local/workflows/{flow_id}")
    schedule = await site.operator.json("GET", "/clusters/local/scheduled-jobs/nightly")
    assert schedule["scheduled_job"]["enabled"] is True


async def test_a_write_without_the_sessions_csrf_token_is_403(site: Site) -> None:
    await deployed(site)
    job_id = await running_job(site)
    viewer_token = await site.view.csrf()
    for token in (None, "", "0" * 64, viewer_token):
        for path in (f"{APP}/delete", f"{APP}/scale", f"/ui/clusters/local/jobs/{job_id}/delete"):
            refused = await post(site.ops, path, token, instances="3")
            assert refused.status == 403, f"{path} with {token!r}"
            assert "CSRF" in text_of(await refused.text())
    app = (await site.operator.json("GET", "/clusters/local/apps/web"))["app"]
    assert app["instances"]["desired"] == 1
    await site.operator.json("GET", f"/clusters/local/jobs/{job_id}")


async def test_a_value_the_service_refuses_is_a_page_with_the_reason(site: Site) -> None:
    await deployed(site)
    csrf = await site.ops.csrf()
    for value, reason in (("-1", "greater than or equal to 0"), ("many", "whole number")):
        refused = await post(site.ops, f"{APP}/scale", csrf, instances=value)
        assert refused.status == 422
        words = text_of(await refused.text())
        assert reason in words
        assert "Back" in words
    missing = await post(site.ops, "/ui/clusters/local/apps/nothing/restart", csrf)
    assert missing.status == 404
    gone = await post(site.ops, "/ui/clusters/gone/apps/web/delete", csrf)
    assert gone.status == 502
    assert "Cluster gone does not answer" in text_of(await gone.text())


async def test_htmx_gets_where_to_go_and_the_flash_is_kept_for_that_page(site: Site) -> None:
    """htmx's XMLHttpRequest would follow a 303 unseen: it is told ``HX-Location`` instead
    (204), and gets that page itself. A live refresh (``HX-Trigger: live-refresh``) in
    between leaves the flash for it; that page shows it once."""
    await deployed(site)
    csrf = await site.ops.csrf()
    htmx = {"HX-Request": "true", "X-CSRF-Token": csrf}
    scaled = await site.ops.request(
        "POST", f"{APP}/scale", data={"csrf_token": csrf, "instances": "2"}, headers=htmx
    )
    assert scaled.status == 204, await scaled.text()
    assert json.loads(scaled.headers["HX-Location"]) == {"path": APP, "target": "body"}
    flash = scaled.cookies["asgard_flash"].value
    with_flash = {"Cookie": f"{COOKIE}={site.ops.token}; asgard_flash={flash}"}
    refresh = {**with_flash, "HX-Request": "true", "HX-Trigger": "live-refresh"}
    refreshed = await site.ops.client.request("GET", APP, headers=refresh)
    assert refreshed.status == 200
    assert "asgard_flash" not in refreshed.cookies, "a refresh leaves the flash alone"
    shown = await site.ops.client.request("GET", APP, headers={**with_flash, "HX-Request": "true"})
    assert "App web is scaled to 2 instances." in text_of(await shown.text())
    assert shown.cookies["asgard_flash"].value == "", "shown once"

    header_only = await site.ops.request(
        "POST", f"{APP}/scale", data={"instances": "1"}, headers=htmx
    )
    assert header_only.status == 204, "the header alone is a token"
    for header, field in ((csrf, "0" * 64), ("0" * 64, csrf), ("0" * 64, None)):
        form = {"instances": "3", **({"csrf_token": field} if field else {})}
        refused = await site.ops.request(
            "POST", f"{APP}/scale", data=form, headers={**htmx, "X-CSRF-Token": header}
        )
        assert refused.status == 403, "every token given must be the session's"
        assert "CSRF" in text_of(await refused.text())
    failed = await site.ops.request(
        "POST", f"{APP}/scale", data={"csrf_token": csrf, "instances": "-1"}, headers=htmx
    )
    assert failed.status == 422, "a failure is its page, for htmx to show"
    app = (await site.operator.json("GET", "/clusters/local/apps/web"))["app"]
    assert app["instances"]["desired"] == 1


async def test_a_form_without_a_session_goes_to_the_login(site: Site) -> None:
    site.ops.client.session.cookie_jar.clear()
    response = await site.ops.client.post(
        f"{APP}/delete", data={"csrf_token": "x"}, allow_redirects=False
    )
    assert response.status == 302
    assert response.headers["Location"].startswith("/ui/login")


async def test_a_chronos_job_is_shown_disabled_and_enabled(start_asgard: StartAsgard) -> None:
    """Over the Mesos fakes: Chronos keeps the schedule, and the page and its actions work
    the same as where Asgard schedules."""
    async with running_mesos() as mesos:
        asgard = await start_asgard(mesos.orchestrator)
        account = await asgard.account("dev")
        operator = await asgard.caller("op@example.com", roles={account.id: Role.OPERATOR})
        ops = await browser(operator)
        page = "/ui/clusters/mesos/scheduled-jobs/another-job"
        words = text_of(await ops.page(page))
        assert "Scheduled job another-job on mesos" in words
        api = "/clusters/mesos/scheduled-jobs/another-job"
        schedule = (await operator.json("GET", api))["scheduled_job"]["schedule"]["value"]
        assert schedule in words
        csrf = await ops.csrf()
        disabled = await post(ops, f"{page}/disable", csrf)
        assert "Scheduled job another-job is disabled." in await flash_after(ops, disabled)
        assert (await operator.json("GET", api))["scheduled_job"]["enabled"] is False
        enabled = await post(ops, f"{page}/enable", csrf)
        assert enabled.status == 303
        assert (await operator.json("GET", api))["scheduled_job"]["enabled"] is True
        agent = (await operator.json("GET", "/agents?cluster=mesos"))["agents"][0]
        shown = text_of(await ops.page(f"/ui/clusters/mesos/agents/{agent['id']}"))
        assert f"Agent {agent['hostname']} on mesos" in shown
