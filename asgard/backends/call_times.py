"""How long the calls to one cluster took, by kind of call, in a few fixed buckets.

Every call the guard runs (``ClusterGuard.guarded``) is counted here, answered or failed,
so that ``/metrics`` can give each cluster's latency as a Prometheus histogram. It is a
handful of integers per cluster, read at scrape time: noting a call costs one bisection
and two additions, and a thousand clusters cost nothing to keep. The buckets are few on
purpose: at a thousand clusters every bucket is a thousand more series.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = ["BUCKETS_S", "CALL_KINDS", "CallKind", "CallTimes", "Tally"]

CallKind = Literal["read", "write"]
CALL_KINDS: Final[tuple[CallKind, ...]] = ("read", "write")
BUCKETS_S: Final[tuple[float, ...]] = (0.01, 0.05, 0.25, 1.0, 5.0)
"""Upper bounds, in seconds: a call answered from nearby, a normal one, a slow one, one
near the default timeout (5 s), and beyond (``+Inf``, which Prometheus adds)."""


@dataclass
class Tally:
    """The calls of one kind: how many fell in each bucket (the last one past every
    bound), how many in all, and their summed time."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_S) + 1))
    count: int = 0
    sum_s: float = 0.0

    def cumulative(self) -> list[int]:
        """Calls at or under each bound, ``+Inf`` last: what Prometheus' buckets hold."""
        total, found = 0, []
        for n in self.counts:
            total += n
            found.append(total)
        return found


class CallTimes:
    """One cluster's calls, by kind."""

    def __init__(self) -> None:
        self.tallies: dict[CallKind, Tally] = {}

    def observe(self, kind: CallKind, seconds: float) -> None:
        tally = self.tallies.get(kind)
        if tally is None:
            tally = self.tallies[kind] = Tally()
        tally.counts[bisect.bisect_left(BUCKETS_S, seconds)] += 1
        tally.count += 1
        tally.sum_s += seconds
