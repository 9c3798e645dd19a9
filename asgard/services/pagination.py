"""``limit`` and ``cursor`` for every list, in a stable order.

The cursor is opaque to clients: the sort key of the last item returned,
encoded. Because it names a position and not an offset, an item added or
removed between two pages does not make the next page skip or repeat others.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from asgard.backends.orchestrator import Listing
from asgard.errors import InvalidValue
from asgard.models import ClusterErrorInfo

T = TypeVar("T")
Key = tuple[str | int, ...]


class Placed(Protocol):
    """What every multi-cluster list holds: items named by (cluster, id)."""

    @property
    def cluster(self) -> str: ...

    @property
    def id(self) -> str: ...


P = TypeVar("P", bound=Placed)

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    next_cursor: str | None


@dataclass(frozen=True)
class ClusterPage(Generic[T]):
    """A page of a multi-cluster list, with the clusters' errors and the age of each answer."""

    page: Page[T]
    errors: list[ClusterErrorInfo]
    as_of: dict[str, datetime]


def cluster_then_id(item: Placed) -> Key:
    return item.cluster, item.id


def page_of(
    listing: Listing[P], limit: int, cursor: str | None, items: Sequence[P] | None = None
) -> ClusterPage[P]:
    """A page of what a fan-out found (of ``items`` when the service kept some of them),
    in (cluster, id) order, with the listing's errors and ages."""
    found = listing.items if items is None else items
    return ClusterPage(
        page=paginate(found, cluster_then_id, limit, cursor),
        errors=listing.errors,
        as_of=listing.as_of,
    )


def encode_cursor(key: Key) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidValue("cursor is not one this API gave out", field="cursor") from None
    if not isinstance(key, list) or not all(isinstance(k, str | int) for k in key):
        raise InvalidValue("cursor is not one this API gave out", field="cursor")
    return tuple(key)


def paginate(
    items: Sequence[T], key: Callable[[T], Key], limit: int, cursor: str | None
) -> Page[T]:
    """One page of ``items`` in ``key`` order, after the position ``cursor`` names."""
    ordered = sorted(items, key=key)
    if cursor is not None:
        after = decode_cursor(cursor)
        try:
            ordered = [item for item in ordered if key(item) > after]
        except TypeError:
            raise InvalidValue("cursor does not belong to this list", field="cursor") from None
    page = ordered[:limit]
    more = len(ordered) > limit
    return Page(
        items=page, total=len(items), next_cursor=encode_cursor(key(page[-1])) if more else None
    )


def after_id(cursor: str | None) -> int | None:
    """For lists ordered by integer id, kept in the database: the id to start after."""
    if cursor is None:
        return None
    key = decode_cursor(cursor)
    if len(key) != 1 or not isinstance(key[0], int) or not -(2**63) <= key[0] < 2**63:
        raise InvalidValue("cursor does not belong to this list", field="cursor")
    # Ids are 32-bit integers (PostgreSQL refuses a larger value outright): a position
    # beyond them comes after, or before, every row there is.
    return max(min(key[0], 2**31 - 1), -(2**31))


def id_page(rows: list[T], total: int, limit: int, last_id: Callable[[T], int]) -> Page[T]:
    """A page read from the database: ``rows`` holds up to ``limit + 1`` rows after the cursor."""
    items = rows[:limit]
    more = len(rows) > limit
    return Page(
        items=items, total=total, next_cursor=encode_cursor((last_id(items[-1]),)) if more else None
    )
