"""Bad input gets the documented status and a clear message, never a traceback."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import pytest

from asgard.models import Role
from tests.conftest import StartAsgard
from tests.support.asgard import AsgardUnderTest, Caller


@pytest.fixture
async def asgard(start_asgard: StartAsgard) -> AsgardUnderTest:
    return await start_asgard(max_body_bytes=4096)


@pytest.fixture
async def root(asgard: AsgardUnderTest) -> Caller:
    account = await asgard.account("dev")
    return await asgard.caller("root@example.com", admin=True, roles={account.id: Role.ADMIN})


def no_traceback(text: str) -> None:
    assert "Traceback" not in text
    assert 'File "' not in text


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"name": "x",}', b"\xff\xfe"])
async def test_malformed_json_is_400(root: Caller, body: bytes) -> None:
    response = await root.post("/users", data=body, headers={"Content-Type": "application/json"})
    text = await response.text()
    assert response.status == 400, text
    assert "JSON" in (await response.json())["errors"][0]["msg"]
    no_traceback(text)


async def test_an_empty_body_is_400(root: Caller) -> None:
    response = await root.post("/users", data=b"")
    assert response.status == 400


async def test_wrong_types_are_422_naming_the_field(root: Caller) -> None:
    response = await root.post("/users", json={"name": 42, "email": "x@example.com"})
    assert response.status == 422
    errors = (await response.json())["errors"]
    assert [e["field"] for e in errors] == ["name"]

    response = await root.post("/accounts", json={"name": "x", "namespace": "Not A Label!"})
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "namespace"

    response = await root.post("/users", json={"email": "no-at-sign"})
    fields = {e["field"] for e in (await response.json())["errors"]}
    assert response.status == 422
    assert fields == {"name", "email"}


async def test_unknown_fields_are_422(root: Caller) -> None:
    response = await root.post(
        "/users", json={"name": "x", "email": "x@example.com", "admin": True}
    )
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "admin"


async def test_a_json_array_instead_of_an_object_is_422(root: Caller) -> None:
    response = await root.post("/users", json=[1, 2])
    assert response.status == 422


async def test_app_specs_are_validated(root: Caller) -> None:
    bad = {
        "cluster": "local",
        "id": "Web_App",
        "image": "",
        "instances": -1,
        "ports": [{"container_port": 70000}],
        "constraints": ["zone"],
    }
    response = await root.post("/apps", json=bad)
    assert response.status == 422
    fields = {e["field"] for e in (await response.json())["errors"]}
    assert fields == {"id", "image", "instances", "ports.0.container_port", "constraints.0"}


async def test_reserved_words_cannot_be_part_of_an_app_id(root: Caller) -> None:
    response = await root.post("/apps", json={"cluster": "local", "id": "web/tasks", "image": "x"})
    assert response.status == 422
    assert "reserved" in (await response.json())["errors"][0]["msg"]


async def test_unknown_ids_are_404(root: Caller) -> None:
    for path in ("/users/9999", "/accounts/9999", "/accounts/9999/users", "/users/9999/accounts"):
        response = await root.get(path)
        assert response.status == 404, path
        assert (await response.json())["errors"][0]["msg"]
    assert (await root.delete("/users/me/tokens/9999")).status == 404
    assert (await root.put("/accounts/1/users/9999", json={"role": "viewer"})).status == 404


async def test_unknown_clusters_are_404_naming_them(root: Caller) -> None:
    response = await root.get("/clusters/atlantis/agents/a1")
    assert response.status == 404
    error = (await response.json())["errors"][0]
    assert error["cluster"] == "atlantis"
    assert (await root.get("/clusters/atlantis/apps/web")).status == 404
    assert (await root.get("/agents?cluster=atlantis")).status == 404


async def test_non_integer_ids_are_422(root: Caller) -> None:
    response = await root.get("/users/abc")
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "user_id"


async def test_bad_query_values_are_422(root: Caller) -> None:
    for query in ("limit=0", "limit=abc", "limit=999999"):
        response = await root.get(f"/agents?{query}")
        assert response.status == 422, query
        assert (await response.json())["errors"][0]["field"] == "limit"


async def test_an_oversized_body_is_413(root: Caller) -> None:
    big = {"name": "x" * 10_000, "email": "x@example.com"}
    response = await root.post("/users", json=big)
    assert response.status == 413
    assert "limit" in (await response.json())["errors"][0]["msg"]


async def test_an_oversized_chunked_body_is_413(root: Caller) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b'{"name": "' + b"x" * 1000

    response = await root.post(
        "/users", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status == 413


async def test_unknown_routes_and_methods_answer_in_the_envelope(asgard: AsgardUnderTest) -> None:
    response = await asgard.client.get("/no/such/route")
    assert response.status == 404
    assert (await response.json())["errors"][0]["msg"] == "no such route"
    response = await asgard.client.put("/health")
    assert response.status == 405
    assert (await response.json())["errors"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/clusters/c/apps/web/stats", "GET"),
        ("DELETE", "/clusters/c/apps/team/web/tasks", "GET"),
        ("OPTIONS", "/clusters/c/apps/web/restart", "POST"),
        ("PATCH", "/clusters/c/apps/web/versions/v1", "GET"),
        ("PATCH", "/users/me", "GET"),
    ],
)
async def test_a_method_a_route_under_an_app_or_me_lacks_is_405_with_its_own_methods(
    root: Caller, method: str, path: str, allow: str
) -> None:
    """An app id has no reserved word and a user id is never ``me``, so each of these paths
    is one route's: the method it lacks is 405 before any body is read, and ``Allow``
    lists that route's methods, not also those of the app or the user it resembles."""
    response = await root.request(method, path)
    assert response.status == 405, await response.text()
    assert set(response.headers["Allow"].split(",")) == set(allow.split(","))
    assert (await response.json())["errors"][0]["msg"] == "method not allowed on this route"


