"""The clusters the benchmarks run against, served from a process of their own so that
the emulators' work is not counted as Asgard's (nor Asgard's as theirs).

``python -m bench.clusters --nodes 5000 --deployments 2000 --pods 150000 --fleet 50``
prints one JSON line when everything listens: the big cluster's URL, the fleet's URLs
(the last never answers) and how long building took. It serves until its stdin closes,
so it never outlives the benchmark that started it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator

import aiohttp
import kmock

from bench.synthetic import NAMESPACE, Shape, populate
from tests.support.kube import Emulator

FLEET_SHAPE = Shape(nodes=20, deployments=20, pods=200)
CHURN_EVERY_S = 1.0


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A cluster that never answers: it accepts connections, reads nothing, says nothing."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()


async def churn(url: str) -> None:
    """Scale one Deployment up and down through the API, as users do behind Asgard's back,
    so that the watch feeds, caches and event queues have work all along."""
    path = f"{url}/apis/apps/v1/namespaces/{NAMESPACE}/deployments/svc-00000"
    async with aiohttp.ClientSession() as session:
        replicas = 1
        while True:
            replicas = 3 - replicas  # 1, 2, 1, 2, ...
            body = {"spec": {"replicas": replicas}, "status": {"readyReplicas": replicas}}
            async with session.patch(
                path, json=body, headers={"Content-Type": "application/merge-patch+json"}
            ) as response:
                response.raise_for_status()
            await asyncio.sleep(CHURN_EVERY_S)


async def stdin_closed() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


async def serve(big: Shape | None, fleet: int, churned: bool) -> None:
    started = time.monotonic()
    async with contextlib.AsyncExitStack() as stack:
        ready: dict[str, object] = {}
        if big is not None:
            emulator = await stack.enter_async_context(Emulator(forget_requests=True))
            populate(emulator, big)
            server = await stack.enter_async_context(kmock.Server(emulator))
            ready["big"] = str(server.url).rstrip("/")
        urls: list[str] = []
        for _ in range(max(fleet - 1, 0)):
            small = await stack.enter_async_context(Emulator(forget_requests=True))
            populate(small, FLEET_SHAPE)
            urls.append(str((await stack.enter_async_context(kmock.Server(small))).url))
        if fleet:
            urls.append(await stack.enter_async_context(silent_server()))
        ready["fleet"] = [u.rstrip("/") for u in urls]
        ready["built_s"] = round(time.monotonic() - started, 1)
        tasks = []
        if churned:
            for url in [ready.get("big"), *urls[:1]]:
                if isinstance(url, str):
                    tasks.append(asyncio.create_task(churn(url.rstrip("/"))))
        print(json.dumps(ready), flush=True)
        await stdin_closed()
        for task in tasks:
            task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.clusters", description=__doc__)
    parser.add_argument("--nodes", type=int, default=0)
    parser.add_argument("--deployments", type=int, default=0)
    parser.add_argument("--pods", type=int, default=0)
    parser.add_argument("--fleet", type=int, default=0, help="clusters; the last never answers")
    parser.add_argument("--churn", action="store_true", help="scale a deployment every second")
    options = parser.parse_args()
    big = Shape(options.nodes, options.deployments, options.pods) if options.nodes else None
    asyncio.run(serve(big, options.fleet, options.churn))


if __name__ == "__main__":
    main()
