"""The dashboard's writes: plain HTML forms that call the service methods the JSON routes
call, then send the browser back (303) with a one-line flash message.

htmx posts the same forms (``HX-Request: true``, the token in ``X-CSRF-Token`` as well as
in the form): it is answered 204 with ``HX-Location`` naming the page to show, which htmx
gets and swaps into the body, flash and all; a failure page is swapped in the same way.

Every write is checked twice before the service is asked: the session's CSRF token, so
another site cannot make a logged-in browser write, and the role, so a viewer gets a 403
page even with a forged form (the service checks the role a third time). A failure of the
service itself (a cluster that does not answer, a value it refuses) is shown as a page
with the API's status and the reason, never as a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web
from multidict import MultiDictProxy

from asgard import errors
from asgard.http.routing import parse_model, read_form
from asgard.http.sessions import CSRF_HEADER, check_csrf
from asgard.http.state import services
from asgard.models import AppPatch, ScheduledJobSpec
from asgard.services.principal import Principal
from asgard.ui.details.app import APP_PAGE
from asgard.ui.details.common import Flash, failure_page, set_flash
from asgard.ui.details.job import JOB_PAGE
from asgard.ui.details.scheduled import SCHEDULED_PAGE
from asgard.ui.details.workflow import WORKFLOW_PAGE
from asgard.ui.login import see_other
from asgard.ui.rendering import can_write
from asgard.ui.session import ui_principal

__all__ = ["Form", "perform", "routes"]

routes = web.RouteTableDef()

Form = MultiDictProxy[str | bytes | bytearray | web.FileField]
Done = tuple[str, str]
"""What a write answers: where the browser goes next, and the message shown there."""
Write = Callable[[Principal, Form], Awaitable[Done]]

NOT_ALLOWED: Final = "role '{role}' cannot change anything here: 'operator' is needed"


def _checked(request: web.Request, principal: Principal, form: Form, *, admin: bool) -> None:
    """The CSRF token of the form, of the ``X-CSRF-Token`` header, or both (htmx sends
    both): each one given must be the session's, and one at least is needed. Then the
    role; for an administrator's action (``admin``), the service asks for that itself."""
    field = form.get("csrf_token")
    given = [t for t in (request.headers.get(CSRF_HEADER), field) if isinstance(t, str) and t]
    if not given:
        check_csrf(request, None)
    for token in given:
        check_csrf(request, token)
    if admin:
        principal.require_admin()
    elif not can_write(principal):
        role = principal.role.value if principal.role else "none"
        raise errors.Forbidden(NOT_ALLOWED.format(role=role))


async def perform(
    request: web.Request, title: str, page: str, write: Write, *, admin: bool = False
) -> web.Response:
    """The checks, the write, and the answer every action shares; ``admin``: an action of
    Asgard's administrators (the clusters), whatever the role in the account."""
    principal = await ui_principal(request)
    form = await read_form(request, services(request).settings.max_form_bytes)
    try:
        _checked(request, principal, form, admin=admin)
        location, message = await write(principal, form)
    except errors.AsgardError as exc:
        return failure_page(request, principal, exc, title=title, back=(page, "Back"))
    response = _done(request, location)
    set_flash(response, Flash("ok", message))
    return response


def _done(request: web.Request, location: str) -> web.Response:
    """Where the browser goes after a write: a 303 for a plain form; for htmx, which
    cannot see a redirect its XMLHttpRequest follows, ``HX-Location``: htmx gets that page
    itself, swaps it into the body and puts its address in the history."""
    if request.headers.get("HX-Request") != "true":
        return see_other(location)
    target = json.dumps({"path": location, "target": "body"})
    return web.Response(status=204, headers={"HX-Location": target})


def _where(request: web.Request, name: str) -> tuple[str, str]:
    return request.match_info["cluster"], request.match_info[name]


def _page(request: web.Request) -> str:
    """The page the form was on: the action's own URL without its last word."""
    return request.path.rsplit("/", 1)[0]


# ----------------------------------------------------------------------- apps


