"""Every task's logs merged in time order, and one task's, on a real Docker Engine (single
and Swarm), through the HTTP API alone."""

from __future__ import annotations

import asyncio
import gc
import json
from datetime import datetime
from typing import Any

import aiohttp

from asgard.backends.log_merge import HOLD_LINES, READER_LINES, ReaderBuffer
from tests.docker.test_apps import APP, ENGINE_ALONE, Env, running_tasks, spec, until
from tests.docker.test_apps import env as env  # the same engine and Swarm fixture
from tests.support.asgard import Caller

TALK = [
    "sh",
    "-c",
    "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo \"$HOSTNAME out $i\"; "
    'echo "$HOSTNAME err $i" >&2; sleep 0.1; done',
]
"""Each instance says its host name and a count, on stdout and on stderr."""


async def said(caller: Caller, ids: set[str], lines: int) -> None:
    """Until each task has said ``lines`` lines on each of its streams."""

    async def enough() -> bool:
        for task in ids:
            found = records(await body_of(caller, f"{APP}/tasks/{task}/logs?format=jsonl"))
            if min(sum(r["stream"] == s for r in found) for s in ("stdout", "stderr")) < lines:
                return False
        return True

    await until(enough, f"each task says {lines} lines on stdout and on stderr")


async def body_of(caller: Caller, path: str) -> str:
    response = await caller.get(path)
    body = await response.text()
    assert response.status == 200, f"{path}: {response.status} {body}"
    return body


def records(body: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.splitlines() if line]


def when(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["ts"].replace("Z", "+00:00"))


async def read_records(
    response: aiohttp.ClientResponse, enough: Any, timeout_s: float = 30
) -> list[dict[str, Any]]:
    """Lines of a followed jsonl answer until ``enough(records)`` holds."""
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout_s):
        while not enough(found):
            line = await response.content.readline()
            assert line, f"the stream ended early after {found[-3:]}"
            found.append(json.loads(line))
    return found


