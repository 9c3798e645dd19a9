"""Lists answered from caches are turned into JSON once per change, not once per request.

A cached listing hands out the same item objects until its cluster changes them (the
cache then holds new ones), so each item's JSON is made the first time it is sent and
kept with it (``Fragments``). An answer is the list's envelope, made per request (its
totals, cursor, errors, ages), with the items' kept JSON put in place of its first field.
Turning a hundred agents into JSON was most of what ``GET /agents`` cost.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from pydantic import BaseModel

__all__ = ["FRAGMENTS", "Fragments", "list_response"]


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


def list_response(model: type[BaseModel], items: Sequence[BaseModel], **rest: Any) -> web.Response:
    """The answer ``model(**{first field: items}, **rest)`` would be, made from kept JSON."""
    field = next(iter(model.model_fields))
    envelope = model(**{field: []}, **rest).model_dump_json()
    empty = f'{{"{field}":[]'
    if not envelope.startswith(empty):  # pragma: no cover - the first field is the list
        return web.Response(
            text=model(**{field: items}, **rest).model_dump_json(),
            content_type="application/json",
        )
    body = f'{{"{field}":[' + ",".join(FRAGMENTS.of(i) for i in items) + "]"
    return web.Response(text=body + envelope[len(empty) :], content_type="application/json")
