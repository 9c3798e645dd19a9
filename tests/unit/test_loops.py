"""The one loop every background task runs on: its failures are logged and survived, it
backs off while they last, steps at once when poked, and stops cleanly.

The loop's clock is the test's (``waits``): it records how long the loop asked to wait
and returns at once, so back-off is checked without sleeping through it.
"""

from __future__ import annotations

import asyncio
import math

import pytest
from structlog.testing import capture_logs

from asgard.errors import ClusterUnreachable
from asgard.loops import FIRST_BACKOFF_S, MAX_BACKOFF_S, PeriodicLoop, until

GUARD_S = 10.0
"""Only keeps a broken loop from hanging the suite."""


class Clock:
    """Waits nothing, and notes what the loop asked for."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def waits(self, _event: asyncio.Event, seconds: float) -> None:
        self.asked.append(seconds)
        await asyncio.sleep(0)


class Steps:
    """A step that does what it is told, call after call, and says when it is called."""

    def __init__(self, *outcomes: Exception | None) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0
        self.called = asyncio.Event()

    async def __call__(self) -> None:
        self.calls += 1
        self.called.set()
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome

    async def reach(self, calls: int) -> None:
        async with asyncio.timeout(GUARD_S):
            while self.calls < calls:
                self.called.clear()
                await self.called.wait()


async def ran(loop: PeriodicLoop, steps: Steps, calls: int) -> None:
    """Run ``loop`` until ``steps`` was called ``calls`` times, then stop it."""
    await loop.start()
    try:
        await steps.reach(calls)
    finally:
        await loop.close()


def unreachable() -> ClusterUnreachable:
    return ClusterUnreachable("lab", "cluster lab is unreachable: connection refused")


async def test_every_failure_is_logged_naming_the_loop_and_the_loop_goes_on() -> None:
    steps = Steps(unreachable(), ValueError("a converter's bug"), None)
    clock = Clock()
    loop = PeriodicLoop("janitor:lab", steps, every_s=1.0, waits=clock.waits)
    with capture_logs() as logs:
        await ran(loop, steps, 4)
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [e["event"] for e in warnings] == ["janitor:lab failed", "janitor:lab failed"]
    expected, bug = warnings
    assert expected["error"] == "cluster lab is unreachable: connection refused"
    assert expected.get("exc_info") is None, "a cluster down is no bug: no traceback"
    assert bug["error"] == "a converter's bug"
    assert isinstance(bug["exc_info"], ValueError), "anything else: with its traceback"
    assert steps.calls >= 4, "it went on after both"


async def test_failures_in_a_row_back_off_doubling_up_to_the_cap() -> None:
    steps = Steps(*[unreachable()] * 8, None)
    clock = Clock()
    loop = PeriodicLoop("probe", steps, every_s=0.5, waits=clock.waits, jitter=lambda: 1.0)
    await ran(loop, steps, 10)
    doubling = [FIRST_BACKOFF_S * 2**n for n in range(5)]
    assert clock.asked[:9] == [*doubling, MAX_BACKOFF_S, MAX_BACKOFF_S, MAX_BACKOFF_S, 0.5]
    assert loop.failures == 0, "a step that works ends the back-off"


async def test_back_off_never_steps_faster_than_the_period() -> None:
    steps = Steps(*[unreachable()] * 4)
    clock = Clock()
    loop = PeriodicLoop("hourly", steps, every_s=3600.0, waits=clock.waits, jitter=lambda: 1.0)
    await ran(loop, steps, 4)
    assert clock.asked[:3] == [3600.0, 3600.0, 3600.0]


def test_back_off_is_jittered_within_half_of_its_value() -> None:
    loop = PeriodicLoop("feed", Steps(), every_s=0.0, first_backoff_s=2.0, max_backoff_s=60.0)
    loop.failures = 3
    delays = [loop.backoff_s() for _ in range(200)]
    assert all(4.0 <= d <= 8.0 for d in delays)
    assert len({round(d, 3) for d in delays}) > 50, "spread: loops broken together part"
    loop.failures = 10_000  # days of failures: still the cap, never an overflow
    assert all(30.0 <= loop.backoff_s() <= 60.0 for _ in range(50))


def test_a_step_that_recovered_backs_off_from_the_start_when_it_fails_again() -> None:
    loop = PeriodicLoop("feed", Steps(), every_s=0.0, jitter=lambda: 1.0)
    loop.failures = 6
    loop.recovered()  # the stream it follows connected
    loop.failures += 1  # and broke, hours later
    assert loop.backoff_s() == FIRST_BACKOFF_S


async def test_a_poke_steps_at_once_instead_of_waiting_the_period() -> None:
    steps = Steps()
    loop = PeriodicLoop("runner", steps, every_s=3600.0)  # the real clock: an hour
    await loop.start()
    try:
        await steps.reach(1)
        loop.poke()
        await steps.reach(2)
        loop.poke()
        await steps.reach(3)
    finally:
        await loop.close()
    assert steps.calls == 3


async def test_a_poke_cuts_a_back_off_short() -> None:
    steps = Steps(unreachable())
    loop = PeriodicLoop("feed", steps, every_s=3600.0, first_backoff_s=3600.0)
    await loop.start()
    try:
        await steps.reach(1)
        assert loop.failures == 1
        loop.poke()  # the cluster answers again
        await steps.reach(2)
    finally:
        await loop.close()
    assert loop.failures == 0


async def test_a_loop_that_waits_first_steps_only_after_its_period_or_a_poke() -> None:
    steps = Steps()
    clock = Clock()
    loop = PeriodicLoop("resync", steps, every_s=30.0, wait_first=True, waits=clock.waits)
    await ran(loop, steps, 1)
    assert clock.asked[0] == 30.0, "it waited before its first step"


async def test_loops_started_together_spread_their_first_steps_over_the_period() -> None:
    """As a fleet's probes do: a thousand clusters started at once are not probed in the
    same second of every period."""
    firsts = []
    for _ in range(50):
        steps, clock = Steps(), Clock()
        loop = PeriodicLoop("probe", steps, every_s=15.0, spread_first=True, waits=clock.waits)
        await ran(loop, steps, 1)
        firsts.append(clock.asked[0])
    assert all(0 <= wait < 15.0 for wait in firsts)
    assert len({int(wait) for wait in firsts}) >= 8, "spread over the period's seconds"


async def test_pokes_in_a_burst_are_coalesced_into_one_step() -> None:
    steps = Steps()
    loop = PeriodicLoop("cache", steps, every_s=math.inf, wait_first=True, coalesce_s=0.2)
    await loop.start()
    try:
        for _ in range(5):
            loop.poke()
            await asyncio.sleep(0)
        await steps.reach(1)
        for _ in range(20):  # a loop that stepped once per poke would step again now
            await asyncio.sleep(0)
    finally:
        await loop.close()
    assert steps.calls == 1, "five pokes within the coalescing time: one step"


async def test_close_cancels_a_step_under_way_and_waits_for_it() -> None:
    started, ended = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            ended.set()

    loop = PeriodicLoop("slow", slow, every_s=1.0)
    await loop.start()
    async with asyncio.timeout(GUARD_S):
        await started.wait()
    assert loop.running
    await loop.close()
    assert ended.is_set(), "the step was cancelled, and had ended when close returned"
    assert not loop.running
    await loop.close()  # twice is harmless: owners close what shutdown closed already


async def test_only_cancellation_ends_a_loop() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("always")

    clock = Clock()
    loop = PeriodicLoop("broken", broken, every_s=0.0, waits=clock.waits)
    with capture_logs():
        await loop.start()
        async with asyncio.timeout(GUARD_S):
            while calls < 50:
                await asyncio.sleep(0)
        assert loop.running, "fifty failures later, still running"
        await loop.close()


@pytest.mark.parametrize("seconds", [3600.0, math.inf])
async def test_the_real_clock_returns_when_poked_whatever_the_time_left(seconds: float) -> None:
    woken = asyncio.Event()
    task = asyncio.create_task(until(woken, seconds))
    await asyncio.sleep(0)
    woken.set()
    done, _ = await asyncio.wait({task}, timeout=GUARD_S)
    assert done == {task}, "it returned once the event was set"
