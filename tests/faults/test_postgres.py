"""PostgreSQL stopped under a running Asgard, then started again (issue 14, point 8).

Asgard runs as a user runs it, ``asgard serve`` in its own process, on a PostgreSQL
server of this test's own (the session's shared one is never stopped: other tests use
it), with a ``local`` cluster to run real jobs on. While the server is down, what needs
the database answers 503 in the usual envelope, with a message that says so and no
traceback, ``/health`` says the database does not answer, and the process lives on.
Once the server is back, without restarting Asgard, everything answers again, the job
recorded before the outage is still recorded, and the scheduler starts runs again.

Beside it, the line between an outage and a bug: a wrong statement is not a database
that does not answer (it stays a 500), on PostgreSQL and SQLite alike, and an SQLite
file locked by another program is one (503), as a stopped server is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import exc, text

from asgard.db.engine import Database, upgrade
from asgard.errors import DatabaseUnavailable
from testbed.asgard_process import RunningAsgard, running_asgard
from tests.support.postgres import Postgres, start_postgres
from tests.support.remote import Answer, Api
from tests.support.resources import needs
from tests.support.watching import eventually

CLUSTERS = [{"name": "local", "kind": "local", "isolate_jobs": False, "stop_grace_s": 1}]
SCHEDULE = "every-2s"
RECOVERY_S = 60.0
"""How long Asgard may take to answer again once PostgreSQL is back: in practice a second
or two; the bound only keeps a broken recovery from hanging the suite."""


@pytest.fixture
@needs("postgres")
def postgres() -> Iterator[Postgres]:
    """A server of this test's own: the test stops it."""
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture
def own_db_url(postgres: Postgres) -> str:
    return postgres.new_database()


@pytest.fixture
async def asgard(own_db_url: str, tmp_path: Path) -> AsyncIterator[RunningAsgard]:
    """``asgard serve`` on that server; credentials kept a minute, so that which
    requests authenticate from the cache and which must read the database is known."""
    settings = {"ASGARD_AUTH_CACHE_S": "60", "ASGARD_RECONCILE_S": "2"}
    async with running_asgard(
        tmp_path / "asgard", CLUSTERS, role="operator", settings=settings, db_url=own_db_url
    ) as running:
        yield running


async def finished_job(api: Api, name: str) -> dict[str, Any]:
    """Run a job on the local cluster and wait for it to succeed."""
    spec = {"cluster": "local", "name": name, "image": "none", "command": ["true"]}
    job: dict[str, Any] = (await api.ok("POST", "/jobs", 201, json=spec))["job"]
    path = f"/clusters/local/jobs/{job['id']}"

    async def succeeded() -> bool:
        state = (await api.ok("GET", path))["job"]["status"]["state"]
        assert state in ("pending", "running", "succeeded"), state
        return bool(state == "succeeded")

    await eventually(succeeded, f"job {job['id']} succeeded", RECOVERY_S)
    return job


async def scheduled_runs(api: Api) -> list[dict[str, Any]]:
    jobs = (await api.ok("GET", "/jobs?cluster=local&limit=1000"))["jobs"]
    return [j for j in jobs if j["labels"].get("scheduled-job") == SCHEDULE]


