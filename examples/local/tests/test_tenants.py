"""Accounts on one host, as root: each namespace's apps and jobs run as a uid of its own,
in folders only that uid may use, so one account cannot read another's files or signal
its processes. The uid a namespace got is kept across restarts."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from local_support import DEV, OPS, Running, eventually, lines, running_cluster
from test_security import app_said, ended

from asgard.backends.contract import AppsBackend, JobsBackend
from asgard.models import Account, AppSpec, JobSpec

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="uids per account need root")

BASE = 1_900_000_000
SECRET = "ops-private-words"


async def uid_of_app(running: Running, account: Account, app_id: str) -> int:
    said = await app_said_as(running, account, app_id, "uid=")
    [line] = [line for line in said if line.startswith("uid=")]
    return int(line.split()[0].removeprefix("uid="))


async def uid_of_job(running: Running, account: Account) -> int:
    job = JobSpec(cluster="local", name="who", image="host", command=["id", "-u"])
    created = await running.call(account, JobsBackend.create_job, job, None)

    async def finished() -> bool:
        return (await running.call(account, JobsBackend.get_job, created.id)).status.finished

    await eventually(finished, f"job {created.id} ended")
    stream = await running.call(account, JobsBackend.job_logs, created.id, follow=False)
    [said] = lines([c async for c in stream])
    return int(said)


def app_spec(app_id: str, script: str) -> AppSpec:
    return AppSpec(cluster="local", id=app_id, image="host", cmd=["sh", "-c", script])


WHO = "echo uid=$(id -u) gid=$(id -g); exec sleep 600"


@pytest.mark.parametrize("isolate_jobs", [True, False], ids=["isolated", "plain"])
async def test_each_namespace_runs_as_a_uid_of_its_own_kept_across_restarts(
    tmp_path: Path, isolate_jobs: bool
) -> None:
    seen: list[dict[str, int]] = []
    for _ in range(2):  # the second time, from the table the first one wrote
        async with running_cluster(tmp_path, isolate_jobs=isolate_jobs) as running:
            if not seen:
                for account in (DEV, OPS):
                    await running.call(account, AppsBackend.create_app, app_spec("who", WHO))
            seen.append(
                {
                    "dev-app": await uid_of_app(running, DEV, "who"),
                    "ops-app": await uid_of_app(running, OPS, "who"),
                    "dev-job": await uid_of_job(running, DEV),
                    "ops-job": await uid_of_job(running, OPS),
                }
            )
    first, again = seen
    assert first == again
    assert first["dev-app"] == first["dev-job"]
    assert first["ops-app"] == first["ops-job"]
    assert first["dev-app"] != first["ops-app"]
    assert {first["dev-app"], first["ops-app"]} == {BASE, BASE + 1}
    table = json.loads((tmp_path / "state" / "uids.json").read_text())
    assert {table["dev"] + BASE, table["ops"] + BASE} == {first["dev-app"], first["ops-app"]}
    assert stat.S_IMODE((tmp_path / "state" / "uids.json").stat().st_mode) == 0o600


async def test_an_accounts_folders_are_its_own_and_0700(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as running:
        await running.call(DEV, AppsBackend.create_app, app_spec("who", WHO))
        uid = await uid_of_app(running, DEV, "who")
        job = JobSpec(cluster="local", name="files", image="host", command=["true"])
        created = await running.call(DEV, JobsBackend.create_job, job, None)
        await ended(running, created.id)
        state = running.state_dir
        [home] = list((state / "apps" / "dev" / "who" / "instances").glob("*/home"))
        job_dir = state / "jobs" / "dev" / created.id
        owned = [home, job_dir / "input", job_dir / "output", job_dir / "home"]
        found = {
            str(p.relative_to(state)): (
                p.stat().st_uid,
                p.stat().st_gid,
                stat.S_IMODE(p.stat().st_mode),
            )
            for p in owned
        }
        asgards = [state, state / "apps", state / "apps" / "dev", state / "jobs" / "dev", job_dir]
        modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in asgards}
        private = [job_dir / "job.json", job_dir / "log", job_dir / "root"]
        kept = {p.name: (p.stat().st_uid, stat.S_IMODE(p.stat().st_mode)) for p in private}
    assert set(found.values()) == {(uid, uid, 0o700)}, found
    assert set(modes.values()) == {0o711}, modes
    assert kept == {"job.json": (0, 0o600), "log": (0, 0o600), "root": (0, 0o700)}


async def test_one_account_cannot_read_or_signal_anothers_work(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as running:
        keeper = f"echo {SECRET} > secret; chmod 644 secret; echo pid=$$; exec sleep 600"
        await running.call(OPS, AppsBackend.create_app, app_spec("keeper", keeper))
        said = await app_said_as(running, OPS, "keeper", "pid=")  # after the secret
        pid = int(next(line for line in said if line.startswith("pid=")).removeprefix("pid="))
        [home] = list((running.state_dir / "apps" / "ops" / "keeper" / "instances").glob("*/home"))
        attempts = "; ".join(
            [
                f"cat {home}/secret && echo READ",
                f"ls {home} && echo LISTED",
                f"ls {running.state_dir}/apps && echo LISTED-APPS",
                f"kill -0 {pid} && echo SIGNALLED",
                f"touch {home}/planted && echo WROTE",
                "echo tried",
            ]
        )
        await running.call(
            DEV, AppsBackend.create_app, app_spec("prober", attempts + "; exec sleep 600")
        )
        probed = await app_said(running, "prober", "tried")
        job = JobSpec(cluster="local", name="prober", image="host", command=["sh", "-c", attempts])
        created = await running.call(DEV, JobsBackend.create_job, job, None)
        await ended(running, created.id)
        stream = await running.call(DEV, JobsBackend.job_logs, created.id, follow=False)
        job_probed = lines([c async for c in stream])
        os.kill(pid, 0)  # still running (ProcessLookupError otherwise): nobody signalled it
    for seen in (probed, job_probed):
        assert "tried" in seen
        assert not {"READ", "LISTED", "LISTED-APPS", "SIGNALLED", "WROTE"} & set(seen), seen
        assert SECRET not in "\n".join(seen)


async def app_said_as(running: Running, account: Account, app_id: str, prefix: str) -> list[str]:
    said: list[str] = []

    async def wrote() -> bool:
        stream = await running.call(account, AppsBackend.app_logs, app_id, tail=50, follow=False)
        said[:] = lines([c async for c in stream])
        return any(line.startswith(prefix) for line in said)

    await eventually(wrote, f"{app_id} said {prefix}")
    return said
