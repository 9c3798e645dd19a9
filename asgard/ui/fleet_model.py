"""The fleet page's table: which clusters' lines it shows, in what order, which page.

A view is ``?q=&state=&kind=&sort=&dir=&page=&limit=``, all of it in the URL so that a
view can be bookmarked and shared. Unlike the merged lists, which start again from
their defaults on what they cannot read, the fleet's parameters are checked: a value
no link or form of the page makes (a state that does not exist, a page of ``-1``, a
search of ten thousand characters) is answered with the 422 page naming the parameter,
so a mistyped bookmark says what is wrong rather than showing another view.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Literal
from urllib.parse import urlencode

from multidict import MultiMapping

from asgard.errors import InvalidValue
from asgard.services.fleet_summary import STATES, ClusterSummary

__all__ = [
    "DEFAULT_LIMIT",
    "LIMITS",
    "SORTS",
    "FleetTable",
    "FleetView",
    "fleet_table",
    "read_fleet_view",
]

Direction = Literal["asc", "desc"]
SORTS: Final = ("state", "name", "latency", "contact")
"""``state``: the worst first (down, stale, degraded, unknown, ok), then by name."""
DEFAULT_SORT: Final = "state"
DEFAULT_LIMIT: Final = 50
LIMITS: Final = (25, 50, 100, 200)
"""What the page-size menu offers; any size from 1 to the largest is accepted."""
MAX_PAGE: Final = 1_000_000
MAX_Q: Final = 200
KIND: Final = re.compile(r"[a-z][a-z0-9_-]{0,62}")
PATH: Final = "/ui/"


@dataclass(frozen=True)
class FleetView:
    q: str = ""
    states: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    sort: str = DEFAULT_SORT
    dir: Direction = "asc"
    page: int = 1
    limit: int = DEFAULT_LIMIT

    def query(self, **changes: Any) -> dict[str, str]:
        """This view's parameters (those not at their default), with ``changes``."""
        view = replace(self, **changes)
        values = {
            "q": view.q,
            "state": ",".join(view.states),
            "kind": ",".join(view.kinds),
            "sort": view.sort if view.sort != DEFAULT_SORT else "",
            "dir": view.dir if view.dir != "asc" else "",
            "page": str(view.page) if view.page != 1 else "",
            "limit": str(view.limit) if view.limit != DEFAULT_LIMIT else "",
        }
        return {k: v for k, v in values.items() if v}

    def url(self, **changes: Any) -> str:
        """This view with some of its parts changed; a new filter or sort starts at page 1."""
        changes.setdefault("page", 1)
        query = urlencode(self.query(**changes))
        return f"{PATH}?{query}" if query else PATH

    def sort_url(self, key: str) -> str:
        """The header link: sort by ``key``, or reverse it when it is the sort already."""
        if self.sort == key:
            return self.url(sort=key, dir="desc" if self.dir == "asc" else "asc")
        return self.url(sort=key, dir="asc")

    def aria_sort(self, key: str) -> str:
        if self.sort != key:
            return ""
        return "ascending" if self.dir == "asc" else "descending"

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.states or self.kinds)


def _refused(name: str, why: str) -> InvalidValue:
    return InvalidValue(f"the parameter {name} {why}", field=name)


def _one(query: MultiMapping[str], name: str) -> str | None:
    values = query.getall(name, [])
    if len(values) > 1:
        raise _refused(name, "is given more than once")
    return values[0] if values else None


def _listed(query: MultiMapping[str], name: str, check: Callable[[str], bool]) -> tuple[str, ...]:
    """A filter of several values: repeated, or separated by commas (``state=down,stale``)."""
    found: list[str] = []
    for part in query.getall(name, []):
        for value in part.split(","):
            value = value.strip()
            if not value:
                continue
            if not check(value):
                raise _refused(name, f"has no value {value[:40]!r}")
            if value not in found:
                found.append(value)
    return tuple(found)


def _number(raw: str | None, name: str, default: int, largest: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise _refused(name, "is not a whole number")
    value = int(raw)
    if not 1 <= value <= largest:
        raise _refused(name, f"must be from 1 to {largest}")
    return value


def read_fleet_view(query: MultiMapping[str]) -> FleetView:
    """The view a URL asks for; ``InvalidValue`` (422) naming what cannot be read."""
    q = (_one(query, "q") or "").strip()
    if len(q) > MAX_Q:
        raise _refused("q", f"is longer than {MAX_Q} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in q):
        raise _refused("q", "holds a control character")
    sort = _one(query, "sort") or DEFAULT_SORT
    if sort not in SORTS:
        raise _refused("sort", f"must be one of {', '.join(SORTS)}")
    direction = _one(query, "dir") or "asc"
    if direction not in ("asc", "desc"):
        raise _refused("dir", "must be asc or desc")
    return FleetView(
        q=q,
        states=_listed(query, "state", lambda s: s in STATES),
        kinds=_listed(query, "kind", lambda k: KIND.fullmatch(k) is not None),
        sort=sort,
        dir="desc" if direction == "desc" else "asc",
        page=_number(_one(query, "page"), "page", 1, MAX_PAGE),
        limit=_number(_one(query, "limit"), "limit", DEFAULT_LIMIT, max(LIMITS)),
    )


# the table


@dataclass(frozen=True)
class FleetTable:
    rows: list[ClusterSummary]
    """This page's lines."""
    matching: int
    """How many lines the filters keep, over all pages."""
    page: int
    """The page shown: the one asked for, or the last one when fewer pages are left."""
    pages: int
    first: int
    """The number of this page's first line among those kept (1-based; 0 when none)."""


def _text(row: ClusterSummary) -> str:
    return f"{row.name} {row.kind} {row.version or ''}".lower()


def _epoch(when: datetime | None) -> float:
    return when.timestamp() if when is not None else -math.inf


RANK: Final = {state: i for i, state in enumerate(STATES)}


def _sorted(rows: Iterable[ClusterSummary], sort: str, desc: bool) -> list[ClusterSummary]:
    """Ties by name, always ascending; an unknown latency last either way."""
    sign = -1 if desc else 1
    key: Callable[[ClusterSummary], tuple[Any, ...]]
    if sort == "name":
        return sorted(rows, key=lambda r: r.name, reverse=desc)
    if sort == "latency":
        key = lambda r: (  # noqa: E731
            r.latency_ms is None,
            sign * (r.latency_ms or 0.0),
            r.name,
        )
    elif sort == "contact":
        key = lambda r: (sign * _epoch(r.last_contact_at), r.name)  # noqa: E731
    else:
        key = lambda r: (sign * RANK[r.state], r.name)  # noqa: E731
    return sorted(rows, key=key)


def fleet_table(rows: Sequence[ClusterSummary], view: FleetView) -> FleetTable:
    """The lines the view keeps, in its order, cut to its page."""
    q = view.q.lower()
    kept = [
        r
        for r in rows
        if (not view.states or r.state in view.states)
        and (not view.kinds or r.kind in view.kinds)
        and (not q or q in _text(r))
    ]
    ordered = _sorted(kept, view.sort, view.dir == "desc")
    pages = max(1, math.ceil(len(ordered) / view.limit))
    page = min(view.page, pages)
    start = (page - 1) * view.limit
    shown = ordered[start : start + view.limit]
    return FleetTable(shown, len(ordered), page, pages, start + 1 if shown else 0)
