"""Tasks and logs: an app's instances, every instance of an account at once, and what they
print, one task's lines or the app's, read or followed. What every kind must get right:
Asgard merges every task's lines of an app from these alone (``asgard.backends.log_merge``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from asgard.backends.contract import AgentsBackend, AppsBackend
from asgard.errors import NotFound, NotSupported
from asgard.models import LogLine, Role, User
from asgard.models.base import utc_now
from asgard.services.apps import AppsService
from asgard.services.principal import Principal
from asgard.testing.common import DEV, OPS, database
from asgard.testing.coverage import exercises
from asgard.testing.harness import Harness
from asgard.testing.talk import READ_S, TALK, TICK, lines_of, read_until, talking, text_of

__all__ = [
    "test_a_followed_app_log_brings_what_its_instances_print",
    "test_a_followed_task_log_brings_what_it_prints",
    "test_a_tasks_log_is_what_it_printed",
    "test_an_apps_log_is_every_instances_output",
    "test_every_task_of_the_account_in_one_listing",
    "test_logs_since_a_time_are_refused_where_lines_carry_no_time",
    "test_logs_since_a_time_leave_out_what_came_before",
    "test_merged_logs_carry_every_tasks_lines_in_time_order",
    "test_one_app_and_its_tasks",
]

VIEWER = Principal(
    user=User(id=1, name="viewer", email="viewer@example.com"), account=DEV, role=Role.VIEWER
)


def texts(lines: list[LogLine]) -> list[str]:
    return [line.line for line in lines]


@exercises(AppsBackend.get_app, AppsBackend.list_tasks, AgentsBackend.list_agents)
async def test_one_app_and_its_tasks(harness: Harness) -> None:
    await harness.seed_app("dev", "team/api", instances=2)

    app = await harness.call(DEV, AppsBackend.get_app, "team/api")
    assert app.id == "team/api"
    assert app.instances.running == 2

    tasks = await harness.call(DEV, AppsBackend.list_tasks, "team/api")
    assert len(tasks) == 2
    agents = {a.id for a in (await harness.listing(DEV, AgentsBackend.list_agents)).items}
    for task in tasks:
        assert task.app_id == "team/api"
        assert task.cluster == harness.cluster
        assert task.state == "running"
        assert task.agent_id in agents
        assert task.host


@exercises(AppsBackend.list_all_tasks, AppsBackend.list_tasks)
async def test_every_task_of_the_account_in_one_listing(harness: Harness) -> None:
    """What the merged logs follow to find tasks that start: every task of every app of
    the account, the same as each app's own, and none of another namespace."""
    await harness.seed_app("dev", "web", instances=2)
    await harness.seed_app("dev", "team/api", instances=1)
    await harness.seed_app("ops", "web", instances=1)

    listing = await harness.listing(DEV, AppsBackend.list_all_tasks)
    assert listing.errors == []
    each = {
        t.id: t
        for app_id in ("web", "team/api")
        for t in await harness.call(DEV, AppsBackend.list_tasks, app_id)
    }
    assert {t.id for t in listing.items} == set(each)
    assert len(listing.items) == 3, "each task once"
    for task in listing.items:
        assert task.app_id == each[task.id].app_id
        assert task.cluster == harness.cluster
    theirs = await harness.listing(OPS, AppsBackend.list_all_tasks)
    assert [t.app_id for t in theirs.items] == ["web"]
    assert not {t.id for t in theirs.items} & set(each)


@exercises(AppsBackend.create_app, AppsBackend.task_logs)
async def test_a_tasks_log_is_what_it_printed(harness: Harness) -> None:
    """Each line once, with its task, its stream and its time, in the order printed; the
    last ``tail`` of each stream; ``NotFound`` for a task the app has not, and for another
    account."""
    tasks = await talking(harness)
    for task in tasks:
        lines = await lines_of(harness, "shop/web", task.id)
        said = texts(lines)
        for _, text in TALK:
            assert said.count(text) == 1, f"{text!r} once in {said}"
        assert said.index("out-1") < said.index("out-2"), "in the order printed"
        by_text = {line.line: line for line in lines}
        assert by_text["out-1"].stream in ("stdout", "output")
        assert by_text["err-1"].stream in ("stderr", "output")
        for line in lines:
            assert line.task == task.id
            assert line.ts.utcoffset() == timedelta(0), "times are UTC"
        for stream in {line.stream for line in lines}:
            times = [line.ts for line in lines if line.stream == stream]
            assert times == sorted(times), f"{stream} in time order"

        last = await lines_of(harness, "shop/web", task.id, tail=1)
        assert "out-1" not in texts(last)
        assert last, "the last line"
        for stream in {line.stream for line in last}:
            assert len([line for line in last if line.stream == stream]) == 1

    with pytest.raises(NotFound) as unknown:
        await lines_of(harness, "shop/web", "no-such-task")
    assert unknown.value.details[0].field == "task_id"
    with pytest.raises(NotFound):
        await lines_of(harness, "shop/web", tasks[0].id, account=OPS)
    with pytest.raises(NotFound):
        await lines_of(harness, "shop/nothing", tasks[0].id)


