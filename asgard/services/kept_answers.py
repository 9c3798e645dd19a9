"""The last few answers made from cached listings, kept by the question they answer.

A listing answered from caches names itself (``Listing.version``: every cluster's cache
entry version, never reused), so the same question over the same versions has the same
answer: the filtered, summed and sorted page is made once per change of the caches, not
once per request. Five thousand agents cost a few milliseconds to sort and sum again,
which was most of what ``GET /agents?limit=5000`` took once their JSON was kept.

One answer is kept per question, the newest: an answer over older versions is
replaced, never kept beside it, so a cluster that changes all the time does not make
Asgard hold one old page (and its body) per change.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["KeptAnswers"]

V = TypeVar("V")


class KeptAnswers(Generic[V]):
    """For the ``limit`` questions asked most recently, the answer over the newest
    version; a version of None is never kept (a listing read live, or with a cluster
    failing, names nothing)."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._kept: OrderedDict[Hashable, tuple[Hashable, V]] = OrderedDict()

    def get(self, question: Hashable, version: Hashable | None) -> V | None:
        if version is None:
            return None
        found = self._kept.get(question)
        if found is None or found[0] != version:
            return None
        self._kept.move_to_end(question)
        return found[1]

    def forget(self, kept_over: Callable[[Hashable], bool]) -> None:
        """Drop the answers whose version ``kept_over`` names (a cluster no longer served:
        no question can be answered over its versions again, and its items must go)."""
        for question in [q for q, (v, _) in self._kept.items() if kept_over(v)]:
            del self._kept[question]

    def put(self, question: Hashable, version: Hashable | None, answer: V) -> V:
        if version is None:
            self._kept.pop(question, None)  # what it held is older than this answer
            return answer
        self._kept[question] = (version, answer)
        self._kept.move_to_end(question)
        if len(self._kept) > self.limit:
            self._kept.popitem(last=False)
        return answer
