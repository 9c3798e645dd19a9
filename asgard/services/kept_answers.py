"""The last few answers made from cached listings, kept by what they were made of.

A listing answered from caches names itself (``Listing.version``: every cluster's cache
entry version, never reused), so the same request over the same versions has the same
answer: the filtered, summed and sorted page is made once per change of the caches, not
once per request. Five thousand agents cost a few milliseconds to sort and sum again,
which is most of what ``GET /agents?limit=5000`` took once their JSON was kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["KeptAnswers"]

V = TypeVar("V")


class KeptAnswers(Generic[V]):
    """The ``limit`` answers asked for most recently, by key; a key of None is never kept
    (a listing read live, or with a cluster failing, names nothing)."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._kept: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable | None) -> V | None:
        if key is None:
            return None
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
        return found

    def put(self, key: Hashable | None, answer: V) -> V:
        if key is not None:
            self._kept[key] = answer
            self._kept.move_to_end(key)
            if len(self._kept) > self.limit:
                self._kept.popitem(last=False)
        return answer
