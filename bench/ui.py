"""``python -m bench --only ui``: the dashboard's three speed targets, over the bench's fleet
of synthetic Kubernetes clusters (``bench.clusters``, 20 nodes and 20 Deployments each).

1. The fleet page for 50 clusters of 20 agents, rendered on the server: p50 of ``GET /ui/``
   one request at a time, with a session cookie as a browser sends it (target 50 ms).
2. The weight of a whole page: its HTML and every file under ``/ui/static`` it loads, each
   gzip-compressed as a server or proxy would send it (target 200 KB).
3. A change behind Asgard's back to its showing on an open page: a Deployment scaled in an
   emulator while Debian's Chromium shows ``/ui/apps`` (target 2 s). The page's script
   refreshes at most once a second, so a change can wait up to a second for its turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import re
import statistics
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from bench.load import HEADER, measure
from testbed.asgard_process import RunningAsgard, running_asgard
from testbed.synthetic import NAMESPACE

CLUSTERS = 50
COOKIE = "asgard_session"
CHROMIUM = "/usr/bin/chromium"
ASSET = re.compile(r'(?:src|href)="(/ui/static/[^"]+)"')
TRIALS = 7
ClustersProcess = Callable[..., AbstractAsyncContextManager[dict[str, Any]]]

__all__ = ["dashboard"]


async def log_in(session: aiohttp.ClientSession, asgard: RunningAsgard) -> str:
    """The session token the login page gives for the bench user's key."""
    async with session.post(
        f"{asgard.url}/ui/login", data={"key": asgard.key, "next": "/ui/"}, allow_redirects=False
    ) as response:
        cookie = response.cookies.get(COOKIE)
        if response.status != 303 or cookie is None:
            raise RuntimeError(f"login: {response.status} {await response.text()}")
        return cookie.value


async def page_text(session: aiohttp.ClientSession, url: str, token: str) -> str:
    headers = {"Cookie": f"{COOKIE}={token}", "Accept-Encoding": "identity"}
    async with session.get(url, headers=headers, allow_redirects=False) as response:
        if response.status != 200:
            raise RuntimeError(f"GET {url}: {response.status}")
        return await response.text()


async def settled(session: aiohttp.ClientSession, asgard: RunningAsgard, clusters: int) -> float:
    """Seconds until every cluster's cache is current."""
    started = time.monotonic()
    while time.monotonic() - started < 300:
        async with session.get(f"{asgard.url}/clusters", headers=asgard.headers) as response:
            found = (await response.json())["clusters"]
        if sum(c["cache"] == "current" for c in found) >= clusters:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise RuntimeError("caches not current after 300 s")


async def weight(
    session: aiohttp.ClientSession, asgard: RunningAsgard, token: str, path: str
) -> tuple[int, int, int]:
    """The page's HTML and its static files, gzip-compressed: (HTML, files, files counted)."""
    html = await page_text(session, asgard.url + path, token)
    assets = sorted(set(ASSET.findall(html)))
    sizes = []
    for asset in assets:
        async with session.get(asgard.url + asset) as response:
            sizes.append(len(gzip.compress(await response.read(), 6)))
    return len(gzip.compress(html.encode(), 6)), sum(sizes), len(assets)


@contextlib.asynccontextmanager
async def open_page(asgard: RunningAsgard, token: str, path: str) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
        )
        context = await browser.new_context(base_url=asgard.url)
        await context.add_cookies([{"name": COOKIE, "value": token, "url": asgard.url}])
        page = await context.new_page()
        # a change made before the page listens would never reach it: wait for /events
        async with page.expect_response(lambda r: "/events?" in r.url, timeout=30_000):
            await page.goto(path)
        if "/ui/login" in page.url:
            raise RuntimeError(f"the session cookie was not taken: on {page.url}")
        try:
            yield page
        finally:
            await browser.close()


SHOWN = """([app, desired]) => [...document.querySelectorAll('main tbody tr')].some(
    row => row.textContent.includes(app) && row.textContent.includes('/ ' + desired))"""


