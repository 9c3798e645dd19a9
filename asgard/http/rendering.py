"""Lists answered from caches are turned into JSON once per change, not once per request.

A cached listing hands out the same item objects until its cluster changes them (the
cache then holds new ones), so each item's JSON is made the first time it is sent and
kept with it (``Fragments``). An answer is the list's envelope, made per request (its
totals, cursor, errors, ages), with the items' kept JSON put in place of its first field.
Turning a hundred agents into JSON was most of what ``GET /agents`` cost.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from asgard.services.pagination import ClusterPage

__all__ = ["BODIES", "FRAGMENTS", "Bodies", "Fragments", "list_response", "page_response"]


class Fragments:
    """Each item's JSON by the item itself, for the ``limit`` items sent most recently.
    The entry holds the item, so its ``id`` cannot be reused while the entry lives."""

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._kept: OrderedDict[int, tuple[BaseModel, str]] = OrderedDict()

    def of(self, item: BaseModel) -> str:
        key = id(item)
        found = self._kept.get(key)
        if found is not None and found[0] is item:
            self._kept.move_to_end(key)
            return found[1]
        text = item.model_dump_json()
        self._kept[key] = (item, text)
        if len(self._kept) > self.limit:
            self._kept.popitem(last=False)
        return text


FRAGMENTS = Fragments()


class Bodies:
    """Whole answers by the page they were made of: a service that hands out the same
    page again (``KeptAnswers``) has the same answer, and ``/agents?limit=5000`` is then
    the join of its 5,000 items' JSON once, not per request. A body lives as long as its
    page (held weakly: once the service lets an old page go, its body goes too), and at
    most ``limit`` are kept."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._kept: OrderedDict[int, tuple[weakref.ref[object], bytes]] = OrderedDict()

    def get(self, page: object) -> bytes | None:
        found = self._kept.get(id(page))
        if found is None or found[0]() is not page:
            return None
        self._kept.move_to_end(id(page))
        return found[1]

    def put(self, page: object, body: bytes) -> bytes:
        key = id(page)

        def gone(ref: weakref.ref[object]) -> None:
            kept = self._kept.get(key)
            if kept is not None and kept[0] is ref:
                del self._kept[key]

        self._kept[key] = (weakref.ref(page, gone), body)
        self._kept.move_to_end(key)
        if len(self._kept) > self.limit:
            self._kept.popitem(last=False)
        return body

    def __len__(self) -> int:
        return len(self._kept)


BODIES = Bodies()


def list_response(
    model: type[BaseModel],
    items: Sequence[BaseModel],
    page: object | None = None,
    **rest: Any,
) -> web.Response:
    """The answer ``model(**{first field: items}, **rest)`` would be, made from kept JSON;
    with ``page`` (what ``items`` and ``rest`` were taken from, never changed after), the
    answer made for that page before."""
    if page is not None:
        kept = BODIES.get(page)
        if kept is not None:
            return web.Response(body=kept, content_type="application/json", charset="utf-8")
    body = _list_body(model, items, **rest).encode()
    if page is not None:
        BODIES.put(page, body)
    return web.Response(body=body, content_type="application/json", charset="utf-8")


def _list_body(model: type[BaseModel], items: Sequence[BaseModel], **rest: Any) -> str:
    field = next(iter(model.model_fields))
    envelope = model(**{field: []}, **rest).model_dump_json()
    empty = f'{{"{field}":[]'
    if not envelope.startswith(empty):  # pragma: no cover - the first field is the list
        return model(**{field: items}, **rest).model_dump_json()
    body = f'{{"{field}":[' + ",".join(FRAGMENTS.of(i) for i in items) + "]"
    return body + envelope[len(empty) :]


def page_response(
    model: type[BaseModel], found: ClusterPage[Any], *, cached: bool = False, **extra: Any
) -> web.Response:
    """The answer of a list across clusters: the page's items as the model's first field,
    then what such an answer carries, as far as the model declares it (the clusters'
    ``errors``, ``next_cursor``, ``total``, ``as_of``), and ``extra``. With ``cached``
    (items handed out by a cluster's cache, the same objects until they change), each
    item's JSON is kept with it, and the whole answer with its page."""
    envelope = {
        "errors": found.errors,
        "next_cursor": found.page.next_cursor,
        "total": found.page.total,
        "as_of": found.as_of,
        **extra,
    }
    declared = {k: v for k, v in envelope.items() if k in model.model_fields}
    if cached:
        return list_response(model, found.page.items, found, **declared)
    first = next(iter(model.model_fields))
    body = model(**{first: found.page.items}, **declared).model_dump_json()
    return web.Response(body=body, content_type="application/json")
