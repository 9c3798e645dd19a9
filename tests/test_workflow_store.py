"""The workflow store's guard against a runner overwriting a DELETE, on SQLite and PostgreSQL."""

from __future__ import annotations

from asgard.db.engine import Database
from asgard.db.stores import AccountStore
from asgard.models import AccountCreate, WorkflowSpec
from asgard.models.base import utc_now
from asgard.workflows.store import WorkflowStore

SPEC = WorkflowSpec.model_validate(
    {
        "cluster": "local",
        "name": "nightly",
        "stages": [
            {"name": "fetch", "image": "busybox", "command": ["true"]},
            {"name": "publish", "image": "busybox", "command": ["true"], "always_run": True},
        ],
    }
)


async def test_a_workflow_being_deleted_is_not_moved_on_by_a_late_save(db: Database) -> None:
    async with db.writing() as session:
        account = await AccountStore(session).create(AccountCreate(name="ops", namespace="ops"))
        stored = await WorkflowStore(session).add(account.id, "nightly-1", SPEC)

    stored.workflow.state = "running"
    async with db.writing() as session:
        assert await WorkflowStore(session).save(stored), "an active workflow takes progress"

    async with db.writing() as session:
        assert await WorkflowStore(session).mark_deleting(stored.row_id)
        assert not await WorkflowStore(session).mark_deleting(stored.row_id), "taken once"

    stored.workflow.state = "succeeded"  # what a runner that read it before the DELETE writes
    stored.workflow.stages[0].job_id = "fetch-1"  # ... having started a stage meanwhile
    async with db.writing() as session:
        store = WorkflowStore(session)
        assert not await store.save(stored), "the DELETE wins"
        await store.note_stages(stored)

    async with db.session() as session:
        store = WorkflowStore(session)
        assert await store.get(account.id, "local", "nightly-1") is None, "hidden from reads"
        assert await store.of_account(account.id) == []
        [left] = await store.active()  # ...but the runner's to remove, with the stage's job
    assert left.deleting
    assert left.workflow.stages[0].job_id == "fetch-1"


async def test_a_finished_workflow_being_deleted_is_left_to_the_runner(db: Database) -> None:
    async with db.writing() as session:
        account = await AccountStore(session).create(AccountCreate(name="ops", namespace="ops"))
        stored = await WorkflowStore(session).add(account.id, "nightly-2", SPEC)
    stored.workflow.state = "failed"
    stored.workflow.finished_at = stored.workflow.created_at
    async with db.writing() as session:
        assert await WorkflowStore(session).save(stored)
        await WorkflowStore(session).mark_deleting(stored.row_id)
    async with db.session() as session:
        store = WorkflowStore(session)
        assert [s.row_id for s in await store.active()] == [stored.row_id]
        assert await store.finished_before(utc_now()) == [], "retention leaves it to the runner"
