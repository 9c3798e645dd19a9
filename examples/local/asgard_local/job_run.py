"""One job being run: its command, again after a non-zero exit while retries are left,
stopped at its ``timeout_s`` (counted from its first start, across retries), and its
status written to the state folder at every change, so a later Asgard knows how it
ended or that it was interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Literal

import structlog

from asgard.models import JobStatus
from asgard.models.base import utc_now
from asgard_local.processes import Launch, ProcessGroup
from asgard_local.store import JobRecord, Store

__all__ = ["INTERRUPTED", "JobRun", "ended_message"]

log = structlog.get_logger(__name__)

RETRY_PAUSE_S = 1.0
INTERRUPTED = "interrupted: Asgard stopped while it ran"

Ending = Literal["exited", "timeout", "cancelled"]


def ended_message(code: int, retries_used: int) -> str:
    after = (
        f" after {retries_used} retr{'y' if retries_used == 1 else 'ies'}" if retries_used else ""
    )
    return f"exited with code {code}{after}"


class JobRun:
    def __init__(
        self,
        record: JobRecord,
        launch: Launch,
        *,
        store: Store,
        grace_s: float,
        changed: Callable[[], None],
    ) -> None:
        self.record = record
        self.launch = launch
        self.store = store
        self.grace_s = grace_s
        self.changed = changed
        self.status = JobStatus(state="pending", message="starting")
        self._cancelled = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _save(self, **fields: object) -> None:
        self.status = JobStatus.model_validate({**self.status.model_dump(), **fields})
        self.store.save_status(self.record.namespace, self.record.id, self.status)
        self.changed()

    def start(self) -> None:
        self._save()
        self._task = asyncio.create_task(self._run(), name=f"job-{self.record.id}")

    async def cancel(self) -> None:
        """Stop it now (SIGTERM, SIGKILL after the grace time), no retry after."""
        self._cancelled.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        spec = self.record.spec
        deadline = None if spec.timeout_s is None else time.monotonic() + spec.timeout_s
        failed = 0
        while True:
            try:
                process = await ProcessGroup.start(self.launch)
            except OSError as exc:
                self._finish("failed", f"could not start: {exc}", failed=failed + 1)
                return
            retry = f" (retry {failed} of {spec.retries})" if failed else ""
            self._save(
                state="running",
                active=1,
                started_at=self.status.started_at or process.started_at,
                message=f"running{retry}",
            )
            ending, code = await self._attempt(process, deadline)
            if ending == "cancelled":
                return
            if ending == "timeout":
                self._finish(
                    "failed",
                    f"killed after its timeout of {spec.timeout_s:g} s",
                    failed=failed + 1,
                    exit_code=code,
                )
                return
            if code == 0:
                self._finish("succeeded", ended_message(0, failed), succeeded=1, exit_code=0)
                return
            failed += 1
            if failed > spec.retries:
                message = ended_message(code, failed - 1)
                self._finish("failed", message, failed=failed, exit_code=code)
                return
            self._save(active=0, failed=failed, exit_code=code, message=f"exited with code {code}")
            if await self._pause(deadline):
                return

    async def _attempt(self, process: ProcessGroup, deadline: float | None) -> tuple[Ending, int]:
        """Wait for the process to end, or for the timeout, or for a cancel."""
        try:
            ended = asyncio.ensure_future(process.wait())
            cancelled = asyncio.ensure_future(self._cancelled.wait())
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            await asyncio.wait(
                {ended, cancelled}, timeout=left, return_when=asyncio.FIRST_COMPLETED
            )
            cancelled.cancel()
            if ended.done():
                return "exited", ended.result()
            code = await process.stop(self.grace_s)
        except asyncio.CancelledError:
            process.kill_group()  # the loop itself is torn down: leave nothing running
            raise
        if self._cancelled.is_set():
            return "cancelled", code
        log.info("job stopped at its timeout", job=self.record.id)
        return "timeout", code

    async def _pause(self, deadline: float | None) -> bool:
        """The pause before a retry; True when the job ended meanwhile (cancel, timeout)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._cancelled.wait(), RETRY_PAUSE_S)
        if self._cancelled.is_set():
            return True
        if deadline is not None and time.monotonic() >= deadline:
            timeout = self.record.spec.timeout_s or 0
            self._finish("failed", f"killed after its timeout of {timeout:g} s")
            return True
        return False

    def _finish(self, state: str, message: str, **fields: object) -> None:
        self._save(state=state, active=0, finished_at=utc_now(), message=message, **fields)
        log.info("job ended", job=self.record.id, state=state, message=message)
