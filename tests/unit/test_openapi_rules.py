"""The OpenAPI document against the rules Redocly's ``recommended`` set enforces.

Checked by hand with ``npx -y @redocly/cli@2.77.0 lint --extends recommended
openapi.json`` (no error, no warning); these tests hold the rules it reported and the
ones it checks, so the document keeps passing without the network at test time.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from asgard.http.app import operations
from asgard.http.openapi import build_openapi
from tests.conftest import StartAsgard

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
URL_SAFE = re.compile(r"^[A-Za-z0-9._~-]+$")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    built = build_openapi(operations())
    read: dict[str, Any] = json.loads(json.dumps(built))  # what a client reads: JSON alone
    return read


def each_operation(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method])
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item
    ]


def test_servers_are_given(document: dict[str, Any]) -> None:
    """no-empty-servers, no-server-example.com, no-server-trailing-slash."""
    servers = document["servers"]
    assert servers
    assert all(s["url"] for s in servers)
    assert not [s for s in servers if "example.com" in s["url"]]
    assert not [s for s in servers if s["url"] != "/" and s["url"].endswith("/")]


def test_info_names_the_licence(document: dict[str, Any]) -> None:
    """info-license: the package's own."""
    assert document["info"]["license"] == {"name": "MIT", "identifier": "MIT"}


def test_every_operation_has_a_unique_url_safe_id_and_a_summary(
    document: dict[str, Any],
) -> None:
    """operation-operationId, operation-operationId-unique, -url-safe, operation-summary."""
    found = each_operation(document)
    ids = [op.get("operationId", "") for _, _, op in found]
    assert all(URL_SAFE.match(i) for i in ids), [i for i in ids if not URL_SAFE.match(i)]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert [(p, m) for p, m, op in found if not op.get("summary", "").strip()] == []


def test_every_operation_answers_a_success_and_a_4xx(document: dict[str, Any]) -> None:
    """operation-2xx-response, operation-4xx-response; each response described."""
    for path, method, op in each_operation(document):
        statuses = list(op["responses"])
        assert any(s.startswith(("2", "3")) for s in statuses), (method, path)
        assert any(s.startswith("4") for s in statuses), (method, path)
        assert all(r.get("description") for r in op["responses"].values()), (method, path)


def test_public_routes_name_what_they_refuse(document: dict[str, Any]) -> None:
    assert "401" in document["paths"]["/metrics"]["get"]["responses"], "with its token"
    for path in ("/health", "/ready", "/openapi.json"):
        assert "400" in document["paths"][path]["get"]["responses"], path


def test_path_parameters_are_declared_once_each(document: dict[str, Any]) -> None:
    """path-parameters-defined, operation-parameters-unique, no-path-trailing-slash."""
    for path, method, op in each_operation(document):
        assert path == "/" or not path.endswith("/"), path
        templated = re.findall(r"\{([^}]+)\}", path)
        declared = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
        assert sorted(templated) == sorted(declared), (method, path)
        pairs = [(p["name"], p["in"]) for p in op.get("parameters", [])]
        assert len(pairs) == len(set(pairs)), (method, path)


def test_security_names_defined_schemes(document: dict[str, Any]) -> None:
    """security-defined: each operation is public (``[]``) or names a scheme that exists."""
    schemes = set(document["components"]["securitySchemes"])
    requirements = list(document["security"])
    for _, _, op in each_operation(document):
        requirements += op.get("security", [])
    assert {name for r in requirements for name in r} <= schemes


def test_no_component_is_left_unused(document: dict[str, Any]) -> None:
    """no-unused-components: every schema is referenced from somewhere else in the
    document (a schema referring only to itself does not count)."""
    text = json.dumps(document)
    for name, schema in document["components"]["schemas"].items():
        ref = f'"#/components/schemas/{name}"'
        outside = text.count(ref) - json.dumps(schema).count(ref)
        assert outside > 0, name


async def test_the_served_document_is_the_checked_one(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard()
    response = await asgard.client.get("/openapi.json")
    served = await response.json()
    assert served["servers"] == build_openapi(operations())["servers"]
    assert served["info"]["license"]["identifier"] == "MIT"
