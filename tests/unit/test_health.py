"""A cluster of several servers is down while any of them is: an answer from one part
says nothing of another (a Mesos cluster whose masters stall while Marathon answers)."""

from __future__ import annotations

import asyncio

import pytest

from asgard.backends.health import WHOLE, Health, calling, touching


class Refused(Exception):
    pass


async def ask(part: str, *, answers: bool) -> None:
    with calling(part):
        await asyncio.sleep(0)
        if not answers:
            raise Refused(part)


async def test_an_answer_from_one_part_leaves_another_parts_failure() -> None:
    health = Health()
    with touching() as touched, pytest.raises(Refused):
        await ask("masters", answers=False)
    assert health.failed("masters stalled", touched.blamed())
    with touching() as touched:
        await ask("marathon", answers=True)
    assert not health.answered(touched.answered)  # the outage goes on
    assert health.error == "masters stalled"
    assert health.last_contact_at is not None
    with touching() as touched:
        await ask("masters", answers=True)
    assert health.answered(touched.answered)  # that ends it
    assert health.error is None
    assert health.down_since is None


async def test_a_failover_that_answers_is_the_part_answering() -> None:
    health = Health()
    health.failed("first master refused", {"masters"})
    with touching() as touched:
        with pytest.raises(Refused):
            await ask("masters", answers=False)
        await ask("masters", answers=True)  # the second master
    assert health.answered(touched.answered)


async def test_an_unusable_answer_is_blamed_on_the_part_that_gave_it() -> None:
    with touching() as touched:
        await ask("marathon", answers=True)
        await ask("chronos", answers=True)
    assert touched.blamed() == {"marathon", "chronos"}
    with touching() as touched:
        await ask("marathon", answers=True)
        with pytest.raises(Refused):
            await ask("chronos", answers=False)
    assert touched.blamed() == {"chronos"}


async def test_a_timeout_is_blamed_on_the_part_it_cut() -> None:
    async def stalls() -> None:
        with calling("masters"):
            await asyncio.sleep(10)

    with touching() as touched:
        await ask("marathon", answers=True)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01):
                await stalls()
    assert touched.blamed() == {"masters"}


def test_a_kind_of_one_server_is_the_whole_cluster() -> None:
    health = Health()
    with touching() as touched:
        pass
    assert touched.blamed() == {WHOLE}
    health.failed("did not answer", touched.blamed())
    health.failed("did not answer again", touched.blamed())
    assert health.error == "did not answer again"
    since = health.down_since
    assert since is not None
    assert health.answered(touched.answered)
    assert health.error is None


def test_two_parts_down_say_both_oldest_first_and_since_the_first() -> None:
    health = Health()
    health.failed("masters stalled", {"masters"})
    first = health.down_since
    assert not health.failed("chronos answered HTML", {"chronos"})  # already down
    assert health.error == "masters stalled; chronos answered HTML"
    assert health.down_since == first
    assert not health.answered({"masters"})
    assert health.error == "chronos answered HTML"


async def test_a_call_that_succeeds_tells_which_parts_failed_within_it() -> None:
    with touching() as touched:
        await ask("masters", answers=True)
        with pytest.raises(Refused):
            await ask("chronos", answers=False)
    assert touched.unanswered() == {"chronos": "chronos"}
