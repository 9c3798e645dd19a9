"""Slowing down guessing: bad credentials from one address, too often, are told to wait.

After ``limit`` failed authentications from one address within ``window_s``, further
*failures* from it are answered 429 with ``Retry-After`` instead of 401, until the
oldest of them leaves the window. Credentials are still checked first, so whoever holds
a good key is never turned away, even behind the same address as someone guessing.
Memory stays bounded: only addresses that failed are kept, and at most ``MAX_ADDRESSES``.
"""

from __future__ import annotations

import math
import time
from collections import deque

__all__ = ["FailureThrottle"]

MAX_ADDRESSES = 10_000


class FailureThrottle:
    def __init__(self, limit: int = 20, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self.failures: dict[str, deque[float]] = {}

    def failed(self, address: str) -> int | None:
        """Count a failure; the seconds to wait when the address is over its limit."""
        now = time.monotonic()
        seen = self.failures.get(address)
        if seen is None:
            if len(self.failures) >= MAX_ADDRESSES:
                self._forget_idle(now)
            seen = self.failures[address] = deque()
        while seen and now - seen[0] >= self.window_s:
            seen.popleft()
        seen.append(now)
        if len(seen) <= self.limit:
            return None
        return max(1, math.ceil(self.window_s - (now - seen[-self.limit - 1])))

    def _forget_idle(self, now: float) -> None:
        idle = [
            a for a, seen in self.failures.items() if not seen or now - seen[-1] >= self.window_s
        ]
        for address in idle or list(self.failures):
            del self.failures[address]
