"""What the benchmarks share: the clusters process, Asgard's answers, direct clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from kubernetes_asyncio import client as k8s

from testbed.asgard_process import RunningAsgard

__all__ = [
    "body_of",
    "clusters_process",
    "direct_client",
    "get",
    "kube_cluster",
    "timed",
    "until_current",
]


# the processes


@contextlib.asynccontextmanager
async def clusters_process(*arguments: str) -> AsyncIterator[dict[str, Any]]:
    """``python -m bench.clusters``; yields what it printed once ready."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.clusters",
        *arguments,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stdin is not None
    try:
        line = await process.stdout.readline()
        if not line:
            raise RuntimeError("the clusters process died before it was ready")
        yield dict(json.loads(line))
    finally:
        process.stdin.close()  # it serves until its stdin closes
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


def kube_cluster(name: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "kubernetes", "url": url, "token": "bench", **extra}


@contextlib.asynccontextmanager
async def direct_client(url: str) -> AsyncIterator[k8s.ApiClient]:
    configuration = k8s.Configuration(host=url)
    configuration.api_key = {"BearerToken": "Bearer bench"}
    async with k8s.ApiClient(configuration) as api:
        yield api


# talking to Asgard


async def get(session: aiohttp.ClientSession, asgard: RunningAsgard, path: str) -> Any:
    return json.loads(await body_of(session, asgard, path))


async def body_of(session: aiohttp.ClientSession, asgard: RunningAsgard, path: str) -> bytes:
    """The answer's bytes, not parsed: what the server's side of a request costs."""
    async with session.get(f"{asgard.url}{path}", headers=asgard.headers) as response:
        body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:2000]!r}")
        return body


async def until_current(
    session: aiohttp.ClientSession, asgard: RunningAsgard, clusters: int, limit_s: float
) -> float:
    """Seconds until ``clusters`` clusters say their cache is current."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        found = (await get(session, asgard, "/clusters"))["clusters"]
        if sum(c["cache"] == "current" for c in found) >= clusters:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise RuntimeError(f"caches not current after {limit_s:g} s")


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await call()
    return time.perf_counter() - started, result