@ENGINE_ALONE
async def test_every_tasks_lines_come_merged_in_time_order(env: Env) -> None:
    await env.dev.json("POST", "/apps", status=201, json=spec(2, args=TALK))
    ids = await running_tasks(env.dev, 2)
    await said(env.dev, ids, 10)

    got = records(await body_of(env.dev, f"{APP}/logs?tasks=all&tail=10&format=jsonl"))
    assert {r["task"] for r in got} == ids
    assert len(got) == 20, "the last 10 lines of each task"
    assert [when(r) for r in got] == sorted(when(r) for r in got)
    assert {r["stream"] for r in got} == {"stdout", "stderr"}
    for r in got:
        host, stream, _count = r["line"].split()
        assert stream == {"stdout": "out", "stderr": "err"}[r["stream"]]
        assert host == next(x for x in got if x["task"] == r["task"])["line"].split()[0]
    hosts = {r["line"].split()[0] for r in got}
    assert len(hosts) == 2, "each task's lines are its own"

    merged = await body_of(env.dev, f"{APP}/logs?tasks=all&tail=3")
    labels = [line.split(" | ", 1)[0] for line in merged.splitlines()]
    assert sorted(labels) == sorted([*ids, *ids, *ids])

    middle = got[len(got) // 2]
    since = middle["ts"]
    later = records(
        await body_of(env.dev, f"{APP}/logs?tasks=all&tail=100&format=jsonl&since={since}")
    )
    assert later, "the lines from the middle on"
    assert all(when(r) >= when(middle) for r in later)
    assert middle["line"] in [r["line"] for r in later]
    implied = records(await body_of(env.dev, f"{APP}/logs?tail=100&format=jsonl&since={since}"))
    assert {r["task"] for r in implied} <= ids, "since and jsonl ask for the merged form"
    assert implied[: len(later)] == later


@ENGINE_ALONE
async def test_one_tasks_logs_and_unknown_tasks(env: Env) -> None:
    await env.dev.json("POST", "/apps", status=201, json=spec(2, args=TALK))
    ids = sorted(await running_tasks(env.dev, 2))
    await said(env.dev, set(ids), 4)

    one = records(await body_of(env.dev, f"{APP}/tasks/{ids[0]}/logs?tail=4&format=jsonl"))
    assert len(one) == 4
    assert {r["task"] for r in one} == {ids[0]}
    plain = await body_of(env.dev, f"{APP}/tasks/{ids[1]}/logs?tail=2")
    assert len(plain.splitlines()) == 2
    assert all(" | " not in line for line in plain.splitlines()), "one task's lines as they are"

    missing = await env.dev.get(f"{APP}/tasks/no-such-task/logs")
    assert missing.status == 404
    assert (await missing.json())["errors"][0]["field"] == "task_id"
    other = await env.ops.get(f"{APP}/tasks/{ids[0]}/logs")
    assert other.status == 404, "another account's app is not there"


async def test_following_joins_tasks_that_start_and_says_when_they_end(env: Env) -> None:
    await env.dev.json("POST", "/apps", status=201, json=spec(1, args=TALK))
    [first] = await running_tasks(env.dev, 1)
    response = await env.dev.get(f"{APP}/logs?tasks=all&tail=0&follow=true&format=jsonl")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/jsonl")
    await read_records(response, lambda found: len(found) >= 4)

    await env.dev.json("PATCH", APP, json={"instances": 2})
    [second] = await running_tasks(env.dev, 2) - {first}
    started = await read_records(
        response, lambda found: any(r["task"] == second and r["stream"] != "asgard" for r in found)
    )
    [marker, *_] = [r for r in started if r["task"] == second]
    assert (marker["stream"], marker["line"]) == ("asgard", "task started")

    await env.dev.json("PATCH", APP, json={"instances": 0})
    ended = await read_records(
        response,
        lambda found: {r["task"] for r in found if r["line"] == "task ended"} == {first, second},
        timeout_s=60,
    )
    markers = [r for r in ended if r["stream"] == "asgard"]
    assert all(r["line"] == "task ended" for r in markers)
    response.close()


@ENGINE_ALONE
async def test_a_reader_that_stops_reading_loses_lines_and_is_told_how_many(env: Env) -> None:
    total = 200_000
    burst = [
        "sh",
        "-c",
        "trap 'exit 0' TERM; while [ ! -e /tmp/go ]; do sleep 0.1; done; "
        f"seq 1 {total}; echo written; sleep 3600 & wait",
    ]
    await env.dev.json("POST", "/apps", status=201, json=spec(1, args=burst))
    [task] = await running_tasks(env.dev, 1)
    # the whole log, should Asgard ask the engine for it only after the burst has begun
    whole = "tail=100000&follow=true&format=jsonl"
    response = await env.dev.get(f"{APP}/tasks/{task}/logs?{whole}")
    assert response.status == 200
    await asyncio.sleep(1)  # Asgard asks the engine for the log as soon as it has answered
    [container] = env.daemon.cli("ps", "-q", "--no-trunc").split()
    env.daemon.cli("exec", container, "touch", "/tmp/go")  # and only now is it written

    async def written() -> bool:
        whole = await body_of(env.dev, f"{APP}/tasks/{task}/logs?tail=1")
        return whole.strip() == "written"

    await until(written, "the burst is written")  # while this reader reads nothing

    def buffers() -> list[ReaderBuffer]:  # Asgard runs in this process
        gc.collect()
        return [o for o in gc.get_objects() if isinstance(o, ReaderBuffer)]

    async def dropping() -> bool:
        return any(b.dropped for b in buffers())

    await until(dropping, "Asgard drops what the reader cannot take")
    assert all(len(b) <= HOLD_LINES + READER_LINES for b in buffers()), "what waits is bounded"
    assert [len(b) for b in buffers() if b.dropped] == [HOLD_LINES + READER_LINES]

    numbers: list[int] = []
    dropped = 0
    async with asyncio.timeout(60):
        while True:
            record = json.loads(await response.content.readline())
            if record["stream"] == "asgard":
                assert record["task"] is None
                dropped += int(record["line"].split()[0])
            elif record["line"] == "written":
                break
            else:
                numbers.append(int(record["line"]))
    response.close()
    assert dropped > 0, "the lines the reader could not take were dropped"
    assert numbers == sorted(numbers), "what is kept keeps its order"
    assert len(numbers) + dropped == total, "every line is either given or counted as dropped"
