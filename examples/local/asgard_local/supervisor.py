"""Keeping one instance of an app running: its process is restarted whenever it ends
while it is wanted, after a pause that doubles from 1 s to 30 s, so a program that
cannot start does not spin the host. Each process is a new task (a new id), as a
restarted container is on other kinds; the instance's log file and working directory
stay, so the lines that explain a crash are still there after the restart.

Only the instance's own loop starts and stops its process, so a stop that arrives while
a process is being started cannot miss it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from asgard.models import AppSpec
from asgard.models.task import TaskState
from asgard_local.processes import Launch, ProcessGroup

__all__ = ["Instance", "InstanceView"]

log = structlog.get_logger(__name__)

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
STEADY_S = 30.0
"""A process that ran this long was healthy: a crash after it starts the pauses anew."""
START_LIMIT_S = 10.0
"""How long starting a process may take before a rollout gives up on it."""


@dataclass(frozen=True)
class InstanceView:
    """What an instance is now, for converters: a copy, so it does not change under them."""

    slot: str
    task_id: str
    state: TaskState
    started_at: datetime | None
    message: str | None
    crashes: int
    """Ends in a row that came before the process was steady."""
    spec: AppSpec


class Instance:
    def __init__(
        self,
        slot: str,
        spec: AppSpec,
        launch: Launch,
        *,
        grace_s: float,
        changed: Callable[[], None],
    ) -> None:
        self.slot = slot
        self.spec = spec
        self.launch = launch
        self.grace_s = grace_s
        self.changed = changed
        self.prefix = spec.id.replace("/", ".")
        self.task_id = self._new_task_id()
        self.state: TaskState = "staging"
        self.started_at: datetime | None = None
        self.message: str | None = "starting"
        self.crashes = 0
        self.process: ProcessGroup | None = None
        self._running_since = 0.0
        self._stopping = asyncio.Event()
        self._moved = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    def _new_task_id(self) -> str:
        return f"{self.prefix}.{secrets.token_hex(3)}"

    def view(self) -> InstanceView:
        return InstanceView(
            slot=self.slot,
            task_id=self.task_id,
            state=self.state,
            started_at=self.started_at,
            message=self.message,
            crashes=self.crashes,
            spec=self.spec,
        )

    def _set(self, state: TaskState, message: str | None) -> None:
        self.state, self.message = state, message
        self._moved.set()
        self._moved = asyncio.Event()
        self.changed()

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name=f"instance-{self.task_id}")

    async def _run(self) -> None:
        try:
            await self._keep_running()
        except Exception as exc:  # a fault of the supervisor itself: say so, do not hide it
            log.exception("instance supervision failed", task=self.task_id)
            self._set("failed", f"supervision failed: {exc}")

    async def _keep_running(self) -> None:
        pause = BACKOFF_FIRST_S
        while not self._stopping.is_set():
            began = time.monotonic()
            ended = await self._run_once()
            if self._stopping.is_set():
                return
            if time.monotonic() - began >= STEADY_S:
                pause, self.crashes = BACKOFF_FIRST_S, 0
            self.crashes += 1
            self._set("failed", f"{ended}; started again in {pause:g} s")
            log.info("instance ended: starting it again", task=self.task_id, why=ended)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), pause)
            pause = min(pause * 2, BACKOFF_MAX_S)
            self.task_id = self._new_task_id()
            self._set("staging", "starting")

    async def _run_once(self) -> str:
        """One process, from start to end; why it ended."""
        try:
            process = await ProcessGroup.start(self.launch)
        except OSError as exc:
            return f"could not start: {exc}"
        self.process, self.started_at = process, process.started_at
        self._running_since = time.monotonic()
        self._set("running", None)
        try:
            ended = asyncio.ensure_future(process.wait())
            stopping = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait({ended, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            code = await (ended if ended.done() else process.stop(self.grace_s))
        except asyncio.CancelledError:
            process.kill_group()  # the loop itself is torn down: leave nothing running
            raise
        finally:
            self.process = None
        return f"exited with code {code}"

    async def settled(self, steady_s: float) -> str | None:
        """Wait until this instance's process has run for ``steady_s``; None if it has,
        else why it did not (it ended, or could not start, or took too long to)."""
        limit = time.monotonic() + steady_s + START_LIMIT_S
        while self.state != "failed":
            now = time.monotonic()
            if self.state == "running" and now - self._running_since >= steady_s:
                return None
            if now >= limit:
                return f"did not start in {steady_s + START_LIMIT_S:g} s"
            until = self._running_since + steady_s if self.state == "running" else limit
            moved = self._moved
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(moved.wait(), max(until - now, 0.01))
        return self.message

    async def stop(self) -> None:
        """End the process (SIGTERM, SIGKILL after the grace time) and stop restarting it."""
        self._stopping.set()
        if self._loop is not None:
            await self._loop
        self._set("killed", "stopped")
