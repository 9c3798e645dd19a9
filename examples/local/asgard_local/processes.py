"""One process group on the host: start it, wait for it, end it.

Every process this kind starts leads a session of its own, so it and whatever it forks
share one process group that is signalled as one: SIGTERM first, SIGKILL once the grace
time has passed, and SIGKILL for whatever is left of the group when its leader ends, so
nothing an instance or a job forked outlives it. Output (stdout and stderr both) goes to
a log file Asgard opened, never to Asgard's own. Each group's pid is recorded beside its
log, so an Asgard that starts after a crash can end what the one before left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from asgard.models.base import utc_now
from asgard_local.identities import Identity
from asgard_local.procfs import read_stat
from asgard_local.store import PidRecord, read_record, write_record

__all__ = ["Launch", "ProcessGroup", "end_stale", "exit_code"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Launch:
    """What to run, and how."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    user: Identity | None = None
    """None runs as Asgard's own user."""
    pid_file: Path | None = None


def exit_code(returncode: int) -> int:
    """A process killed by signal N reports ``-N``; shells and users say ``128 + N``."""
    return 128 - returncode if returncode < 0 else returncode


def _identity(user: Identity | None) -> dict[str, Any]:
    if user is None:
        return {}
    return {"user": user.uid, "group": user.gid, "extra_groups": list(user.groups)}


class ProcessGroup:
    def __init__(self, process: asyncio.subprocess.Process, pid_file: Path | None) -> None:
        self.process = process
        self.pid = process.pid
        self.pid_file = pid_file
        self.started_at: datetime = utc_now()
        self._waiter: asyncio.Task[int] | None = None

    @classmethod
    async def start(cls, launch: Launch) -> ProcessGroup:
        """Start the leader; ``OSError`` when it cannot be (no such program, no such user)."""
        launch.log.parent.mkdir(parents=True, exist_ok=True)
        out = os.open(launch.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            process = await asyncio.create_subprocess_exec(
                *launch.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                env=launch.env,
                cwd=launch.cwd,
                start_new_session=True,
                **_identity(launch.user),
            )
        finally:
            os.close(out)
        group = cls(process, launch.pid_file)
        group._record()
        return group

    def _record(self) -> None:
        stat = read_stat(self.pid)
        if self.pid_file is not None and stat is not None:
            write_record(self.pid_file, PidRecord(pid=self.pid, start_ticks=stat.start_ticks))

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    async def wait(self) -> int:
        """The leader's exit code (``exit_code``'s convention); the rest of its group is
        killed then, and the pid record removed."""
        if self._waiter is None:
            self._waiter = asyncio.ensure_future(self._wait())
        return await asyncio.shield(self._waiter)

    async def _wait(self) -> int:
        returncode = await self.process.wait()
        self.kill_group()
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)
        return exit_code(returncode)

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def kill_group(self) -> None:
        self.signal_group(signal.SIGKILL)

    async def stop(self, grace_s: float) -> int:
        """SIGTERM to the group, SIGKILL after ``grace_s``; the leader's exit code."""
        if self.returncode is None:
            self.signal_group(signal.SIGTERM)
            try:
                async with asyncio.timeout(grace_s):
                    return await self.wait()
            except TimeoutError:
                log.info("process did not end in its grace time: killed", pid=self.pid)
                self.kill_group()
        return await self.wait()


async def end_stale(pid_files: list[Path], grace_s: float) -> int:
    """End the process groups an earlier Asgard left (recorded, still the same processes):
    SIGTERM, then SIGKILL after ``grace_s``. How many there were."""
    stale = []
    for path in pid_files:
        record = read_record(path, PidRecord)
        path.unlink(missing_ok=True)
        stat = read_stat(record.pid) if record is not None else None
        if record is not None and stat is not None and stat.start_ticks == record.start_ticks:
            stale.append(record.pid)
    for pgid in stale:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    await _ended(stale, grace_s)
    for pgid in stale:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    if stale:
        log.warning("ended processes an earlier Asgard left running", groups=stale)
    return len(stale)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _ended(pids: list[int], timeout_s: float) -> None:
    """Wait until these processes (not children of ours) have ended, at most ``timeout_s``:
    a pidfd becomes readable when its process ends."""
    loop = asyncio.get_running_loop()
    watched: list[tuple[int, asyncio.Future[None]]] = []
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except OSError:  # ended already
            continue
        ended: asyncio.Future[None] = loop.create_future()
        loop.add_reader(fd, _settle, ended)
        watched.append((fd, ended))
    try:
        if watched:
            await asyncio.wait([f for _, f in watched], timeout=timeout_s)
    finally:
        for fd, _ in watched:
            loop.remove_reader(fd)
            os.close(fd)
