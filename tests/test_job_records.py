"""Job records and leases on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from asgard.backends.registry import BackendContext
from asgard.db.engine import Database
from asgard.db.job_records import JobRecordStore, LeaseStore
from asgard.db.stores import AccountStore
from asgard.leases import LeasedLoop, Leases
from asgard.loops import Step
from asgard.models import AccountCreate, Job, JobStatus
from tests.support.scratch import scratch_dir
from tests.support.watching import eventually


def a_job(job_id: str, state: str = "running") -> Job:
    return Job.model_validate(
        {
            "cluster": "local",
            "name": "report",
            "image": "busybox",
            "command": ["sh", "-c", "true"],
            "id": job_id,
            "status": {"state": state},
        }
    )


async def test_a_record_follows_its_job_and_keeps_the_end(db: Database) -> None:
    async with db.writing() as session:
        account = await AccountStore(session).create(AccountCreate(name="dev", namespace="dev"))
        added = await JobRecordStore(session).add(account.id, a_job("report-1"))
    assert [t.state for t in added.history] == ["running"]
    assert added.as_job().command == ["sh", "-c", "true"]

    done = JobStatus(state="succeeded", succeeded=1, exit_code=0, message="exit code 0")
    async with db.writing() as session:
        store = JobRecordStore(session)
        same = await store.observe(account.id, "local", "report-1", a_job("x").status, None)
        assert same is not None
        assert len(same.history) == 1, "no change, no transition"
        moved = await store.observe(account.id, "local", "report-1", done, None)
    assert moved is not None
    assert [(t.state, t.reason) for t in moved.history][-1] == ("succeeded", "exit code 0")
    assert moved.finished_at is not None

    lost = JobStatus(state="failed", message="vanished")
    async with db.writing() as session:
        final = await JobRecordStore(session).observe(account.id, "local", "report-1", lost, None)
    assert final is not None
    assert final.status.state == "succeeded", "a finished record never moves again"

    async with db.writing() as session:
        store = JobRecordStore(session)
        assert [r.job_id for r in await store.of_account(account.id)] == ["report-1"]
        assert await store.remove(account.id, "local", "report-1")
        assert not await store.remove(account.id, "local", "report-1")
        assert await store.get(account.id, "local", "report-1") is None


async def test_one_holder_at_a_time_even_when_racing(db: Database) -> None:
    async def take(holder: str) -> bool:
        async with db.writing() as session:
            return await LeaseStore(session).acquire("work", holder, timedelta(seconds=30))

    won = await asyncio.gather(*(take(f"p{n}") for n in range(8)), return_exceptions=True)
    assert [w for w in won if w is True] == [True], f"exactly one wins: {won}"
    winner = f"p{won.index(True)}"
    assert await take(winner), "the holder keeps it"
    assert not await take("late")

    async with db.writing() as session:
        await LeaseStore(session).acquire("short", "a", timedelta(seconds=-1))  # expired at once
    assert await take_named(db, "short", "b"), "an expired lease is taken over"


async def take_named(db: Database, name: str, holder: str) -> bool:
    async with db.writing() as session:
        return await LeaseStore(session).acquire(name, holder, timedelta(seconds=30))


async def test_a_backends_janitor_made_by_the_servers_leases_steps_in_one_holder_only(
    db: Database,
) -> None:
    """What ``BackendContext.leased`` gives a backend in the server: of two loops of one
    lease (two replicas' janitors of one cluster), only the holder steps; once it stops,
    the lease is free and the other steps."""
    made: list[LeasedLoop] = []
    context = BackendContext.local(scratch_dir(), "secret", loops=Leases(db, made.append))
    steps = {"first": 0, "second": 0}

    def counting(who: str) -> Step:
        async def step() -> None:
            steps[who] += 1

        return step

    def stepped(who: str, times: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return steps[who] >= times

        return check

    first = context.leased("job-retention", "lab", counting("first"), every_s=0.05)
    second = context.leased("job-retention", "lab", counting("second"), every_s=0.05)
    assert [loop.lease for loop in made] == ["job-retention:lab", "job-retention:lab"]
    assert made == [first, second], "the server is told of each, to give it up on shutdown"

    await first.start()
    await eventually(stepped("first", 3), "the first janitor steps", 10)
    assert not await made[1].lead(), "the second replica cannot take the lease"
    assert steps["second"] == 0

    await first.close()  # shutdown: the lease is given up at once
    assert await made[1].lead()
    await second.start()
    await eventually(stepped("second", 1), "the second janitor steps", 10)
    await second.close()
