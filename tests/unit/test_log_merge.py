"""The merge of many tasks' lines (``asgard.backends.log_merge``), fed lines in memory.

What the kinds read from real clusters is tested against them (tests/docker,
tests/kubernetes); here the merge alone: its order, ``since``, the end markers, and the
bound on what a reader that does not read can make Asgard hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from asgard.backends.log_merge import ReaderBuffer, Source, merge_lines
from asgard.models import LogLine

T0 = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


def at(task: str, second: float, text: str) -> LogLine:
    return LogLine(task=task, ts=T0 + timedelta(seconds=second), stream="stdout", line=text)


async def lines_of(*lines: LogLine) -> AsyncIterator[LogLine]:
    for line in lines:
        yield line


async def read(lines: AsyncIterator[LogLine]) -> list[LogLine]:
    return [line async for line in lines]


async def test_lines_of_every_task_come_out_in_time_order() -> None:
    a = lines_of(at("a", 1, "a1"), at("a", 4, "a4"), at("a", 4, "a4 again"))
    b = lines_of(at("b", 0, "b0"), at("b", 2, "b2"), at("b", 5, "b5"))
    c = lines_of()
    got = await read(
        merge_lines([Source("a", a), Source("b", b), Source("c", c)], since=None, follow=False)
    )
    assert [x.line for x in got] == ["b0", "a1", "b2", "a4", "a4 again", "b5"]


async def test_a_task_whose_own_lines_are_slightly_out_of_order_is_put_right() -> None:
    """As a Docker log holds them: stdout and stderr stamped by two readers."""
    a = lines_of(at("a", 1.000002, "a-out"), at("a", 1.000001, "a-err"), at("a", 3, "a3"))
    b = lines_of(at("b", 1.0000015, "b1"), at("b", 2, "b2"))
    got = await read(merge_lines([Source("a", a), Source("b", b)], since=None, follow=False))
    assert [x.line for x in got] == ["a-err", "b1", "a-out", "b2", "a3"]


async def test_since_leaves_out_what_came_before() -> None:
    a = lines_of(at("a", 1, "a1"), at("a", 3, "a3"))
    b = lines_of(at("b", 2, "b2"), at("b", 2.5, "b2.5"))
    since = T0 + timedelta(seconds=2.5)
    got = await read(merge_lines([Source("a", a), Source("b", b)], since=since, follow=False))
    assert [x.line for x in got] == ["b2.5", "a3"]


async def test_following_says_when_a_task_ends() -> None:
    a = lines_of(at("a", 1, "a1"))
    b = lines_of(at("b", 0, "b0"))
    done = lines_of(at("old", 0.5, "old"))
    sources = [Source("a", a), Source("b", b), Source("old", done, live=False)]
    got = await read(merge_lines(sources, since=None, follow=True))
    assert [x.line for x in got if x.stream != "asgard"] == ["b0", "old", "a1"]
    ended = sorted(x.task or "" for x in got if x.stream == "asgard")
    assert ended == ["a", "b"], "a task that had ended before is not said to end again"
    assert all(x.line == "task ended" for x in got if x.stream == "asgard")


async def test_a_reader_that_does_not_read_costs_a_bounded_number_of_lines() -> None:
    buffer = ReaderBuffer(hold_s=3600, hold_lines=10, reader_lines=20)
    for n in range(1000):
        buffer.add(at("a", n, f"line {n}"))
        assert len(buffer) <= 30
    buffer.close()
    got = await read(aiter(buffer))
    assert (got[0].stream, got[0].task) == ("asgard", None)
    assert got[0].line == "970 lines dropped: the reader was slower than the logs"
    assert [x.line for x in got[1:]] == [f"line {n}" for n in range(970, 1000)]


async def test_the_hold_gives_out_the_earliest_first_when_it_is_full() -> None:
    buffer = ReaderBuffer(hold_s=3600, hold_lines=3, reader_lines=100)
    for second in (5, 1, 4, 2, 3, 0):
        buffer.add(at("a", second, str(second)))
    buffer.close()
    got = [x.line for x in await read(aiter(buffer))]
    assert got == ["1", "2", "0", "3", "4", "5"], "the earliest leaves when a fourth comes"
