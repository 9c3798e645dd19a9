"""When a cluster counts as down, and when it does not: only one that answers nothing."""

from __future__ import annotations

import asyncio

import pytest

from asgard.backends.breaker import Breaker
from asgard.errors import ClusterFailure, ClusterTimeout


async def answers() -> str:
    return "1.0"


def timeout() -> ClusterTimeout:
    return ClusterTimeout("c", "cluster c did not answer in 1 s")


async def test_a_cluster_that_answered_nothing_for_long_enough_is_cut_off() -> None:
    breaker = Breaker("c", answers, down_after_s=0, retry_s=60)
    breaker.failed(timeout())
    breaker.check()  # one failure is not enough
    breaker.failed(timeout())
    with pytest.raises(ClusterTimeout, match="known to be down"):
        breaker.check()
    await breaker.close()


async def test_a_slow_cluster_that_answered_lately_is_not_cut_off() -> None:
    breaker = Breaker("c", answers, down_after_s=60)
    for _ in range(5):
        breaker.failed(timeout())
    breaker.check()
    assert not breaker.open


async def test_a_connected_change_feed_keeps_a_cluster_up() -> None:
    breaker = Breaker("c", answers, down_after_s=0, alive=lambda: True)
    for _ in range(5):
        breaker.failed(timeout())
    breaker.check()
    assert not breaker.open


async def test_errors_that_come_back_fast_do_not_count() -> None:
    breaker = Breaker("c", answers, down_after_s=0)
    for _ in range(5):
        breaker.failed(ClusterFailure("c", "bad answer"))
    breaker.check()
    assert not breaker.open


async def test_a_probe_that_gets_an_answer_closes_it() -> None:
    breaker = Breaker("c", answers, down_after_s=0, retry_s=0)
    breaker.failed(timeout())
    breaker.failed(timeout())
    with pytest.raises(ClusterTimeout):
        breaker.check()  # fails at once, and starts a probe
    for _ in range(50):
        if not breaker.open:
            break
        await asyncio.sleep(0.01)
    assert not breaker.open
    breaker.check()
    await breaker.close()


async def test_a_probe_answered_wrongly_closes_it_so_reads_say_what_is_wrong_now() -> None:
    """A cluster that timed out while the machine was busy, and now answers at once with a
    page of HTML, is read again: its error is what it answers, not the old timeout."""

    async def wrong() -> str:
        raise ClusterFailure("c", "answered text/html, not JSON")

    breaker = Breaker("c", wrong, down_after_s=0, retry_s=0)
    breaker.failed(timeout())
    breaker.failed(timeout())
    with pytest.raises(ClusterTimeout):
        breaker.check()  # fails at once, and starts a probe
    for _ in range(50):
        if not breaker.open:
            break
        await asyncio.sleep(0.01)
    assert not breaker.open
    breaker.check()
    await breaker.close()