async def test_an_empty_cursor_is_the_first_page(root: Caller) -> None:
    first = await root.get("/users")
    empty = await root.get("/users?cursor=")
    assert empty.status == 200, await empty.text()
    assert await empty.json() == await first.json()


async def test_the_document_says_which_values_are_refused(asgard: AsgardUnderTest) -> None:
    """Integer ids, limit's bounds and the audit's patterns are in the schema, so a client
    (or a fuzzer) knows a refused value before it sends it."""
    document = await (await asgard.client.get("/openapi.json")).json()
    user = document["paths"]["/users/{user_id}"]["get"]["parameters"]
    assert {
        "name": "user_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    } in user
    limit = next(
        p for p in document["paths"]["/agents"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 5000)
    audit = document["paths"]["/audit"]["get"]["parameters"]
    assert [p["name"] for p in audit].count("account_id") == 1, "the filter, declared once"
    stream = document["paths"]["/events"]["get"]["responses"]["200"]["content"]
    event = stream["text/event-stream"]["schema"]
    assert event["required"] == ["data"]
    assert {"app", "resync"} <= set(event["properties"]["event"]["enum"])


async def test_every_answer_has_a_request_id(asgard: AsgardUnderTest) -> None:
    response = await asgard.client.get("/health", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"
    response = await asgard.client.get("/agents")
    assert len(response.headers["X-Request-Id"]) == 32
    response = await asgard.client.get("/health", headers={"X-Request-Id": "bad id\twith spaces"})
    assert response.headers["X-Request-Id"] != "bad id\twith spaces"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"--B\r\nContent-Disposition\r\n\r\n{}\r\n--B--\r\n", 400),  # a header with no value
        (b'--B\r\nContent-Disposition: form-data; name="spec"\r\n\r\n{}', 400),  # no end
        (b"--B\r\nContent-Type: application/json\r\n\r\n{}\r\n--B--\r\n", 422),  # no name
        (b'--B\r\nContent-Disposition: form-data; name="spec"\r\n\r\n{\r\n--B--\r\n', 400),
    ],
)
async def test_every_part_of_a_multipart_job_is_checked(
    root: Caller, body: bytes, status: int
) -> None:
    response = await root.post(
        "/jobs", data=body, headers={"Content-Type": "multipart/form-data; boundary=B"}
    )
    text = await response.text()
    assert response.status == status, text
    assert (await response.json())["errors"][0]["msg"]
    no_traceback(text)


@pytest.mark.parametrize(
    "path",
    [
        "/users/184467440737095516160000",
        "/accounts/-184467440737095516160000",
        "/accounts/99999999999999999999999999/users",
    ],
)
async def test_ids_beyond_what_the_database_holds_are_unknown(root: Caller, path: str) -> None:
    response = await root.get(path)
    assert response.status == 404, await response.text()


async def test_a_cursor_beyond_what_the_database_holds_is_422(root: Caller) -> None:
    huge = base64.urlsafe_b64encode(json.dumps([2**70]).encode()).decode().rstrip("=")
    response = await root.get(f"/users?cursor={huge}")
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "cursor"


async def test_an_account_id_beyond_64_bits_is_forbidden_not_a_crash(root: Caller) -> None:
    response = await root.get("/agents?account_id=-84303623600343818960896")
    assert response.status == 403


@pytest.mark.parametrize("position", [2**40, -(2**40), 2**31])
async def test_a_cursor_past_every_id_is_a_page_not_a_crash(
    start_asgard: StartAsgard, db_url: str, position: int
) -> None:
    """On PostgreSQL too, whose 32-bit ids refuse a larger value outright."""
    asgard = await start_asgard(db_url=db_url)
    root = await asgard.caller("root@example.com", admin=True)
    cursor = base64.urlsafe_b64encode(json.dumps([position]).encode()).decode().rstrip("=")
    for path in ("/users", "/accounts"):
        response = await root.get(f"{path}?cursor={cursor}")
        assert response.status == 200, await response.text()
        body = await response.json()
        found = body["users" if path == "/users" else "accounts"]
        assert (found != []) == (position < 0), "before every row: all; after: none"
