"""The OpenAPI 3 document, generated from the declared operations and pydantic models."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, get_args

from aiohttp import web
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from asgard import __version__
from asgard.events import EventKind
from asgard.http.errors import ErrorBody
from asgard.http.routes.events import NOTICES
from asgard.http.routing import INTEGER_IDS, Operation
from asgard.models.ids import id_kind

OPENAPI = web.AppKey("openapi", dict[str, Any])
REF = "#/components/schemas/{model}"

_PATH_PARAM = re.compile(r"\{(\w+)(?::[^{}]*(?:\{[^{}]*\}[^{}]*)*)?\}")

SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "description": "One event of the stream, as a client's parser reads it (OpenAPI 3.1 "
    "gives an event stream's schema per event). data is the Event as JSON, or for Asgard's "
    'own frames (resync, overflow, closing) {"msg": ...}',
    "required": ["data"],
    "properties": {
        "event": {"type": "string", "enum": [*get_args(EventKind), *NOTICES]},
        "id": {"type": "string"},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "retry": {"type": "integer"},
    },
}

MEDIA: dict[str, dict[str, dict[str, Any]]] = {
    "text": {"text/plain": {"type": "string"}},
    "log-lines": {
        "text/plain": {"type": "string", "description": "A line each (format=text)"},
        "application/jsonl": {
            "type": "string",
            "description": 'format=jsonl: a JSON object a line, {"task": string or null, '
            '"ts": RFC 3339 time, "stream": "stdout|stderr|output|asgard", "line": string}',
        },
    },
    "zip": {"application/zip": {"type": "string", "format": "binary"}},
    "event-stream": {"text/event-stream": SSE_EVENT},
    "prometheus": {"text/plain": {"type": "string"}},
}

ERROR_TEXT = {
    400: "Malformed body",
    401: "No credentials, or credentials that match nobody",
    403: "Outside the caller's accounts, or above its role",
    404: "Unknown, or not visible to the account",
    409: "Conflicts with what exists",
    413: "Body over the size limit",
    422: "Invalid values; each error names its field",
    429: "Too many bad credentials from this address: wait Retry-After seconds",
    501: "Not supported by this kind of cluster",
    502: "The cluster failed (or every cluster did)",
    503: "The service or its database is not answering",
    504: "The cluster did not answer in time",
}
PARSER_REFUSAL: dict[str, Any] = {
    "description": "The HTTP server refused the request before any route saw it (a request "
    "line or header it cannot parse, a URL over 8 KB); the body is plain text"
}
"""What any route may answer, and all that a public route without parameters can refuse."""
SERVERS: list[dict[str, Any]] = [
    {"url": "/", "description": "The Asgard that serves this document, at its own address"}
]
LICENSE: dict[str, Any] = {"name": "MIT", "identifier": "MIT"}


def openapi_path(path: str) -> str:
    """``/apps/{app_id:[a-z/]+}`` -> ``/apps/{app_id}``."""
    return _PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", path)


def path_params(path: str) -> list[str]:
    return [m.group(1) for m in _PATH_PARAM.finditer(path)]


def _models(operations: Iterable[Operation]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    seen: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(ErrorBody, "serialization"): None}
    for op in operations:
        if op.body is not None:
            seen[(op.body, "validation")] = None
        for response in op.responses.values():
            if isinstance(response, type) and issubclass(response, BaseModel):
                seen[(response, "serialization")] = None
    return list(seen)


def _query_parameters(op: Operation) -> list[dict[str, Any]]:
    if op.query is None:
        return []
    params = []
    for name, info in op.query.model_fields.items():
        # with the field's constraints (limit's bounds, patterns), so that a client or a
        # fuzzer knows the values that are refused before it sends them
        annotated: Any = info.annotation or Any
        if info.metadata:
            annotated = Annotated[annotated, *info.metadata]
        schema = TypeAdapter(annotated).json_schema(ref_template=REF)
        if info.default is not None and not info.is_required():
            schema["default"] = info.default
        param: dict[str, Any] = {
            "name": info.alias or name,
            "in": "query",
            "required": info.is_required(),
            "schema": schema,
        }
        if info.description:
            param["description"] = info.description
        params.append(param)
    return params


def _names_a_cluster(op: Operation) -> bool:
    """Whether the request names clusters that may not exist (a 404 then)."""
    return any(
        model is not None and "cluster" in model.model_fields for model in (op.query, op.body)
    )


def _error_statuses(op: Operation) -> list[int]:
    """Every error status the operation can answer with, whatever its handler does."""
    statuses: list[int] = []
    if op.auth != "public":
        statuses += [401, 403]
    if op.auth == "user":
        statuses += [422, 429]  # ?account_id that is not an integer; guessing keys
        statuses.append(503)  # authenticating reads the database, which may not answer
    if op.body is not None:
        statuses += [400, 413, 422]
    elif op.query is not None or path_params(op.path):
        statuses.append(422)
    if path_params(op.path) or _names_a_cluster(op):
        statuses.append(404)
    if op.method in ("POST", "PUT", "PATCH", "DELETE"):
        statuses.append(409)  # a delete too: the last administrator, a volume still in use
    reaches_clusters = op.tags[0] in ("agents", "apps", "clusters", "jobs")
    if "cluster" in path_params(op.path) or reaches_clusters or _names_a_cluster(op):
        statuses += [501, 502, 504]
    return sorted(set(statuses))


def _path_schema(name: str) -> dict[str, Any]:
    """An id of the path with the pattern its kind accepts: what is refused is known
    before it is sent (and never reaches a cluster)."""
    if name in INTEGER_IDS:
        return {"type": "integer"}
    kind = id_kind(name)
    return {"type": "string", "pattern": f"^{kind.pattern}$", "description": kind.what}


def _parameters(op: Operation) -> list[dict[str, Any]]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
        for name in path_params(op.path)
    ]
    parameters += _query_parameters(op)
    if not op.public and not (op.query is not None and "account_id" in op.query.model_fields):
        parameters.append(
            {
                "name": "account_id",
                "in": "query",
                "required": False,
                "schema": {"type": "integer"},
                "description": "Act in this account (default: the JWT's, else the first)",
            }
        )
    return parameters


def _responses(op: Operation, refs: Mapping[Any, dict[str, Any]]) -> dict[str, Any]:
    """What the operation declares it answers, then every error it can answer with."""
    error = {"content": {"application/json": {"schema": refs[(ErrorBody, "serialization")]}}}
    responses: dict[str, Any] = {}
    for status, spec in op.responses.items():
        if status >= 400:
            responses[str(status)] = {"description": ERROR_TEXT.get(status, "Error"), **error}
            continue
        entry: dict[str, Any] = {"description": "No content" if status == 204 else "Success"}
        if isinstance(spec, str):
            entry["content"] = {media: {"schema": schema} for media, schema in MEDIA[spec].items()}
        elif spec is not None:
            entry["content"] = {"application/json": {"schema": refs[(spec, "serialization")]}}
        elif status != 204:
            entry["content"] = {"application/json": {"schema": {"type": "object"}}}
        if op.links and status < 300:
            entry["links"] = {
                name: {"operationId": link.operation, "parameters": dict(link.parameters)}
                for name, link in op.links.items()
            }
        responses[str(status)] = entry
    for status in _error_statuses(op):
        responses.setdefault(str(status), {"description": ERROR_TEXT[status], **error})
    if not any(status.startswith("4") for status in responses):
        responses["400"] = PARSER_REFUSAL
    return responses


def _request_body(op: Operation, refs: Mapping[Any, dict[str, Any]]) -> dict[str, Any] | None:
    if op.body is None:
        return None
    schema = refs[(op.body, "validation")]
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if op.multipart:
        content["multipart/form-data"] = {
            "schema": {
                "type": "object",
                "properties": {"spec": schema, "input": {"type": "string", "format": "binary"}},
                "required": ["spec"],
            }
        }
    return {"required": True, "content": content}


def _operation(op: Operation, refs: Mapping[Any, dict[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "operationId": op.handler.__name__,
        "summary": op.summary,
        "tags": list(op.tags),
        "parameters": _parameters(op),
        "responses": _responses(op, refs),
    }
    description = op.description
    if op.extra_query:
        description = f"{description}\n\n{op.extra_query}".strip()
    if description:
        document["description"] = description
    body = _request_body(op, refs)
    if body is not None:
        document["requestBody"] = body
    if op.auth == "public":
        document["security"] = []
    elif op.auth == "job":
        document["security"] = [{"JobToken": []}]
    return document


def check_links(operations: list[Operation]) -> None:
    """Every link names an operation that exists and fills exactly its path parameters."""
    by_id = {op.handler.__name__: op for op in operations}
    for op in operations:
        for link in op.links.values():
            target = by_id.get(link.operation)
            if target is None:
                raise ValueError(f"{op.handler.__name__}: link to unknown {link.operation!r}")
            if set(link.parameters) != set(path_params(target.path)):
                raise ValueError(
                    f"{op.handler.__name__}: the link to {link.operation} must give "
                    f"{sorted(path_params(target.path))}, not {sorted(link.parameters)}"
                )


def build_openapi(operations: list[Operation]) -> dict[str, Any]:
    check_links(operations)
    refs, schemas = models_json_schema(_models(operations), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(openapi_path(op.path), {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Asgard",
            "version": __version__,
            "description": "One HTTP API for the agents, apps, jobs and scheduled jobs of every "
            "Docker, Kubernetes and Mesos cluster an ops team runs.",
            "license": LICENSE,
        },
        "servers": SERVERS,
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "ApiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "'Token <api-key>'",
                },
                "Bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "JobToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token Asgard gives one running job, for its own files",
                },
            },
        },
        "security": [{"ApiKey": []}, {"Bearer": []}],
    }