@exercises(AppsBackend.create_app, AppsBackend.task_logs)
async def test_a_followed_task_log_brings_what_it_prints(harness: Harness) -> None:
    """Its tail first, then what the task prints while it is read: more ticks than a read
    made before it was opened had."""
    [task] = await talking(harness, 1)
    before = texts(await lines_of(harness, "shop/web", task.id)).count("tick")
    stream = await harness.call(
        DEV, AppsBackend.task_logs, "shop/web", task.id, tail=1000, since=None, follow=True
    )
    seen = await read_until(
        stream,
        lambda got: {"out-1", "out-2"} <= set(texts(got)) and texts(got).count("tick") >= before,
        "its tail",
        close=False,
    )
    await harness.task_prints("dev", "shop/web", task.id, [TICK])
    await read_until(
        stream,
        lambda got: texts(got).count("tick") > before,
        "a line printed while it was read",
        seen=seen,
    )


@pytest.mark.can("log_since")
@exercises(AppsBackend.create_app, AppsBackend.task_logs)
async def test_logs_since_a_time_leave_out_what_came_before(harness: Harness) -> None:
    [task] = await talking(harness, 1)
    lines = await lines_of(harness, "shop/web", task.id)
    first, second = (next(line for line in lines if line.line == t) for t in ("out-1", "out-2"))

    since = await lines_of(harness, "shop/web", task.id, since=second.ts)
    assert "out-2" in texts(since)
    assert all(line.ts >= second.ts for line in since), "nothing from before since"
    if first.ts < second.ts:
        assert "out-1" not in texts(since)
    later = utc_now() + timedelta(hours=1)
    assert await lines_of(harness, "shop/web", task.id, since=later) == []


@pytest.mark.cannot("log_since")
@exercises(AppsBackend.create_app, AppsBackend.task_logs)
async def test_logs_since_a_time_are_refused_where_lines_carry_no_time(
    harness: Harness, tmp_path: Path
) -> None:
    """By the kind, and by Asgard before it asks the kind: 501, for a task and for all."""
    [task] = await talking(harness, 1)
    with pytest.raises(NotSupported):
        await lines_of(harness, "shop/web", task.id, since=utc_now())
    async with database(tmp_path) as db:
        apps = AppsService(harness.orchestrator, db)
        with pytest.raises(NotSupported):
            await apps.task_logs(
                VIEWER, harness.cluster, "shop/web", task.id, tail=10, since=utc_now(), follow=False
            )
        with pytest.raises(NotSupported):
            await apps.merged_logs(
                VIEWER, harness.cluster, "shop/web", tail=10, since=utc_now(), follow=False
            )


@exercises(AppsBackend.create_app, AppsBackend.app_logs)
async def test_an_apps_log_is_every_instances_output(harness: Harness) -> None:
    """The plain log the dashboard shows: every instance's lines, as they come."""
    tasks = await talking(harness)
    text = await text_of(
        await harness.call(DEV, AppsBackend.app_logs, "shop/web", tail=1000, follow=False)
    )
    for text_printed in ("out-1", "out-2"):
        assert text.count(text_printed) == len(tasks), f"{text_printed!r} of every instance"
    with pytest.raises(NotFound):
        await harness.call(OPS, AppsBackend.app_logs, "shop/web", tail=10, follow=False)
    with pytest.raises(NotFound):
        await harness.call(DEV, AppsBackend.app_logs, "shop/nothing", tail=10, follow=False)


@exercises(AppsBackend.create_app, AppsBackend.app_logs)
async def test_a_followed_app_log_brings_what_its_instances_print(harness: Harness) -> None:
    tasks = await talking(harness)
    before = await text_of(
        await harness.call(DEV, AppsBackend.app_logs, "shop/web", tail=1000, follow=False)
    )
    ticks = before.count("tick")

    def counted(got: list[bytes], text: bytes) -> int:
        return b"".join(got).count(text)

    stream = await harness.call(DEV, AppsBackend.app_logs, "shop/web", tail=1000, follow=True)
    seen = await read_until(
        stream,
        lambda got: counted(got, b"out-2") == len(tasks) and counted(got, b"tick") >= ticks,
        "its tail",
        close=False,
    )
    for task in tasks:
        await harness.task_prints("dev", "shop/web", task.id, [TICK])
    await read_until(
        stream,
        lambda got: counted(got, b"tick") > ticks,
        "a line printed while it was read",
        seen=seen,
    )


@exercises(AppsBackend.create_app, AppsBackend.list_tasks, AppsBackend.task_logs)
async def test_merged_logs_carry_every_tasks_lines_in_time_order(
    harness: Harness, tmp_path: Path
) -> None:
    """What ``/logs?tasks=all`` answers, made by Asgard from the kind's task logs."""
    tasks = await talking(harness)
    async with database(tmp_path) as db:
        apps = AppsService(harness.orchestrator, db)
        merged = await apps.merged_logs(
            VIEWER, harness.cluster, "shop/web", tail=1000, since=None, follow=False
        )
        async with asyncio.timeout(READ_S):
            lines = [line async for line in merged]
    for task in tasks:
        mine = texts([line for line in lines if line.task == task.id])
        assert {text for _, text in TALK} <= set(mine), f"every line of {task.id}"
    times = [line.ts for line in lines]
    assert times == sorted(times), "in time order"
