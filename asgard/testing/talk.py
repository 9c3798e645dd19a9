"""The commands the log checks run, printing lines the kit knows, and reading them back.

An app's instances print ``TALK`` (``err-1`` on stderr), then ``tick`` every second; a
job prints ``JOB_TALK``, waits, prints ``JOB_LATER`` and ends. Where commands really run,
they do so themselves; where nothing runs, the harness prints the same lines when told
(``Harness.task_prints``, ``Harness.job_prints``). A followed log is shown to follow by
counting ticks: it must bring more than a read made before it was opened had."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Final, TypeVar

from asgard.backends.contract import AppsBackend
from asgard.models import Account, AppSpec, LogLine, Task
from asgard.testing.common import DEV, running, settle, web
from asgard.testing.harness import Harness, Printed

__all__ = [
    "JOB_LATER",
    "JOB_TALK",
    "READ_S",
    "TALK",
    "TICK",
    "job_script",
    "lines_of",
    "printing",
    "read_until",
    "talker",
    "talking",
    "text_of",
]

T = TypeVar("T")
TALK: Final[tuple[Printed, ...]] = (("stdout", "out-1"), ("stderr", "err-1"), ("stdout", "out-2"))
TICK: Final[Printed] = ("stdout", "tick")
JOB_TALK: Final[tuple[Printed, ...]] = (("stdout", "job-out-1"), ("stderr", "job-err-1"))
JOB_LATER: Final[tuple[Printed, ...]] = (("stdout", "job-out-2"),)
JOB_PAUSE_S: Final = 3
READ_S: Final = 30.0
"""How long a read of a log may take, or a followed log to bring what is awaited."""


def printing(lines: Sequence[Printed]) -> str:
    """Shell that prints ``lines``, each to its stream."""
    return "; ".join(
        f"echo {text}" + (" >&2" if stream == "stderr" else "") for stream, text in lines
    )


def talker(harness: Harness, instances: int = 2) -> AppSpec:
    """``shop/web``, its instances printing ``TALK`` and then a ``tick`` every second."""
    ticking = "trap 'exit 0' TERM; while :; do sleep 1 & wait; echo tick; done"
    return web(harness, instances, args=["sh", "-c", f"{printing(TALK)}; {ticking}"])


def job_script() -> str:
    """What the talking job runs: ``JOB_TALK``, a pause, ``JOB_LATER``, then it ends."""
    return f"{printing(JOB_TALK)}; sleep {JOB_PAUSE_S}; {printing(JOB_LATER)}"


async def lines_of(
    harness: Harness,
    app_id: str,
    task_id: str,
    *,
    account: Account = DEV,
    tail: int = 1000,
    since: datetime | None = None,
) -> list[LogLine]:
    """One task's log as it is now (not followed)."""
    stream = await harness.call(
        account, AppsBackend.task_logs, app_id, task_id, tail=tail, since=since, follow=False
    )
    async with asyncio.timeout(READ_S):
        return [line async for line in stream]


async def text_of(stream: AsyncIterator[bytes]) -> str:
    """A plain log (an app's, a job's) read to its end."""
    async with asyncio.timeout(READ_S):
        return b"".join([chunk async for chunk in stream]).decode()


async def talking(harness: Harness, instances: int = 2) -> list[Task]:
    """Deploy ``talker`` and wait until every instance's log shows ``TALK``; the tasks."""
    await harness.call(DEV, AppsBackend.create_app, talker(harness, instances))
    tasks = await running(harness, "shop/web", instances)
    for task in tasks:
        await harness.task_prints("dev", "shop/web", task.id, TALK)

    async def said() -> bool:
        for task in tasks:
            seen = {line.line for line in await lines_of(harness, "shop/web", task.id)}
            if not {text for _, text in TALK} <= seen:
                return False
        return True

    await settle(harness, said, "every instance's log shows what it printed")
    return tasks


async def read_until(
    stream: AsyncIterator[T],
    done: Callable[[list[T]], bool],
    what: str,
    *,
    seen: list[T] | None = None,
    close: bool = True,
) -> list[T]:
    """Read a followed stream until ``done`` holds of what it brought (``seen`` before, and
    since), then close it unless told not to (to read on)."""
    seen = [] if seen is None else seen
    try:
        async with asyncio.timeout(READ_S):
            while not done(seen):
                seen.append(await anext(stream))
            return seen
    except TimeoutError:
        raise AssertionError(f"a followed log never brought {what}; last: {seen[-5:]}") from None
    except StopAsyncIteration:
        raise AssertionError(
            f"a followed log ended before it brought {what}; last: {seen[-5:]}"
        ) from None
    finally:
        if close and isinstance(stream, AsyncGenerator):
            await stream.aclose()
