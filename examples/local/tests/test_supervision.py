"""Supervising instances: a crashed process is started again as a new task, a rollout
that cannot run is undone, a stop ends the whole process group, SIGKILL after the grace
time; and what an app's processes use and write is readable."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from local_support import DEV, Running, eventually, lines, processes_under, running_cluster

from asgard.backends.contract import AppsBackend
from asgard.errors import InvalidValue, NotFound, NotSupported
from asgard.models import AppPatch, AppSpec, ResourceLimits, StatsWindow
from asgard.testing import SERVE_FOREVER


def app(command: list[str], instances: int = 1, **extra: object) -> AppSpec:
    return AppSpec.model_validate(
        {
            "cluster": "local",
            "id": "web",
            "image": "host",
            "cmd": command,
            "instances": instances,
            **extra,
        }
    )


async def running_ids(running: Running, count: int) -> set[str]:
    found: set[str] = set()

    async def check() -> bool:
        nonlocal found
        tasks = await running.call(DEV, AppsBackend.list_tasks, "web")
        found = {t.id for t in tasks if t.state == "running"}
        return len(found) == count and len(tasks) == count

    await eventually(check, f"{count} running instances")
    return found


async def test_a_crashing_instance_is_started_again_until_the_app_is_failed(
    tmp_path: Path,
) -> None:
    async with running_cluster(tmp_path) as running:
        await running.call(
            DEV, AppsBackend.create_app, app(["sh", "-c", "echo started; sleep 0.2; exit 1"])
        )
        seen: set[str] = set()
        why: set[str] = set()

        async def failed() -> bool:
            for task in await running.call(DEV, AppsBackend.list_tasks, "web"):
                seen.add(task.id)
                if task.state == "failed" and task.message:
                    why.add(task.message.split(";")[0])
            return (await running.call(DEV, AppsBackend.get_app, "web")).status == "failed"

        await eventually(failed, "the app is failed after its crashes")
        stream = await running.call(DEV, AppsBackend.app_logs, "web", tail=100, follow=False)
        assert lines([c async for c in stream]).count("started") >= 3, "the log is kept"
    assert len(seen) >= 3, "every process is a new task"
    assert why == {"exited with code 1"}


async def test_a_rollout_that_cannot_run_is_undone(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as running:
        await running.call(DEV, AppsBackend.create_app, app(SERVE_FOREVER, instances=2))
        before = await running_ids(running, 2)
        with pytest.raises(InvalidValue) as refused:
            await running.call(
                DEV, AppsBackend.update_app, "web", AppPatch(cmd=["sh", "-c", "exit 2"])
            )
        assert "exited with code 2" in refused.value.msg
        assert await running_ids(running, 2) == before, "no instance was stopped"
        kept = await running.call(DEV, AppsBackend.get_app, "web")
        assert kept.cmd == SERVE_FOREVER


async def test_a_program_the_host_lacks_is_refused(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as running:
        with pytest.raises(InvalidValue) as refused:
            await running.call(DEV, AppsBackend.create_app, app(["no-such-program-here"]))
        assert refused.value.details[0].field == "cmd"
        with pytest.raises(InvalidValue) as empty:
            await running.call(DEV, AppsBackend.create_app, app([]))
        assert empty.value.details[0].field == "args"
        assert (await running.call(DEV, AppsBackend.list_apps)) == []


async def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_time(
    tmp_path: Path,
) -> None:
    stubborn = ["sh", "-c", "trap '' TERM; sleep 600 & sleep 600 & wait; wait"]
    async with running_cluster(tmp_path, stop_grace_s=0.5) as running:
        await running.call(DEV, AppsBackend.create_app, app(stubborn))
        await running_ids(running, 1)

        async def trap_set() -> bool:  # the sleeps start after the trap: TERM is ignored
            found = processes_under(running.state_dir)
            return [p.split(": ", 1)[1].strip() for p in found].count("sleep 600") == 2

        await eventually(trap_set, "the instance ignores TERM")
        began = time.monotonic()
        await running.call(DEV, AppsBackend.delete_app, "web")
        took = time.monotonic() - began
        assert 0.5 <= took < 5
        await all_gone(running)


async def test_what_an_instance_forks_ends_with_it(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as running:
        await running.call(
            DEV, AppsBackend.create_app, app(["sh", "-c", "sleep 600 & sleep 600 & sleep 600"])
        )
        await running_ids(running, 1)
        await eventually(
            lambda: _count(running, 3), "the instance's three sleeps run", timeout_s=10
        )
        await running.call(DEV, AppsBackend.update_app, "web", AppPatch(instances=0))
        await all_gone(running)


async def all_gone(running: Running) -> None:
    """Nothing of the instance is left. Once its namespace's init has exited the kernel
    kills the rest (SIGKILL), which a loaded machine may take a moment to finish: the
    killed processes are given that moment, not the grace time."""

    async def gone() -> bool:
        return processes_under(running.state_dir) == []

    await eventually(gone, "nothing of the instance is left", timeout_s=5)


async def _count(running: Running, count: int) -> bool:
    return len(processes_under(running.state_dir)) >= count


async def test_stats_are_a_sample_of_what_instances_use(tmp_path: Path) -> None:
    busy = ["sh", "-c", "while :; do :; done"]
    async with running_cluster(tmp_path) as running:
        await running.call(
            DEV, AppsBackend.create_app, app(busy, resources=ResourceLimits(cpus=0.5, mem=64))
        )
        await running_ids(running, 1)
        stats = await running.call(DEV, AppsBackend.app_stats, "web", StatsWindow.ONE_MINUTE)
    assert stats.source == "sample"
    assert stats.instances == 1
    assert stats.cpu_pct is not None
    assert stats.cpu_pct > 20, "a busy loop on half a core"
    assert stats.ram_pct is not None
    assert stats.ram_pct > 0
    assert "sample" in (stats.message or "")


async def test_logs_are_the_last_lines_of_every_instance(tmp_path: Path) -> None:
    talker = ["sh", "-c", "echo one; echo two; exec sleep 600"]
    async with running_cluster(tmp_path) as running:
        await running.call(DEV, AppsBackend.create_app, app(talker, instances=2))
        ids = await running_ids(running, 2)

        async def said() -> list[str]:
            stream = await running.call(DEV, AppsBackend.app_logs, "web", tail=1, follow=False)
            return sorted(lines([c async for c in stream]))

        async def both() -> bool:
            return len(await said()) == 2

        await eventually(both, "both instances wrote")
        assert await said() == sorted(f"[{i}] two" for i in ids)


async def test_one_instances_logs_are_its_own_lines_and_followed_until_it_goes(
    tmp_path: Path,
) -> None:
    """What merged logs (``?tasks=all``) and one task's logs are read from: each line with
    its task, stamped as it is read (the file has no times)."""
    talker = ["sh", "-c", "echo one; echo two; sleep 1; echo three; exec sleep 600"]
    async with running_cluster(tmp_path) as running:
        await running.call(DEV, AppsBackend.create_app, app(talker, instances=2))
        first = sorted(await running_ids(running, 2))[0]

        async def read(task: str, tail: int, follow: bool = False) -> list[str]:
            stream = await running.call(
                DEV, AppsBackend.task_logs, "web", task, tail=tail, since=None, follow=follow
            )
            found = [line async for line in stream]
            assert {(line.task, line.stream) for line in found} <= {(task, "output")}
            return [line.line for line in found]

        async def wrote_three() -> bool:
            return await read(first, 10) == ["one", "two", "three"]

        await eventually(wrote_three, "the instance wrote its three lines")
        assert await read(first, 1) == ["three"]
        with pytest.raises(NotFound) as unknown:
            await read("no-such-task", 10)
        assert unknown.value.details[0].field == "task_id"
        with pytest.raises(NotSupported):
            await running.call(
                DEV, AppsBackend.task_logs, "web", first, tail=1, since=time_now(), follow=False
            )
        followed = await running.call(
            DEV, AppsBackend.task_logs, "web", first, tail=1, since=None, follow=True
        )
        assert (await anext(followed)).line == "three"
        await running.call(DEV, AppsBackend.delete_app, "web")
        rest = [line.line async for line in followed]  # ends once its instance is gone
        assert rest == []


def time_now() -> datetime:
    return datetime.now(UTC)
