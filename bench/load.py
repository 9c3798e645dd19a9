"""Closed-loop load: ``concurrency`` callers, each sending its next request when the last
one is answered, until ``requests`` have been sent. Latency is measured per request,
throughput over the whole run."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figures:
    name: str
    requests: int
    concurrency: int
    p50_ms: float
    p99_ms: float
    rps: float

    def row(self) -> str:
        return (
            f"| {self.name} | {self.requests} | {self.concurrency} | {self.p50_ms:,.1f} "
            f"| {self.p99_ms:,.1f} | {self.rps:,.1f} |"
        )


HEADER = (
    "| what | requests | concurrency | p50 ms | p99 ms | requests/s |\n"
    "|---|---:|---:|---:|---:|---:|"
)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: with few samples p99 is the slowest, not an interpolation."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


async def measure(
    name: str, call: Callable[[], Awaitable[object]], *, requests: int, concurrency: int
) -> Figures:
    latencies: list[float] = []
    remaining = requests

    async def caller() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return Figures(
        name=name,
        requests=len(latencies),
        concurrency=concurrency,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        rps=len(latencies) / elapsed,
    )
