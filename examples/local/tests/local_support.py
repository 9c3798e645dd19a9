"""What the local kind's tests share: a cluster on a temporary state folder, built the
way Asgard builds one (``assemble``, through the entry point), and waiting with a
deadline for what the supervisor does in the background."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from asgard_local.apps import LocalAppsBackend
from asgard_local.config import LocalClusterConfig
from asgard_local.host import LocalHost

from asgard.backends.cluster import Cluster
from asgard.backends.contract import Backend
from asgard.backends.orchestrator import Orchestrator
from asgard.backends.registry import BackendContext
from asgard.clusters import assemble
from asgard.events import EventHub
from asgard.models import Account

DEV = Account(id=1, name="dev", namespace="dev")
OPS = Account(id=2, name="ops", namespace="ops")
SETTLE_S = 30.0
POLL_S = 0.1

T = TypeVar("T")
P = ParamSpec("P")
B = TypeVar("B", bound=Backend)


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = SETTLE_S
) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(POLL_S)


@dataclass
class Running:
    orchestrator: Orchestrator
    cluster: Cluster
    state_dir: Path

    @property
    def host(self) -> LocalHost:
        apps = self.cluster.parts["apps"]
        assert isinstance(apps, LocalAppsBackend)
        return apps.host

    async def call(
        self,
        account: Account,
        op: Callable[Concatenate[B, Account, P], Awaitable[T]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        return await self.orchestrator.call(account, self.cluster.name, op, *args, **kwargs)


@contextlib.asynccontextmanager
async def running_cluster(
    base: Path,
    hub: EventHub | None = None,
    private_paths: tuple[Path, ...] = (),
    **settings: Any,
) -> AsyncIterator[Running]:
    """A started local cluster keeping its state in ``base/state``; closed on exit. With a
    ``hub``, with its cache, kept by the cluster's change feed; ``private_paths`` are
    Asgard's own files (its database, its clusters file), as its settings give them."""
    config = LocalClusterConfig(name="local", state_dir=base / "state", **settings)
    context = BackendContext.local(base / "data", "test-secret", private_paths=private_paths)
    cluster = await assemble(config, context, hub)
    orchestrator = Orchestrator([cluster])
    await orchestrator.start()
    try:
        yield Running(orchestrator, cluster, base / "state")
    finally:
        await orchestrator.close()


def processes_under(folder: Path) -> list[str]:
    """Live processes started for ``folder``: run from inside it, or given it as argument."""
    mine = str(folder)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                continue
            raw = (entry / "cmdline").read_bytes()
            cwd = os.readlink(entry / "cwd")
        except (OSError, IndexError):
            continue
        if not raw:  # a process past its exit, its memory gone, not yet a zombie: ending
            continue
        argv = raw.split(b"\0")
        if cwd.startswith(mine) or any(mine.encode() in a for a in argv):
            found.append(f"{entry.name}: {b' '.join(argv).decode(errors='replace')}")
    return found


def lines(chunks: Sequence[bytes]) -> list[str]:
    return b"".join(chunks).decode().splitlines()