async def change_to_screen(asgard: RunningAsgard, token: str, url: str) -> list[float]:
    """Seconds from PATCHing a Deployment's replicas in the emulator to the open apps page
    showing the new count, for each trial."""
    app = "svc-00000"
    path = f"{url}/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{app}"
    took: list[float] = []
    async with (
        open_page(asgard, token, "/ui/apps?cluster=c00") as page,
        aiohttp.ClientSession() as s,
    ):
        await page.wait_for_function(SHOWN, arg=[app, ""], timeout=30_000)
        for trial in range(TRIALS):
            replicas = 20 + trial
            body = {"spec": {"replicas": replicas}, "status": {"readyReplicas": replicas}}
            started = time.perf_counter()
            async with s.patch(
                path, json=body, headers={"Content-Type": "application/merge-patch+json"}
            ) as response:
                response.raise_for_status()
            try:
                await page.wait_for_function(SHOWN, arg=[app, str(replicas)], timeout=30_000)
            except PlaywrightTimeout:
                shown = (await page.inner_text("main"))[:1500]
                raise RuntimeError(f"{app} never showed {replicas}; the page: {shown}") from None
            took.append(time.perf_counter() - started)
            await asyncio.sleep(1.5)  # past the page's once-a-second refresh
    return took


def verdict(met: bool) -> str:
    return "**met**" if met else "**NOT met**"


async def dashboard(folder: Path, clusters_process: ClustersProcess, requests: int) -> list[str]:
    out = [f"### The dashboard: {CLUSTERS} clusters of 20 agents", ""]
    async with clusters_process("--fleet", str(CLUSTERS + 1)) as ready:
        urls = [str(u) for u in ready["fleet"]][:CLUSTERS]  # the last never answers: left out
        configs = [
            {"name": f"c{i:02d}", "kind": "kubernetes", "url": u, "token": "bench", "timeout_s": 10}
            for i, u in enumerate(urls)
        ]
        async with (
            running_asgard(folder / "ui", configs) as asgard,
            aiohttp.ClientSession() as session,
        ):
            token = await log_in(session, asgard)
            await page_text(session, f"{asgard.url}/ui/agents", token)  # the first reads
            synced = await settled(session, asgard, CLUSTERS)
            rows = []
            for path, name in (("/ui/", "fleet"), ("/ui/agents", "agents"), ("/ui/apps", "apps")):
                url = asgard.url + path
                rows.append(
                    await measure(
                        f"`GET {path}` ({name} page)",
                        lambda url=url: page_text(session, url, token),  # type: ignore[misc]
                        requests=requests,
                        concurrency=1,
                    )
                )
            weights = {
                p: await weight(session, asgard, token, p)
                for p in ("/ui/", "/ui/apps", "/ui/clusters/c00/agents/node-00000")
            }
            took = await change_to_screen(asgard, token, urls[0])
    fleet_p50 = rows[0].p50_ms
    heaviest = max(html + files for html, files, _ in weights.values())
    shown = statistics.median(took)
    out += [
        f"Caches current {synced:.1f} s after the first read. Pages asked one at a time, "
        "with the session cookie:",
        "",
        HEADER,
        *[r.row() for r in rows],
        "",
        "| page | HTML gzip KB | its static files gzip KB (count) | total KB |",
        "|---|---:|---:|---:|",
        *[
            f"| `{p}` | {h / 1024:.1f} | {f / 1024:.1f} ({n}) | {(h + f) / 1024:.1f} |"
            for p, (h, f, n) in weights.items()
        ],
        "",
        "Change behind Asgard's back to the open page in Chromium (s): "
        + ", ".join(f"{t:.2f}" for t in took),
        "",
        f"- Fleet page p50 {fleet_p50:.1f} ms (target at most 50 ms): {verdict(fleet_p50 <= 50)}.",
        f"- Heaviest page with its files {heaviest / 1024:.0f} KB gzip (target at most "
        f"200 KB): {verdict(heaviest <= 200 * 1024)}.",
        f"- A change shown in {shown:.2f} s median, {max(took):.2f} s at most (target at "
        f"most 2 s): {verdict(max(took) <= 2)}.",
        "",
    ]
    return out
