"""The lines of many tasks as one log in time order, for every kind of cluster.

Kinds read one task each (``AppsBackend.task_logs``) into timestamped ``LogLine``
records; this module puts them together, so no kind and no service parses text.

Reading what is there (``follow=false``) is an exact merge: every task's next line is
known before the earliest of them is given out, and a slow reader slows the reading of
the clusters (nothing piles up in Asgard). Following cannot wait for a task that says
nothing, so lines are held for ``HOLD_S`` after they arrive and given out earliest
first: lines that reach Asgard within that time of each other come out in time order.
While following, the reader's lines wait in a ``ReaderBuffer`` of at most
``HOLD_LINES + READER_LINES`` lines; a reader that falls further behind loses the
oldest, and is told how many with a marker line (``stream`` ``asgard``).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import aiohttp
import structlog

from asgard.backends.contract import LogLines
from asgard.errors import AsgardError
from asgard.models import LogLine, Task
from asgard.models.base import utc_now
from asgard.tasks import cancel_and_wait

__all__ = [
    "DISCOVER_EVERY_S",
    "END_GRACE_S",
    "HOLD_LINES",
    "HOLD_S",
    "READER_LINES",
    "Joiner",
    "ReaderBuffer",
    "Source",
    "merge_lines",
    "note",
]

HOLD_S: Final = 0.5
"""How long a followed line waits for lines of other tasks stamped earlier."""
HOLD_LINES: Final = 1_000
"""Lines held at most; past it the earliest is given out before its hold is over."""
READER_LINES: Final = 1_000
"""Lines waiting for a reader at most; past it the oldest are dropped, and counted."""
DISCOVER_EVERY_S: Final = 1.0
"""How often a follower asks which tasks the app has (from the cluster's cache)."""
END_GRACE_S: Final = 2.0
"""A task gone from the app may still be sending its last lines: how long they may take."""
JOIN_TAIL: Final = 10_000
"""Lines read of a task that starts while the app is followed: all it wrote, in practice."""

log = structlog.get_logger(__name__)


def note(task: str | None, text: str, *, at: datetime | None = None) -> LogLine:
    """A line of Asgard's own about the log (a task ended, lines dropped)."""
    return LogLine(task=task, ts=at or utc_now(), stream="asgard", line=text)


@dataclass(frozen=True)
class Source:
    """One task's lines, already opened (so an unknown task failed before any answer)."""

    task: str
    lines: LogLines
    live: bool = True
    """The task runs: when its lines end while following, a marker says it ended."""


@dataclass(frozen=True)
class Joiner:
    """How a follower finds the app's tasks and opens those that start."""

    discover: Callable[[], Awaitable[Sequence[Task]]]
    open: Callable[[Task], Awaitable[LogLines]] | None = None
    """None: only watch the tasks given for their end (one task's log), and end with them."""

    @property
    def joins(self) -> bool:
        return self.open is not None


async def _since(lines: LogLines, since: datetime | None) -> AsyncGenerator[LogLine, None]:
    """The lines from ``since`` on (a kind's cluster may filter more coarsely, by the
    second); closing this closes the task's stream, so its connection is let go at once."""
    try:
        async for line in lines:
            if since is None or line.ts >= since:
                yield line
    finally:
        await _close(lines)


async def _close(lines: LogLines) -> None:
    closer = getattr(lines, "aclose", None)
    if closer is not None:
        await closer()


BROKEN: Final = (AsgardError, aiohttp.ClientError, OSError, RuntimeError)
"""What a task's stream may end with when its cluster fails it halfway (aiohttp raises
``RuntimeError`` for a connection closed under its reader, as when Asgard stops)."""


async def _announced(task: str, lines: LogLines) -> LogLines:
    """A task that started while followed: a marker first, stamped as its first line, so
    that it comes out just before it."""
    announced = False
    try:
        async for line in lines:
            if not announced:
                yield note(task, "task started", at=line.ts)
                announced = True
            yield line
    finally:
        await _close(lines)
    if not announced:  # it ended before it said anything
        yield note(task, "task started")


def _failed(task: str, exc: BaseException) -> LogLine:
    reason = exc.msg if isinstance(exc, AsgardError) else "the cluster broke the stream off"
    return note(task, f"reading the log failed: {reason}")


async def merge_lines(
    sources: Sequence[Source],
    *,
    since: datetime | None,
    follow: bool,
    joiner: Joiner | None = None,
) -> LogLines:
    """Every source's lines from ``since`` on, in time order; see the module."""
    if not follow:
        async for line in _exact(sources, since):
            yield line
        return
    several = len(sources) > 1 or (joiner is not None and joiner.joins)
    buffer = ReaderBuffer(hold_s=HOLD_S if several else 0.0)  # one task is in order already
    follower = _Follower(buffer, since, joiner)
    follower.start(sources)
    try:
        async for line in buffer:
            yield line
    finally:
        await follower.stop()


REORDER_LINES = 32
"""How far back one source's line may belong. A Docker container's stdout and stderr are
copied to its log by two readers, each stamping what it reads, so the log can hold a
line a few microseconds earlier than the one before it; the merge needs each source in
order."""


async def _in_order(lines: LogLines, window: int = REORDER_LINES) -> AsyncGenerator[LogLine, None]:
    """The lines, each given out once ``window`` later ones were read (or at the end),
    earliest first: a source's small disorder put right before the merge."""
    order = itertools.count()
    held: list[tuple[datetime, int, LogLine]] = []
    try:
        try:
            async for line in lines:
                heapq.heappush(held, (line.ts, next(order), line))
                if len(held) > window:
                    yield heapq.heappop(held)[2]
        except BROKEN:
            while held:  # what was read before the stream broke, then how it broke
                yield heapq.heappop(held)[2]
            raise
        while held:
            yield heapq.heappop(held)[2]
    finally:
        await _close(lines)


async def _exact(sources: Sequence[Source], since: datetime | None) -> LogLines:
    """A k-way merge: one line of each source at a time, the earliest given out first."""
    order = itertools.count()
    iterators = {s.task: _in_order(_since(s.lines, since)) for s in sources}
    heap: list[tuple[datetime, int, str, LogLine]] = []

    async def advance(task: str) -> LogLine | None:
        try:
            return await anext(iterators[task])
        except StopAsyncIteration:
            return None
        except BROKEN as exc:
            return _failed(task, exc)

    try:
        heads = await asyncio.gather(*(advance(t) for t in iterators))
        for task, head in zip(iterators, heads, strict=True):
            if head is not None:
                heapq.heappush(heap, (head.ts, next(order), task, head))
        while heap:
            _, _, task, line = heapq.heappop(heap)
            yield line
            if line.stream == "asgard":
                continue  # a source that failed has nothing more
            following = await advance(task)
            if following is not None:
                heapq.heappush(heap, (following.ts, next(order), task, following))
    finally:
        for iterator in iterators.values():
            await iterator.aclose()


class ReaderBuffer:
    """What one follower holds for its reader: bounded, whatever the reader does.

    ``add`` never waits: a line goes into the hold (a heap by time); the earliest leaves
    it once held ``hold_s``, or at once when the hold is full, for the reader's queue;
    when that is full, its oldest line is dropped and counted, and the reader is told
    before its next line. ``close`` lets the reader finish what is held, then stop."""

    def __init__(
        self, *, hold_s: float, hold_lines: int = HOLD_LINES, reader_lines: int = READER_LINES
    ) -> None:
        self.hold_s = hold_s
        self.hold_lines = hold_lines
        self.reader_lines = reader_lines
        self.dropped = 0
        self._held: list[tuple[datetime, int, float, LogLine]] = []
        self._ready: deque[LogLine] = deque()
        self._order = itertools.count()
        self._changed = asyncio.Event()
        self._closed = False

    def __len__(self) -> int:
        return len(self._held) + len(self._ready)

    def add(self, line: LogLine) -> None:
        heapq.heappush(self._held, (line.ts, next(self._order), time.monotonic(), line))
        if len(self._held) > self.hold_lines:
            self._release()
        self._changed.set()

    def close(self) -> None:
        self._closed = True
        self._changed.set()

    def _release(self) -> None:
        self._ready.append(heapq.heappop(self._held)[3])
        if len(self._ready) > self.reader_lines:
            self._ready.popleft()
            self.dropped += 1

    def _release_due(self) -> float | None:
        """Release what has been held long enough, as far as the reader's queue has room
        (the reader is here, so nothing need be dropped); how long until the next is due."""
        now = time.monotonic()
        while self._held and len(self._ready) < self.reader_lines:
            due = self._held[0][2] + self.hold_s
            if due > now and not self._closed:
                return due - now
            self._release()
        return None

    def __aiter__(self) -> AsyncIterator[LogLine]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[LogLine]:
        while True:
            wait = self._release_due()
            if self.dropped:
                count, self.dropped = self.dropped, 0
                yield note(None, f"{count} lines dropped: the reader was slower than the logs")
                continue
            if self._ready:
                yield self._ready.popleft()
                continue
            if self._closed and not self._held:
                return
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wait)


