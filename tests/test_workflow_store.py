"""The workflow store's guard against a runner overwriting a DELETE, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from asgard.db.engine import Database
from asgard.db.stores import AccountStore
from asgard.models import AccountCreate, WorkflowSpec
from asgard.workflows.store import WorkflowStore

pytestmark = pytest.mark.postgres


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


async def test_a_stopped_workflow_is_not_moved_on_by_a_late_save(db: Database) -> None:
    async with db.writing() as session:
        account = await AccountStore(session).create(AccountCreate(name="ops", namespace="ops"))
        stored = await WorkflowStore(session).add(account.id, "nightly-1", SPEC)

    stored.workflow.state = "running"
    async with db.writing() as session:
        assert await WorkflowStore(session).save(stored), "an active workflow takes progress"

    async with db.writing() as session:
        await WorkflowStore(session).stop(stored.row_id, "being deleted")

    stored.workflow.state = "succeeded"  # what a runner that read it before the stop would write
    async with db.writing() as session:
        assert not await WorkflowStore(session).save(stored), "the stop wins"

    async with db.session() as session:
        after = await WorkflowStore(session).get(account.id, "local", "nightly-1")
    assert after is not None
    assert after.workflow.state == "cancelled"
    assert after.workflow.message == "being deleted"
    assert after.workflow.finished_at is not None
    assert after.finished


async def test_stop_leaves_a_finished_workflow_as_it_ended(db: Database) -> None:
    async with db.writing() as session:
        account = await AccountStore(session).create(AccountCreate(name="ops", namespace="ops"))
        stored = await WorkflowStore(session).add(account.id, "nightly-2", SPEC)
    stored.workflow.state = "failed"
    stored.workflow.message = "a stage failed: fetch"
    async with db.writing() as session:
        assert await WorkflowStore(session).save(stored)
        await WorkflowStore(session).stop(stored.row_id, "being deleted")
    async with db.session() as session:
        after = await WorkflowStore(session).get(account.id, "local", "nightly-2")
    assert after is not None
    assert (after.workflow.state, after.workflow.message) == ("failed", "a stage failed: fetch")
