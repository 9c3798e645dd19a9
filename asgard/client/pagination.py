"""Following ``next_cursor`` so a caller reads a whole list without counting pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

__all__ = ["Paged", "each", "pages"]


class Paged(Protocol):
    @property
    def next_cursor(self) -> str | None: ...


P = TypeVar("P", bound=Paged)
T = TypeVar("T")


async def pages(fetch: Callable[[str | None], Awaitable[P]]) -> AsyncIterator[P]:
    """Every page, the first one fetched with no cursor, until ``next_cursor`` is null."""
    cursor: str | None = None
    while True:
        page = await fetch(cursor)
        yield page
        cursor = page.next_cursor
        if not cursor:
            return


async def each(
    fetch: Callable[[str | None], Awaitable[P]], items: Callable[[P], Sequence[T]]
) -> AsyncIterator[T]:
    """Every item of every page, in the server's order (cluster, then id)."""
    async for page in pages(fetch):
        for item in items(page):
            yield item