class _Follower:
    """The tasks being followed: a pump per task into the buffer, and, given a ``Joiner``,
    a look every ``DISCOVER_EVERY_S`` for tasks that started (joined) or ended (their
    pump is given ``END_GRACE_S`` to finish, then stopped, and a marker says so)."""

    def __init__(self, buffer: ReaderBuffer, since: datetime | None, joiner: Joiner | None) -> None:
        self.buffer = buffer
        self.since = since
        self.joiner = joiner
        self.pumps: dict[str, asyncio.Task[None]] = {}
        self.seen: set[str] = set()
        self.gone_since: dict[str, float] = {}
        self.watcher: asyncio.Task[None] | None = None

    @property
    def _joining(self) -> bool:
        """Tasks may yet start: the stream goes on, even with none to read now."""
        return self.joiner is not None and self.joiner.joins

    def start(self, sources: Sequence[Source]) -> None:
        for source in sources:
            self._pump(source)
        if self.joiner is not None:
            self.watcher = asyncio.create_task(self._watch(self.joiner))
        if not self.pumps and not self._joining:
            self.buffer.close()

    async def stop(self) -> None:
        await cancel_and_wait(self.watcher, *self.pumps.values())

    def _pump(self, source: Source) -> None:
        self.seen.add(source.task)
        self.pumps[source.task] = asyncio.create_task(self._read(source))

    async def _read(self, source: Source) -> None:
        try:
            async for line in _since(source.lines, self.since):
                self.buffer.add(line)
            if source.live:
                self.buffer.add(note(source.task, "task ended"))
        except BROKEN as exc:
            self.buffer.add(_failed(source.task, exc))
        finally:
            self.pumps.pop(source.task, None)
            if not self.pumps and not self._joining:
                self.buffer.close()

    async def _watch(self, joiner: Joiner) -> None:
        while True:
            await asyncio.sleep(DISCOVER_EVERY_S)
            try:
                tasks = await joiner.discover()
            except AsgardError as exc:  # the cluster is away: keep what is followed
                log.info("log follower cannot list tasks", error=exc.msg)
                continue
            await self._joined(joiner, tasks)

    async def _joined(self, joiner: Joiner, tasks: Sequence[Task]) -> None:
        """Join the tasks that run and are not read yet; stop reading those that have
        left the app or ended (a task still starting has not ended)."""
        now = time.monotonic()
        ids = {t.id for t in tasks if t.state in ("staging", "running")}
        for task in (t for t in tasks if t.state == "running"):
            if task.id in self.seen or joiner.open is None:
                continue
            self.seen.add(task.id)
            try:
                lines = await joiner.open(task)
            except AsgardError as exc:
                self.buffer.add(_failed(task.id, exc))
                continue
            self._pump(Source(task.id, _announced(task.id, lines)))
        for task_id, pump in list(self.pumps.items()):
            if task_id in ids:
                self.gone_since.pop(task_id, None)
            elif now - self.gone_since.setdefault(task_id, now) >= END_GRACE_S:
                await cancel_and_wait(pump)
                self.pumps.pop(task_id, None)
                self.buffer.add(note(task_id, "task ended"))
                if not self.pumps and not self._joining:
                    self.buffer.close()
