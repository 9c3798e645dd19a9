"""The fleet page's administrators' part: the clusters registered at run time, a form to
register one and a button to remove each (``fleet_registry.html``). The forms call the
registry service the API calls, through ``actions.perform``: the session's CSRF token,
then the service's own rule (administrators only)."""

from __future__ import annotations

import json
import tomllib
from typing import Any

from aiohttp import web

from asgard import errors
from asgard.http.audit_note import about
from asgard.http.state import services
from asgard.services.principal import Principal
from asgard.ui.actions import Form, perform

__all__ = ["routes"]

routes = web.RouteTableDef()

FLEET = "/ui/"


def _text(form: Form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def entry_of(form: Form) -> dict[str, Any]:
    """The form's entry: its name and kind, and the rest of the fields (secrets too) as
    TOML or JSON in ``settings``."""
    raw = _text(form, "settings")
    settings: Any = {}
    if raw:
        try:
            settings = json.loads(raw) if raw.startswith("{") else tomllib.loads(raw)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise errors.InvalidValue(
                f"the settings are not TOML or JSON: {exc}", field="settings"
            ) from None
    if not isinstance(settings, dict):
        raise errors.InvalidValue("the settings must be a table of fields", field="settings")
    return {**settings, "name": _text(form, "name"), "kind": _text(form, "kind")}


@routes.post("/ui/clusters")
async def create_cluster(request: web.Request) -> web.Response:
    async def write(principal: Principal, form: Form) -> tuple[str, str]:
        entry = entry_of(form)
        about(request, cluster=entry["name"] or None, id=entry["name"] or None)
        check = form.get("skip_check") != "on"
        await services(request).cluster_registry.create(principal, entry, check=check)
        return FLEET, f"Cluster {entry['name']} is registered and served."

    return await perform(request, "Register a cluster", FLEET, write, admin=True)


@routes.post("/ui/clusters/{cluster}/remove")
async def delete_cluster(request: web.Request) -> web.Response:
    name = request.match_info["cluster"]
    about(request, id=name)

    async def write(principal: Principal, _form: Form) -> tuple[str, str]:
        await services(request).cluster_registry.delete(principal, name)
        return FLEET, f"Cluster {name} is no longer served."

    return await perform(request, f"Remove cluster {name}", FLEET, write, admin=True)