def outage_requests(job_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Requests that each read or write the database, whatever their route."""
    during = {"cluster": "local", "name": "during", "image": "none", "command": ["true"]}
    return [
        ("GET", "/jobs", {}),
        ("GET", f"/clusters/local/jobs/{job_id}", {}),
        ("GET", "/scheduled-jobs", {}),
        ("GET", "/workflows", {}),
        ("GET", "/accounts", {}),
        ("GET", "/users/me/tokens", {}),
        ("POST", "/jobs", {"json": during}),
    ]


def assert_unavailable(answer: Answer, what: str) -> None:
    """503 in the usual envelope, saying the database does not answer; no traceback."""
    assert answer.status == 503, f"{what}: {answer.status} {answer.text}"
    assert answer.body == {"errors": [{"msg": DatabaseUnavailable.MESSAGE}]}, what
    assert "Traceback" not in answer.text


def log_since(log: Path, offset: int) -> str:
    return log.read_bytes()[offset:].decode(errors="replace")


async def test_asgard_rides_out_a_postgres_restart(
    postgres: Postgres, own_db_url: str, asgard: RunningAsgard
) -> None:
    async with aiohttp.ClientSession() as session:
        api = Api.of(session, asgard)
        before, fresh = await _before_the_outage(api)

        outage_starts = asgard.log.stat().st_size
        postgres.stop_server()
        await _while_down(api, fresh, before["id"], asgard)
        outage_log = log_since(asgard.log, outage_starts)

        postgres.start_server()
        await _once_back(api, fresh, before["id"], own_db_url)
        await _after_a_quick_restart(postgres, api, before["id"])

    assert "Traceback" not in outage_log, outage_log[-3000:]
    assert "the database does not answer" in outage_log


async def _before_the_outage(api: Api) -> tuple[dict[str, Any], str]:
    """A job run to its end, a schedule that has run, the caller's key in the cache, and
    a second key never used (authenticating with it must read the database); the job
    and that key."""
    before = await finished_job(api, "before")
    token = await api.ok("POST", "/users/me/tokens", 201, json={"name": "fresh"})
    schedule = {
        "cluster": "local",
        "name": SCHEDULE,
        "image": "none",
        "command": ["true"],
        "schedule": {"value": "R/2020-01-01T00:00:00Z/PT2S"},
        "concurrent": True,
    }
    await api.ok("POST", "/scheduled-jobs", 201, json=schedule)
    await eventually(lambda: _has_runs(api), "a first scheduled run", RECOVERY_S)
    await api.ok("GET", "/accounts")
    return before, token["token"]["key"]


async def _once_back(api: Api, fresh: str, job_id: str, db_url: str) -> None:
    """``/health`` is 200 again, then at once every request that failed answers, the job
    of before is there (on the cluster and in the database), the job refused during the
    outage was not left running, and the scheduler starts runs again."""
    back_at = await _health_ok(api.session, api.url)
    for method, path, kwargs in outage_requests(job_id)[:-1]:
        await api.ok(method, path, **kwargs)
    await api.using(fresh).ok("GET", "/users/me")

    again = await api.ok("GET", f"/clusters/local/jobs/{job_id}")
    assert again["job"]["status"]["state"] == "succeeded"
    listed = (await api.ok("GET", "/jobs"))["jobs"]
    assert job_id in [j["id"] for j in listed]
    assert "during" not in [j["name"] for j in listed]
    assert await _recorded(db_url, job_id)
    clusters = (await api.ok("GET", "/clusters"))["clusters"]
    assert [(c["name"], c["status"]) for c in clusters] == [("local", "ok")]

    async def ran_since_back() -> bool:
        return any(_created(run) > back_at for run in await scheduled_runs(api))

    await eventually(ran_since_back, "a scheduled run after PostgreSQL came back", RECOVERY_S)


async def _after_a_quick_restart(postgres: Postgres, api: Api, job_id: str) -> None:
    """Restarted between two requests, PostgreSQL leaves Asgard's pooled connections
    dead: the very first requests after it must not be the ones to find out."""
    postgres.stop_server()
    postgres.start_server()
    for method, path, kwargs in outage_requests(job_id)[:-1]:
        await api.ok(method, path, **kwargs)


async def _has_runs(api: Api) -> bool:
    return bool(await scheduled_runs(api))


def _created(job: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(job["created_at"].replace("Z", "+00:00"))


async def _while_down(api: Api, fresh: str, job_id: str, asgard: RunningAsgard) -> None:
    """Every request that needs the database is a 503, from a cached key or a fresh one
    (and a key that matches nobody is a 503 too, not a 401: nobody could tell);
    ``/health`` says why; the process lives on, and background loops keep failing."""
    async with aiohttp.ClientSession() as probe, probe.get(asgard.url + "/health") as health:
        assert health.status == 503
        assert await health.json() == {"errors": [{"msg": "the database does not answer"}]}
    for method, path, kwargs in outage_requests(job_id):
        assert_unavailable(await api.call(method, path, **kwargs), f"{method} {path}")
    assert_unavailable(await api.using(fresh).call("GET", "/users/me"), "a fresh key")
    unknown = "asg_nobody0000_" + "x" * 43
    assert_unavailable(await api.using(unknown).call("GET", "/users/me"), "an unknown key")
    for loop in ("scheduler", "reconciler"):
        await eventually(
            partial(_logged, asgard, loop), f"the {loop} found the database down", RECOVERY_S
        )
    # Still there, and still answering as it should.
    assert_unavailable(await api.call("GET", "/jobs"), "GET /jobs, after the loops failed")


async def _logged(asgard: RunningAsgard, loop: str) -> bool:
    """Whether ``loop`` logged a failed step (LeasedLoop's warning)."""
    return f'"{loop} failed"' in asgard.log.read_text(errors="replace")


async def _health_ok(session: aiohttp.ClientSession, url: str) -> datetime:
    """Wait for ``/health`` to be 200 again; when it was."""

    async def healthy() -> bool:
        async with session.get(url + "/health") as response:
            return response.status == 200

    await eventually(healthy, "/health is 200 again", RECOVERY_S)
    return datetime.now().astimezone()


async def _recorded(db_url: str, job_id: str) -> bool:
    """Whether the job's record is in the database itself, not only on the cluster."""
    database = Database(db_url)
    try:
        async with database.session() as session:
            found: int | None = await session.scalar(
                text("SELECT count(*) FROM job_records WHERE job_id = :job_id"),
                {"job_id": job_id},
            )
    finally:
        await database.close()
    return found == 1


async def test_a_wrong_statement_is_not_an_outage(db: Database) -> None:
    with pytest.raises(exc.DBAPIError) as raised:
        async with db.session() as session:
            await session.execute(text("SELECT * FROM no_such_table"))
    assert not isinstance(raised.value, DatabaseUnavailable)
    await db.ping()


async def test_a_locked_sqlite_file_is_an_outage(tmp_path: Path) -> None:
    """Another program holding SQLite's write lock for longer than ``busy_timeout`` (5 s):
    a write cannot be done now, and may be later, as with a stopped server."""
    path = tmp_path / "asgard.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    database = Database(url)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseUnavailable, match="try again shortly"):
            async with database.writing() as session:
                await session.execute(text("SELECT 1"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    try:
        async with database.writing() as session:
            await session.execute(text("SELECT 1"))
    finally:
        await database.close()
