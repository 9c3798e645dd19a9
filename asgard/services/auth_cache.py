"""What authentication read from the database, kept in the process for a few seconds.

Every request is authenticated; reading its key, its user and the user's memberships
from the database each time made the database the bottleneck of every read. So what
was read is kept for ``ttl_s`` (``ASGARD_AUTH_CACHE_S``, 5 s by default): a change made
through this process (a key deleted, a user removed, a role changed) empties the cache
at once, and one made by another process sharing the database takes effect within
``ttl_s``. Only what was found is kept: a key that matched nothing is never remembered,
so guessing keys cannot fill the memory, and the number of entries is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from asgard.models import AccountWithRole, User

__all__ = ["AuthCache", "StoredKey"]

T = TypeVar("T")
K = TypeVar("K")
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class StoredKey:
    """An API key as its row says: compared against the hash of what a client sent."""

    key_id: int
    key_hash: str
    user_id: int


@dataclass(frozen=True)
class _Kept(Generic[T]):
    value: T
    at: float


class _Shelf(Generic[K, T]):
    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self.items: dict[K, _Kept[T]] = {}

    def get(self, key: K) -> T | None:
        kept = self.items.get(key)
        if kept is None or time.monotonic() - kept.at >= self.ttl_s:
            return None
        return kept.value

    def put(self, key: K, value: T) -> T:
        if self.ttl_s > 0:
            if len(self.items) >= MAX_ENTRIES:
                self.items.clear()  # rare: simpler than an LRU, and only costs re-reads
            self.items[key] = _Kept(value, time.monotonic())
        return value

    async def through(self, key: K, read: Callable[[], Awaitable[T]]) -> T:
        found = self.get(key)
        return found if found is not None else self.put(key, await read())


class AuthCache:
    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self.keys: _Shelf[str, StoredKey] = _Shelf(ttl_s)
        """By the key's prefix."""
        self.users: _Shelf[int, User] = _Shelf(ttl_s)
        self.memberships: _Shelf[int, list[AccountWithRole]] = _Shelf(ttl_s)
        self.key_owners: _Shelf[int, int] = _Shelf(ttl_s)
        """A key's user by the key's id (0: no such key), for the JWTs made from it."""
        self.touched: dict[int, float] = {}
        """When this process last wrote a key's ``last_used_at`` (monotonic)."""

    def forget(self) -> None:
        """Something about keys, users, accounts or memberships changed: read them again."""
        self.keys.items.clear()
        self.users.items.clear()
        self.memberships.items.clear()
        self.key_owners.items.clear()
