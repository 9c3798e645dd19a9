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

import kmock

from testbed.kube import Emulator
from testbed.silent import silent_server
from testbed.synthetic import Shape, churn, populate

FLEET_SHAPE = Shape(nodes=20, deployments=20, pods=200)


async def stdin_closed() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


async def serve(big: Shape | None, fleet: int, churned: bool, shape: Shape = FLEET_SHAPE) -> None:
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
            populate(small, shape)
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
    parser.add_argument(
        "--fleet-shape",
        default="20,20,200",
        help="each fleet cluster's nodes, deployments and pods (default 20,20,200)",
    )
    options = parser.parse_args()
    big = Shape(options.nodes, options.deployments, options.pods) if options.nodes else None
    nodes, deployments, pods = (int(n) for n in options.fleet_shape.split(","))
    asyncio.run(serve(big, options.fleet, options.churn, Shape(nodes, deployments, pods)))


if __name__ == "__main__":
    main()
