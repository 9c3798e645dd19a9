"""``python -m bench --only fleet-page``: the fleet page over a thousand clusters.

Issue 26's target: the fleet page at most 100 ms on the server and at most 200 KB
compressed for 1,000 clusters. The page reads what Asgard holds of each cluster, not the
cluster, so the clusters are small (``--page-shape``, 3 nodes and 6 pods in 2
Deployments each by default) and what is measured is Asgard's work per cluster: the
emulated Kubernetes clusters, one that never answers, and ten whose port is closed (the
down ones, which the page shows first).

Measured, one request at a time, with the session cookie and ``Accept-Encoding: gzip``
as a browser sends them, once every cluster's cache is current: the server's time
(``duration_ms`` of the request's line in Asgard's JSON log, p50 of ``--requests``),
the time the client saw, and the body's size as sent (gzip). For several views: the
default (the down ones first), a search, a filter, a later page, a sort.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiohttp

from bench.ui import ASSET, COOKIE, log_in, verdict
from testbed.asgard_process import RunningAsgard, free_port, running_asgard

ClustersProcess = Callable[..., AbstractAsyncContextManager[dict[str, Any]]]
REFUSED = 10
"""Clusters whose port nobody listens on: down from the first probe."""
TARGET_MS = 100
TARGET_KB = 200
VIEWS = (
    ("/ui/", "default: the down ones first, then by name"),
    ("/ui/?q=k05", "a search"),
    ("/ui/?state=ok&kind=kubernetes", "filtered by state and kind"),
    ("/ui/?page=10", "page 10"),
    ("/ui/?sort=latency&dir=desc&limit=200", "sorted by latency, 200 a page"),
)

__all__ = ["fleet_page"]


async def _current(session: aiohttp.ClientSession, asgard: RunningAsgard, wanted: int) -> float:
    """Seconds until ``wanted`` clusters' caches are current."""
    started = time.monotonic()
    while time.monotonic() - started < 600:
        async with session.get(f"{asgard.url}/clusters", headers=asgard.headers) as response:
            if response.status == 200:
                found = (await response.json())["clusters"]
                if sum(c["cache"] == "current" for c in found) >= wanted:
                    return time.monotonic() - started
        await asyncio.sleep(1)
    raise RuntimeError("caches not current after 600 s")


async def _health(session: aiohttp.ClientSession, asgard: RunningAsgard) -> None:
    for _ in range(600):
        try:
            async with session.get(f"{asgard.url}/health") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    raise RuntimeError("no /health after 300 s")


async def _get(
    session: aiohttp.ClientSession, asgard: RunningAsgard, token: str, path: str, rid: str = ""
) -> tuple[float, bytes, str]:
    """(ms the client waited, the body as sent, its Content-Encoding); ``rid``: the request
    id Asgard logs the request's duration under."""
    headers = {"Cookie": f"{COOKIE}={token}", "Accept-Encoding": "gzip"}
    if rid:
        headers["X-Request-Id"] = rid
    started = time.perf_counter()
    async with session.get(asgard.url + path, headers=headers, allow_redirects=False) as response:
        body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
        took = (time.perf_counter() - started) * 1000
        return took, body, response.headers.get("Content-Encoding", "identity")


def _server_ms(log: Path, prefix: str) -> list[float]:
    """The durations Asgard logged for the requests whose id starts with ``prefix``."""
    found = []
    for line in log.read_text().splitlines():
        if prefix not in line:
            continue
        entry = json.loads(line)
        if entry.get("event") == "request" and entry.get("request_id", "").startswith(prefix):
            found.append(float(entry["duration_ms"]))
    return found


def _p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def fleet_page(
    folder: Path, clusters_process: ClustersProcess, clusters: int, shape: str, requests: int
) -> list[str]:
    emulated = clusters - REFUSED - 1
    nodes, deployments, pods = (int(n) for n in shape.split(","))
    out = [
        f"### The fleet page: {clusters:,} clusters ({emulated:,} emulated Kubernetes clusters "
        f"of {nodes} nodes and {pods} pods in {deployments} Deployments, one that never "
        f"answers, {REFUSED} refusing)",
        "",
    ]
    started = time.monotonic()
    async with clusters_process("--fleet", str(emulated + 1), "--fleet-shape", shape) as ready:
        urls = [str(u) for u in ready["fleet"]]
        configs: list[dict[str, Any]] = [
            {"name": f"k{i:04d}", "kind": "kubernetes", "url": u, "token": "b", "timeout_s": 10}
            for i, u in enumerate(urls[:-1])
        ]
        configs.append({"name": "silent", "kind": "kubernetes", "url": urls[-1], "token": "b"})
        configs[-1]["timeout_s"] = 1
        closed = [free_port() for _ in range(REFUSED)]  # free: nothing listens there
        configs += [
            {"name": f"gone-{i}", "kind": "kubernetes", "url": f"http://127.0.0.1:{port}"}
            | {"token": "b", "timeout_s": 1}
            for i, port in enumerate(closed)
        ]
        built = time.monotonic() - started
        async with (
            running_asgard(folder / "fleet-page", configs) as asgard,
            aiohttp.ClientSession(auto_decompress=False) as session,
        ):
            await _health(session, asgard)
            token = await log_in(session, asgard)
            first_ms, _, _ = await _get(session, asgard, token, "/ui/")
            synced = await _current(session, asgard, emulated)
            rows = []
            for n, (path, what) in enumerate(VIEWS):
                rid = f"bench-fleet-page-{n}-"
                client = [
                    (await _get(session, asgard, token, path, f"{rid}{i}"))[0]
                    for i in range(requests)
                ]
                _, body, encoding = await _get(session, asgard, token, path)
                server = _server_ms(asgard.log, rid)
                rows.append((path, what, _p50(server), max(server), _p50(client), body, encoding))
            _, html, _ = await _get(session, asgard, token, "/ui/")
            assets = sorted(set(ASSET.findall(gzip.decompress(html).decode())))
            files = 0
            for asset in assets:
                async with session.get(asgard.url + asset) as response:
                    files += len(gzip.compress(await response.read(), 6))
            memory = asgard.rss_mib()
    default = rows[0]
    heaviest = max(len(r[5]) for r in rows)
    out += [
        f"Clusters built in {built:.0f} s; the first fleet page (every cache loaded for the "
        f"account) took {first_ms / 1000:.1f} s; every emulated cluster's cache current "
        f"{synced:.0f} s later. Asgard's resident memory: {memory:.0f} MiB. Each view asked "
        f"{requests} times, one at a time:",
        "",
        "| view | server p50 ms | server max ms | client p50 ms | body as sent KB |",
        "|---|---:|---:|---:|---:|",
        *[
            f"| `{p}` ({w}) | {s:.1f} | {m:.1f} | {c:.1f} | {len(b) / 1024:.1f} ({e}) |"
            for p, w, s, m, c, b, e in rows
        ],
        "",
        f"The page's static files, gzip: {files / 1024:.1f} KB ({len(assets)} files), "
        "cached by the browser for a year (their names carry their versions).",
        "",
        f"- Fleet page p50 on the server {default[2]:.1f} ms (target at most {TARGET_MS} ms): "
        f"{verdict(default[2] <= TARGET_MS)}.",
        f"- Heaviest view as sent {heaviest / 1024:.1f} KB gzip, "
        f"{(heaviest + files) / 1024:.1f} KB with its static files (target at most "
        f"{TARGET_KB} KB): {verdict(heaviest + files <= TARGET_KB * 1024)}.",
        "",
    ]
    return out
