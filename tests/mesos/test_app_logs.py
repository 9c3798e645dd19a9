"""Tasks' sandbox logs through Asgard's HTTP API, against the Mesos agents' fakes (which
serve the sandbox files as ``/files/read`` does: no times in them)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from asgard.models import Role
from tests.conftest import MesosCluster, StartAsgard
from tests.support.asgard import Caller
from tests.support.watching import eventually

APP = "/clusters/mesos/apps/web"
SPEC = {"cluster": "mesos", "id": "web", "image": "web:1", "instances": 2}


@pytest.fixture
async def dev(start_asgard: StartAsgard, mesos: MesosCluster) -> Caller:
    asgard = await start_asgard(mesos.orchestrator)
    account = await asgard.account("dev", owner="asgard-dev")
    return await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})


def sandbox(mesos: MesosCluster, task: str, name: str) -> tuple[dict[str, str], str]:
    """The agent's files, and the path of the task's ``stdout`` or ``stderr``."""
    for agent in mesos.mesos.agents.values():
        if task in agent.directories:
            return agent.files, f"{agent.directories[task]}/{name}"
    raise AssertionError(f"task {task} is on no agent")


def records(body: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.splitlines() if line]


async def test_every_tasks_stdout_and_stderr_task_by_task(mesos: MesosCluster, dev: Caller) -> None:
    await dev.json("POST", "/apps", status=201, json=SPEC)
    tasks = sorted(t["id"] for t in (await dev.json("GET", f"{APP}/tasks"))["tasks"])
    for task in tasks:
        files, path = sandbox(mesos, task, "stderr")
        files[path] = f"warning from {task}\n"

    response = await dev.get(f"{APP}/logs?tasks=all&format=jsonl&tail=5")
    got = records(await response.text())
    assert {r["task"] for r in got} == set(tasks)
    for task in tasks:
        mine = [(r["stream"], r["line"]) for r in got if r["task"] == task]
        assert mine == [("stdout", f"started {task}"), ("stderr", f"warning from {task}")]

    text = await (await dev.get(f"{APP}/tasks/{tasks[0]}/logs")).text()
    assert text == f"started {tasks[0]}\nwarning from {tasks[0]}\n"

    refused = await dev.get(f"{APP}/logs?tasks=all&since=2026-12-01T16:00:00Z")
    assert refused.status == 501, "the sandbox files carry no times to read since"
    assert "no times" in (await refused.json())["errors"][0]["msg"]
    missing = await dev.get(f"{APP}/tasks/web.nope/logs")
    assert missing.status == 404
    assert (await missing.json())["errors"][0]["field"] == "task_id"


async def test_following_reads_what_the_files_grow_by_and_sees_tasks_go(
    mesos: MesosCluster, dev: Caller
) -> None:
    await dev.json("POST", "/apps", status=201, json=SPEC)
    first, second = sorted(t["id"] for t in (await dev.json("GET", f"{APP}/tasks"))["tasks"])
    response = await dev.get(f"{APP}/logs?tasks=all&tail=0&follow=true&format=jsonl")
    assert response.status == 200
    files, path = sandbox(mesos, second, "stdout")

    async def following() -> bool:  # the first look at the file is done: only growth from now
        offsets = [offset for read, offset in mesos.mesos.file_reads if read == path]
        return -1 in offsets and offsets[-1] >= 0

    await eventually(following, "the follower reads the second task's stdout from its end", 10)
    files[path] += "more from the second\n"
    async with asyncio.timeout(10):
        record = json.loads(await response.content.readline())
    assert (record["task"], record["stream"], record["line"]) == (
        second,
        "stdout",
        "more from the second",
    )

    await dev.json("PATCH", APP, json={"instances": 1})
    [kept] = [t["id"] for t in (await dev.json("GET", f"{APP}/tasks"))["tasks"]]
    [stopped] = {first, second} - {kept}
    async with asyncio.timeout(15):
        record = json.loads(await response.content.readline())
    assert (record["task"], record["stream"], record["line"]) == (stopped, "asgard", "task ended")
    response.close()
