"""Filters, sorting and pages of the merged tables, all kept in the URL query.

A view is ``?cluster=&kind=&state=&q=&sort=&dir=&cursor=&limit=``: a link to it shows
the same rows to whoever opens it. Rows come from every cluster, are filtered and
sorted here, then paged with the services' own cursors (``paginate``): a cursor names
the position of the last row shown, so a row added meanwhile never shifts a page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import urlencode

from aiohttp import web

from asgard.errors import InvalidValue
from asgard.services.pagination import Key, Page, paginate

__all__ = ["TableSpec", "View", "epoch", "page_rows", "read_view", "scaled"]

T = TypeVar("T")
Direction = Literal["asc", "desc"]
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class View:
    path: str
    cluster: tuple[str, ...] = ()
    kind: str = ""
    state: str = ""
    q: str = ""
    sort: str = ""
    dir: Direction = "asc"
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT

    def query(self, **changes: Any) -> dict[str, str]:
        view = replace(self, **changes)
        values = {
            "cluster": ",".join(view.cluster),
            "kind": view.kind,
            "state": view.state,
            "q": view.q,
            "sort": view.sort,
            "dir": view.dir if view.sort else "",
            "cursor": view.cursor or "",
            "limit": str(view.limit) if view.limit != DEFAULT_LIMIT else "",
        }
        return {k: v for k, v in values.items() if v}

    def url(self, **changes: Any) -> str:
        """This view with some of its parts changed; a new filter or sort starts at page 1."""
        changes.setdefault("cursor", None)
        query = urlencode(self.query(**changes))
        return f"{self.path}?{query}" if query else self.path

    def sort_url(self, key: str, first: Direction = "asc") -> str:
        """The header link: sort by ``key``, or reverse it when it is the sort already."""
        if self.sort == key:
            return self.url(sort=key, dir="desc" if self.dir == "asc" else "asc")
        return self.url(sort=key, dir=first)

    def aria_sort(self, key: str) -> str:
        if self.sort != key:
            return ""
        return "ascending" if self.dir == "asc" else "descending"


def read_view(request: web.Request) -> View:
    """The view a URL asks for; what cannot be read is left at its default."""
    query = request.query
    clusters = tuple(c for part in query.getall("cluster", []) for c in part.split(",") if c)
    try:
        limit = max(1, min(MAX_LIMIT, int(query.get("limit", DEFAULT_LIMIT))))
    except ValueError:
        limit = DEFAULT_LIMIT
    direction: Direction = "desc" if query.get("dir") == "desc" else "asc"
    return View(
        path=request.path,
        cluster=clusters,
        kind=query.get("kind", "").strip(),
        state=query.get("state", "").strip(),
        q=query.get("q", "").strip(),
        sort=query.get("sort", "").strip(),
        dir=direction,
        cursor=query.get("cursor") or None,
        limit=limit,
    )


@dataclass(frozen=True)
class TableSpec(Generic[T]):
    """How one table reads its rows: where each lives, its state, its words, its sorts."""

    cluster: Callable[[T], str]
    id: Callable[[T], str]
    state: Callable[[T], str]
    text: Callable[[T], str]
    sorts: Mapping[str, Callable[[T], int]] = field(default_factory=dict)
    states: Sequence[str] = ()
    matches_state: Callable[[T, str], bool] | None = None


def keep(spec: TableSpec[T], view: View, kinds: Mapping[str, str], row: T) -> bool:
    cluster = spec.cluster(row)
    if view.kind and kinds.get(cluster) != view.kind:
        return False
    if view.state:
        test = spec.matches_state
        if not (test(row, view.state) if test else spec.state(row) == view.state):
            return False
    return not view.q or view.q.lower() in spec.text(row).lower()


def page_rows(
    spec: TableSpec[T], view: View, kinds: Mapping[str, str], rows: Sequence[T]
) -> Page[T]:
    """The rows of this page: filtered, sorted (ties by cluster, then id), then paged."""
    kept = [r for r in rows if keep(spec, view, kinds, r)]
    sort = spec.sorts.get(view.sort)
    sign = -1 if view.dir == "desc" else 1

    def key(row: T) -> Key:
        first = sign * sort(row) if sort is not None else 0
        return first, spec.cluster(row), spec.id(row)

    try:
        return paginate(kept, key, view.limit, view.cursor)
    except InvalidValue:  # a cursor of another sort, or a mangled link: start again
        return paginate(kept, key, view.limit, None)


def epoch(when: datetime | None) -> int:
    """For sorting by age: a time as whole seconds, the unknown last (oldest)."""
    return int(when.timestamp()) if when is not None else 0


def scaled(value: float | None) -> int:
    """A float as an int that sorts the same (the cursor holds ints and strings only)."""
    return round((value or 0.0) * 1000)
