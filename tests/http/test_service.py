"""Health, metrics, the OpenAPI document, and what the logs say (and never say)."""

from __future__ import annotations

import dataclasses
import logging

import pytest
import structlog
from aiohttp.test_utils import make_mocked_request

from asgard.http.app import operations
from asgard.http.openapi import build_openapi, openapi_path
from asgard.http.routing import follow
from asgard.logsetup import configure_logging
from asgard.models import Role
from asgard.models.app import RESERVED_SEGMENTS
from asgard.ui import is_ui_path
from tests.conftest import StartAsgard
from tests.support.asgard import AsgardUnderTest


@pytest.fixture
async def asgard(start_asgard: StartAsgard) -> AsgardUnderTest:
    return await start_asgard()


async def test_health_says_ok_while_the_database_answers(asgard: AsgardUnderTest) -> None:
    response = await asgard.client.get("/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    await asgard.db.engine.dispose()
    asgard.db.engine.url = asgard.db.engine.url.set(database="/nonexistent/dir/x.db")


async def test_health_is_503_when_the_database_is_gone(
    start_asgard: StartAsgard, tmp_path: object
) -> None:
    from asgard.db.engine import Database
    from asgard.services.health import HealthService

    asgard = await start_asgard()
    gone = Database("sqlite+aiosqlite:////nonexistent/folder/asgard.db")
    asgard.services.health = HealthService(gone)
    response = await asgard.client.get("/health")
    assert response.status == 503
    assert (await response.json())["errors"][0]["msg"] == "the database does not answer"


async def test_metrics_count_requests_by_route_and_status(asgard: AsgardUnderTest) -> None:
    account = await asgard.account("dev")
    caller = await asgard.caller("m@example.com", roles={account.id: Role.VIEWER})
    await caller.get("/users/me")
    await caller.get("/users/me")
    await asgard.client.get("/users/999")
    response = await asgard.client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    assert 'asgard_http_requests_total{method="GET",route="/users/me",status="200"} 2.0' in text
    assert (
        'asgard_http_requests_total{method="GET",route="/users/{user_id}",status="401"} 1.0' in text
    )
    assert (
        'asgard_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/users/me"}'
        in text
    )


async def test_openapi_covers_every_route(asgard: AsgardUnderTest) -> None:
    document = await (await asgard.client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    documented = {
        (method.upper(), path) for path, ops in document["paths"].items() for method in ops
    }
    served = {
        (route.method, openapi_path(route.resource.canonical))
        for route in asgard.app.router.routes()
        if route.method != "HEAD"
        and route.resource is not None
        and not is_ui_path(route.resource.canonical)
    }
    assert served == documented
    assert len(served) == len(operations())


async def test_openapi_describes_bodies_responses_and_errors(asgard: AsgardUnderTest) -> None:
    document = await (await asgard.client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for model in (
        "Agent",
        "App",
        "AppSpec",
        "Task",
        "User",
        "Account",
        "ErrorBody",
        "AgentList",
        "ClusterStatus",
    ):
        assert model in schemas, model
    create_app = document["paths"]["/apps"]["post"]
    assert create_app["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AppSpec"
    }
    assert create_app["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AppBody"
    }
    for status in ("400", "401", "403", "413", "422", "502", "504"):
        assert status in create_app["responses"], status
    agents = document["paths"]["/agents"]["get"]
    names = [p["name"] for p in agents["parameters"]]
    assert names == ["limit", "cursor", "cluster", "stale", "account_id"]
    assert document["paths"]["/health"]["get"]["security"] == []
    app_path = "/clusters/{cluster}/apps/{app_id}"
    assert [p["name"] for p in document["paths"][app_path]["get"]["parameters"]][:2] == [
        "cluster",
        "app_id",
    ]
    assert set(schemas["Agent"]["properties"]) >= {
        "id",
        "cluster",
        "type",
        "hostname",
        "active",
        "stats",
        "used_resources",
    }


async def test_app_ids_with_slashes_reach_the_right_route(asgard: AsgardUnderTest) -> None:
    router = asgard.app.router
    for path, handler in [
        ("/clusters/c/apps/team/api", "get_app"),
        ("/clusters/c/apps/team/api/tasks", "list_tasks"),
        ("/clusters/c/apps/team/api/stats", "app_stats"),
        ("/clusters/c/apps/team/api/stats/avg-1min", "app_stats_1m"),
        ("/clusters/c/apps/team/api/logs", "app_logs"),
    ]:
        match = await router.resolve(make_mocked_request("GET", path))
        assert match.handler.__name__ == handler, path
        assert match["app_id"] == "team/api"


@pytest.mark.parametrize(
    ("path", "status"), [("/health", 200), ("/agents", 401), ("/no/such/route", 404)]
)
async def test_every_answer_tells_browsers_not_to_sniff_or_refer(
    asgard: AsgardUnderTest, path: str, status: int
) -> None:
    response = await asgard.client.get(path)
    assert response.status == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Request-Id"]


def test_what_a_post_creates_is_linked_to_the_routes_that_use_it() -> None:
    """So a fuzzer's stateful phase (and a reader) can follow a created app, job, workflow,
    scheduled job, account, user or key to the operations on it."""
    document = build_openapi(operations())
    created = {
        path: op["responses"]["201"].get("links", {})
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if method == "post" and "201" in op["responses"]
    }
    for path in (
        "/apps",
        "/jobs",
        "/workflows",
        "/scheduled-jobs",
        "/accounts",
        "/users",
        "/users/me/tokens",
    ):
        assert created[path], f"POST {path} links to nothing"
    assert created["/apps"]["get_app"]["parameters"] == {
        "cluster": "$response.body#/app/cluster",
        "app_id": "$response.body#/app/id",
    }


def test_a_link_to_an_operation_it_cannot_fill_is_refused() -> None:
    ops = operations()
    bad = next(op for op in ops if op.handler.__name__ == "create_app")
    broken = dataclasses.replace(bad, links=follow("app", {"id": "id"}, "get_app"))
    with pytest.raises(ValueError, match="must give"):
        build_openapi([broken if op is bad else op for op in ops])


def test_every_word_of_a_route_under_an_app_is_reserved_in_app_ids() -> None:
    """So an id can never be read as an app and a sub-resource: a route added under an app
    whose words are not reserved fails here."""
    prefix = "/clusters/{cluster}/apps/{app_id}/"
    below = [openapi_path(op.path) for op in operations()]
    words = {
        word
        for path in below
        if path.startswith(prefix)
        for word in path[len(prefix) :].split("/")
        if not word.startswith("{")
    }
    assert words, "there are routes under an app"
    assert words <= RESERVED_SEGMENTS


@pytest.mark.parametrize("word", ["tasks", "stats", "logs", "restart", "versions", "rollback"])
async def test_an_app_id_naming_a_sub_resource_is_refused(
    asgard: AsgardUnderTest, word: str
) -> None:
    caller = await asgard.caller("op@example.com", admin=True)
    response = await caller.post(
        "/apps", json={"cluster": "c", "id": f"web/{word}", "image": "busybox"}
    )
    assert response.status == 422
    error = (await response.json())["errors"][0]
    assert error["field"] == "id"
    assert word in error["msg"]


async def test_logs_carry_the_request_and_never_the_credentials(
    asgard: AsgardUnderTest, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    try:
        account = await asgard.account("dev")
        caller = await asgard.caller("log@example.com", roles={account.id: Role.VIEWER})
        capsys.readouterr()
        await caller.get("/users/me", headers={"X-Request-Id": "trace-me"})
        await asgard.client.get(
            "/users/me", headers={"Authorization": "Token asg_wrong_secretvalue"}
        )
        lines = capsys.readouterr().err
    finally:  # the process's logging as it was: later tests read structlog's default output
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()
    assert '"request_id": "trace-me"' in lines
    assert f'"account_id": {account.id}' in lines
    assert f'"user_id": {caller.user.id}' in lines
    assert caller.key not in lines
    assert "secretvalue" not in lines
