"""A followed log its cluster never ends (a Swarm service's, once its job is over) is ended
by Asgard when what it follows has ended, its last lines given first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from asgard.backends.log_streams import until_ended

QUICK = {"poll_s": 0.01, "grace_s": 0.05}


async def open_forever(chunks: list[bytes], closed: list[bool]) -> AsyncIterator[bytes]:
    try:
        for chunk in chunks:
            yield chunk
        await asyncio.Event().wait()  # the cluster keeps it open
    finally:
        closed.append(True)


async def test_a_log_left_open_ends_once_what_it_follows_has() -> None:
    closed: list[bool] = []
    asked = 0

    async def ended() -> bool:
        nonlocal asked
        asked += 1
        return asked >= 3

    stream = until_ended(open_forever([b"a\n", b"b\n"], closed), ended, **QUICK)
    async with asyncio.timeout(10):  # a guard against hanging, not a measure
        got = [chunk async for chunk in stream]
    assert got == [b"a\n", b"b\n"]
    assert asked == 3, "asked until it said so, then no more"
    assert closed == [True], "the cluster's stream is closed"


async def test_a_log_its_cluster_ends_ends_without_asking() -> None:
    async def finite() -> AsyncIterator[bytes]:
        yield b"only\n"

    async def never() -> bool:
        raise AssertionError("a stream that ended needs no asking")

    got = [chunk async for chunk in until_ended(finite(), never, **QUICK)]
    assert got == [b"only\n"]