def _instances(form: Form) -> int:
    raw = form.get("instances")
    try:
        wanted = int(raw) if isinstance(raw, str) else None
    except ValueError:
        wanted = None
    if wanted is None:
        raise errors.InvalidValue(
            "the number of instances must be a whole number", field="instances"
        )
    patch = parse_model(AppPatch, {"instances": wanted})
    assert patch.instances is not None
    return patch.instances


@routes.post(APP_PAGE + "/scale")
async def scale_app(request: web.Request) -> web.Response:
    cluster, app_id = _where(request, "app_id")

    async def write(principal: Principal, form: Form) -> Done:
        wanted = _instances(form)
        await services(request).apps.update(principal, cluster, app_id, AppPatch(instances=wanted))
        return _page(request), f"App {app_id} is scaled to {wanted} instances."

    return await perform(request, f"Scale app {app_id} on {cluster}", _page(request), write)


@routes.post(APP_PAGE + "/restart")
async def restart_app(request: web.Request) -> web.Response:
    cluster, app_id = _where(request, "app_id")

    async def write(principal: Principal, form: Form) -> Done:
        await services(request).apps.restart(principal, cluster, app_id)
        return _page(request), f"App {app_id} is restarting: every instance is replaced."

    return await perform(request, f"Restart app {app_id} on {cluster}", _page(request), write)


@routes.post(APP_PAGE + "/delete")
async def delete_app(request: web.Request) -> web.Response:
    cluster, app_id = _where(request, "app_id")

    async def write(principal: Principal, form: Form) -> Done:
        await services(request).apps.delete(principal, cluster, app_id)
        return "/ui/apps", f"App {app_id} on {cluster} is deleted."

    return await perform(request, f"Delete app {app_id} on {cluster}", _page(request), write)


# ------------------------------------------------------------ jobs, workflows


@routes.post(JOB_PAGE + "/delete")
async def delete_job(request: web.Request) -> web.Response:
    """Cancelling a job and deleting it are one call: a running job is stopped, and what
    it made is removed, as ``DELETE`` on the job does."""
    cluster, job_id = _where(request, "job_id")

    async def write(principal: Principal, form: Form) -> Done:
        await services(request).jobs.delete(principal, cluster, job_id)
        return "/ui/jobs", f"Job {job_id} on {cluster} is cancelled and deleted."

    return await perform(request, f"Delete job {job_id} on {cluster}", _page(request), write)


@routes.post(WORKFLOW_PAGE + "/delete")
async def delete_workflow(request: web.Request) -> web.Response:
    cluster, workflow_id = _where(request, "workflow_id")

    async def write(principal: Principal, form: Form) -> Done:
        if await services(request).workflows.delete(principal, cluster, workflow_id):
            return "/ui/workflows", f"Workflow {workflow_id} on {cluster} is cancelled and deleted."
        return "/ui/workflows", (
            f"Workflow {workflow_id} on {cluster} is cancelled; its jobs and volume go as soon "
            "as the cluster lets them."
        )

    title = f"Delete workflow {workflow_id} on {cluster}"
    return await perform(request, title, _page(request), write)


# ------------------------------------------------------------- scheduled jobs


async def _set_enabled(request: web.Request, enabled: bool) -> web.Response:
    """``PUT`` of the scheduled job as it is, with only ``enabled`` changed."""
    cluster, job_id = _where(request, "job_id")
    verb = "enabled" if enabled else "disabled"

    async def write(principal: Principal, form: Form) -> Done:
        scheduled = services(request).scheduled_jobs
        current = await scheduled.get(principal, cluster, job_id)
        spec = parse_model(ScheduledJobSpec, {**current.model_dump(), "enabled": enabled})
        await scheduled.update(principal, cluster, job_id, spec)
        return _page(request), f"Scheduled job {job_id} is {verb}."

    title = f"{verb.capitalize()[:-1]} scheduled job {job_id} on {cluster}"
    return await perform(request, title, _page(request), write)


@routes.post(SCHEDULED_PAGE + "/enable")
async def enable_scheduled_job(request: web.Request) -> web.Response:
    return await _set_enabled(request, True)


@routes.post(SCHEDULED_PAGE + "/disable")
async def disable_scheduled_job(request: web.Request) -> web.Response:
    return await _set_enabled(request, False)
