"""Routes that declare their models, so one declaration both serves and documents them.

A handler is declared with the models of its query, body and responses::

    @routes.get("/apps", query=AppsQuery, responses={200: AppList})
    async def list_apps(request: web.Request, query: AppsQuery) -> web.Response: ...

The wrapper parses and validates ``query`` and ``body`` before the handler
runs (400 for what does not parse, 422 naming the field for what is wrong), and
``asgard.http.openapi`` builds the OpenAPI document from the same declarations.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from aiohttp import web
from multidict import MultiDictProxy
from pydantic import BaseModel, ValidationError

from asgard.errors import ErrorDetail, InvalidValue, MalformedRequest, NotFound, PayloadTooLarge
from asgard.models.ids import ID_KINDS, id_kind

M = TypeVar("M", bound=BaseModel)
Handler = Callable[..., Awaitable[web.StreamResponse]]
Auth = Literal["user", "public", "job"]
ResponseSpec = (
    type[BaseModel] | Literal["text", "log-lines", "zip", "event-stream", "prometheus"] | None
)

OPERATION_ATTR = "__asgard_operation__"

_PARAM = re.compile(r"\{(\w+)(:[^{}]*(?:\{[^{}]*\}[^{}]*)*)?\}")
"""A path parameter, ``{name}`` or ``{name:pattern}`` (a pattern may hold ``{m,n}``)."""


def typed_path(path: str) -> str:
    """``path`` with each parameter given its id kind's pattern (``{job_id}`` becomes
    ``{job_id:<a job id>}``), so that a URL whose id its kind cannot name matches no route.
    A parameter with no id kind is a mistake in the route: ``KeyError`` when declared.
    Integer ids keep aiohttp's default and are read by ``int_param`` (422, 404)."""

    def fill(match: re.Match[str]) -> str:
        name, given = match.group(1), match.group(2)
        kind = id_kind(name)
        if given or kind.integer:
            return match.group(0)
        return "{" + name + ":" + kind.pattern + "}"

    return _PARAM.sub(fill, path)


def check_ids(match_info: Mapping[str, str]) -> None:
    """Every id of the path, as aiohttp decoded it, is a name of its kind: the check a
    route's pattern already made, made again on the decoded value (a 422 naming it)."""
    for name, value in match_info.items():
        kind = id_kind(name)
        if not kind.integer and not kind.matches(value):
            raise InvalidValue(f"not {kind.what}: {value[:80]!r}", field=name)


@dataclass(frozen=True)
class Link:
    """What an answer lets a client call next (an OpenAPI link): the operation, and each of
    its path parameters as a runtime expression of the answer (``$response.body#/app/id``)."""

    operation: str
    parameters: Mapping[str, str]


def follow(body: str, fields: Mapping[str, str], *operations: str) -> dict[str, Link]:
    """Links from an answer ``{body: {...}}`` to ``operations``, each parameter taken from a
    field of that object: ``follow("app", {"app_id": "id"}, "get_app")``."""
    parameters = {name: f"$response.body#/{body}/{field}" for name, field in fields.items()}
    return {operation: Link(operation, parameters) for operation in operations}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    tags: tuple[str, ...]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    multipart: bool = False
    """The body may also come as multipart: the model in a ``spec`` part, plus files."""
    responses: Mapping[int, ResponseSpec] = field(default_factory=dict)
    auth: Auth = "user"
    """``user``: a user's key or JWT; ``public``: nothing; ``job``: a job's own I/O token."""
    extra_query: str | None = None
    """Free-form query parameters (attribute filters), described in the docs."""
    links: Mapping[str, Link] = field(default_factory=dict)
    """From the success answer to what can be done with what it made (OpenAPI links)."""

    @property
    def public(self) -> bool:
        return self.auth != "user"

    @property
    def description(self) -> str:
        return inspect.cleandoc(self.handler.__doc__ or "")


