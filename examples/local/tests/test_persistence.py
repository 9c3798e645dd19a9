"""What survives Asgard: apps come back when it starts again, jobs it was running are
said to be interrupted, processes a crashed Asgard left are ended, and only one Asgard
at a time supervises a state folder."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asgard_local.job_run import INTERRUPTED
from asgard_local.procfs import read_stat
from asgard_local.store import AppRecord, PidRecord, Store, write_record
from local_support import DEV, Running, eventually, processes_under, running_cluster

from asgard.backends.contract import AppsBackend, JobsBackend
from asgard.errors import ClusterUnreachable
from asgard.models import AppSpec, JobSpec
from asgard.testing import SERVE_FOREVER


def web(instances: int = 2) -> AppSpec:
    return AppSpec(
        cluster="local",
        id="shop/web",
        image="host",
        args=SERVE_FOREVER,
        env={"MODE": "test"},
        labels={"team": "shop"},
        instances=instances,
    )


async def running_tasks(running: Running, count: int) -> set[str]:
    found: set[str] = set()

    async def check() -> bool:
        nonlocal found
        tasks = await running.call(DEV, AppsBackend.list_tasks, "shop/web")
        found = {t.id for t in tasks if t.state == "running"}
        return len(found) == count

    await eventually(check, f"{count} running instances")
    return found


async def test_apps_come_back_when_asgard_starts_again(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as first:
        created = await first.call(DEV, AppsBackend.create_app, web())
        before = await running_tasks(first, 2)

    async def all_ended() -> bool:
        return processes_under(tmp_path / "state") == []

    # Closing sends the last SIGKILL and returns; on a loaded machine the kernel may take
    # a moment to end a process so killed (CI run 20: a `sleep` and a forked `sh` still
    # listed right after closing)
    await eventually(all_ended, "closing stops every process", 5)

    async with running_cluster(tmp_path) as second:
        after = await running_tasks(second, 2)
        app = await second.call(DEV, AppsBackend.get_app, "shop/web")
    assert not before & after, "every instance is a new process"
    assert app.status == "running"
    assert (app.env, app.labels, app.args) == ({"MODE": "test"}, {"team": "shop"}, SERVE_FOREVER)
    assert app.created_at == created.created_at


async def test_a_suspended_app_stays_suspended(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as first:
        await first.call(DEV, AppsBackend.create_app, web(instances=0))
    async with running_cluster(tmp_path) as second:
        app = await second.call(DEV, AppsBackend.get_app, "shop/web")
        assert (app.status, app.instances.desired, app.instances.running) == ("suspended", 0, 0)


async def test_a_job_running_when_asgard_stopped_is_interrupted(tmp_path: Path) -> None:
    spec = JobSpec(cluster="local", name="long", image="host", command=["sleep", "600"])
    async with running_cluster(tmp_path) as first:
        job = await first.call(DEV, JobsBackend.create_job, spec, None)
    async with running_cluster(tmp_path) as second:
        found = await second.call(DEV, JobsBackend.get_job, job.id)
    assert found.status.state == "failed"
    assert found.status.message == INTERRUPTED
    assert found.status.finished_at is not None
    assert found.status.active == 0


def spawn_sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "600"], start_new_session=True, env={"PATH": "/usr/bin:/bin"})


async def test_processes_an_earlier_asgard_left_are_ended(tmp_path: Path) -> None:
    """As after a crash: a kept app, and the process group its instance still runs."""
    store = Store(tmp_path / "state")
    now = datetime.now(UTC)
    store.save_app(AppRecord(namespace="dev", spec=web(1), created_at=now, updated_at=now))
    left, stranger = spawn_sleeper(), spawn_sleeper()
    try:
        left_stat, stranger_stat = read_stat(left.pid), read_stat(stranger.pid)
        assert left_stat is not None
        assert stranger_stat is not None
        folder = store.instance_dir("dev", "shop/web", "old")
        write_record(
            folder / "pid.json", PidRecord(pid=left.pid, start_ticks=left_stat.start_ticks)
        )
        other = store.instance_dir("dev", "shop/web", "reused")
        wrong = PidRecord(pid=stranger.pid, start_ticks=stranger_stat.start_ticks + 1)
        write_record(other / "pid.json", wrong)  # the pid now names another process

        async with running_cluster(tmp_path, stop_grace_s=5) as running:
            assert left.wait(timeout=10) == -signal.SIGTERM
            assert stranger.poll() is None, "a process that merely has the pid is left alone"
            await running_tasks(running, 1)
    finally:
        for process in (left, stranger):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def test_only_one_asgard_supervises_a_state_folder(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as first:
        await first.call(DEV, AppsBackend.create_app, web(1))
        async with running_cluster(tmp_path) as second:
            with pytest.raises(ClusterUnreachable) as refused:
                await second.call(DEV, AppsBackend.list_apps)
            assert "another Asgard process" in refused.value.msg
            assert refused.value.details[0].cluster == "local"
            [status] = await second.orchestrator.statuses(DEV)
            assert status.status == "unreachable"
        await running_tasks(first, 1)  # the second one, closing, stopped nothing of ours