def validation_details(exc: ValidationError, prefix: str = "") -> list[ErrorDetail]:
    details = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"] if p != "__root__")
        name = f"{prefix}{where}" if where else (prefix.rstrip(".") or None)
        details.append(ErrorDetail(msg=error["msg"], field=name))
    return details


def parse_model(model: type[M], data: Any, prefix: str = "") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = validation_details(exc, prefix)
        raise InvalidValue(details[0].msg, details=details) from None


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return origin is list


def parse_query(model: type[M], request: web.Request) -> M:
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in request.query:
            continue
        if _is_list(info.annotation):  # ?kind=app,job and ?kind=app&kind=job alike
            values = [v for given in request.query.getall(key) for v in given.split(",") if v]
            data[name] = values or None
        else:
            data[name] = request.query[key]
    return parse_model(model, data)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The raw body, refusing (413) anything over ``limit`` without reading it all."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(
    request: web.Request, limit: int
) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """A dashboard form, refused (413) over ``limit``: at once when its length says so,
    else once that much was read (the application's ``client_max_size``, which is no
    larger, stops ``post()`` there), so a huge form is never read whole."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the form is over the limit of {limit} bytes")
    try:
        return await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"the form is over the limit of {limit} bytes") from None


def decode_json(raw: bytes) -> Any:
    if not raw.strip():
        raise MalformedRequest("a JSON body is required")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedRequest(f"malformed JSON body: {exc}") from None


class RouteTable:
    """The routes of one resource module, with their declarations."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.operations: list[Operation] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        query: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        multipart: bool = False,
        responses: Mapping[int, ResponseSpec] | None = None,
        auth: Auth = "user",
        extra_query: str | None = None,
        links: Mapping[str, Link] | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            operation = Operation(
                method=method,
                path=typed_path(path),
                handler=handler,
                summary=summary,
                tags=(self.tag,),
                query=query,
                body=body,
                multipart=multipart,
                responses=responses or {200: None},
                auth=auth,
                extra_query=extra_query,
                links=links or {},
            )
            self.operations.append(operation)
            return handler

        return register

    def get(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kwargs)


BodyLimit = Callable[[web.Request], int]


def bind(operation: Operation, body_limit: BodyLimit) -> Handler:
    """The aiohttp handler: parse what the operation declares, then call it."""

    async def handle(request: web.Request) -> web.StreamResponse:
        check_ids(request.match_info)
        kwargs: dict[str, Any] = {}
        if operation.query is not None:
            kwargs["query"] = parse_query(operation.query, request)
        if operation.body is not None and not operation.multipart:
            raw = await read_body(request, body_limit(request))
            kwargs["body"] = parse_model(operation.body, decode_json(raw))
        return await operation.handler(request, **kwargs)

    setattr(handle, OPERATION_ATTR, operation)
    handle.__name__ = operation.handler.__name__
    handle.__doc__ = operation.handler.__doc__
    return handle


def operation_of(request: web.Request) -> Operation | None:
    handler = request.match_info.handler
    found = getattr(handler, OPERATION_ATTR, None)
    return found if isinstance(found, Operation) else None


ID_RANGE = range(-(2**31), 2**31)
"""What the database's integer ids can hold (``INTEGER``: 32 bits on PostgreSQL, which
refuses a larger value outright): an id beyond it names nothing."""


INTEGER_IDS = frozenset(name for name, kind in ID_KINDS.items() if kind.integer)
"""The path parameters that are database ids, so the OpenAPI document says ``integer``."""


def int_param(request: web.Request, name: str) -> int:
    """An integer id from the path; one no database row can have is unknown (404)."""
    assert name in INTEGER_IDS, f"{name} is not declared an integer id"
    raw = request.match_info[name]
    try:
        value = int(raw)
    except ValueError:
        raise InvalidValue("must be an integer", field=name) from None
    if value not in ID_RANGE:
        raise NotFound(f"no such {name.removesuffix('_id')}: {raw}", field=name)
    return value


def json_response(model: BaseModel, status: int = 200) -> web.Response:
    return web.Response(
        body=model.model_dump_json(), status=status, content_type="application/json"
    )
