"""Workflows of an account: create, read, list, delete. The runner moves them on."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable

from asgard.backends.contract import JobsBackend
from asgard.backends.orchestrator import Listing, Orchestrator
from asgard.db.engine import Database
from asgard.errors import InvalidValue, NotFound, NotSupported
from asgard.models import Role, Workflow, WorkflowSpec
from asgard.services.listing import ListRequest, paged
from asgard.services.pagination import ClusterPage
from asgard.services.principal import Principal
from asgard.workflows.store import WorkflowStore

DELETE_WAIT_S = 20.0
"""How long a DELETE waits for the runner to have removed everything before it answers
202 (accepted, still going) instead of 204."""
DELETE_POLL_S = 0.1


def new_workflow_id(name: str) -> str:
    return f"{name[:50]}-{secrets.token_hex(4)}"


class WorkflowsService:
    def __init__(
        self, orchestrator: Orchestrator, db: Database, poke: Callable[[], None] | None = None
    ) -> None:
        self.orchestrator = orchestrator
        self.db = db
        self.poke = poke or (lambda: None)

    async def create(self, principal: Principal, spec: WorkflowSpec) -> Workflow:
        account = principal.require(Role.OPERATOR)
        if not self.orchestrator.capabilities(account, spec.cluster).workflow_volumes:
            raise NotSupported(
                self.orchestrator.kind(account, spec.cluster),
                "workflows (their stages hand files to each other)",
                cluster=spec.cluster,
            )
        names = [s.name for s in spec.stages]
        if len(set(names)) != len(names):
            raise InvalidValue("stage names must be unique in a workflow", field="stages")
        self.orchestrator.admit(account, spec.cluster, *spec.stages)
        workflow_id = new_workflow_id(spec.name)
        # The shared volume is made now, not by the runner: a cluster that is down or a
        # volume it refuses is the caller's answer (502, 422), with nothing stored.
        await self.orchestrator.call(
            account, spec.cluster, JobsBackend.create_workspace, workflow_id, spec.volume
        )
        try:
            async with self.db.writing() as session:
                stored = await WorkflowStore(session).add(account.id, workflow_id, spec)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.orchestrator.call(
                    account, spec.cluster, JobsBackend.delete_workspace, workflow_id
                )
            raise
        self.poke()
        self.db.notices.publish("workflows")  # the runner and the feeds of every process
        return stored.workflow

    async def get(self, principal: Principal, cluster: str, workflow_id: str) -> Workflow:
        account = principal.require(Role.VIEWER)
        async with self.db.session() as session:
            stored = await WorkflowStore(session).get(account.id, cluster, workflow_id)
        if stored is None or not account.may_use(cluster):
            raise NotFound(f"workflow '{workflow_id}' not found", cluster=cluster)
        return stored.workflow

    async def stage_job(
        self, principal: Principal, cluster: str, workflow_id: str, stage: str
    ) -> str:
        """The job id of a stage that has started."""
        flow = await self.get(principal, cluster, workflow_id)
        found = next((s for s in flow.stages if s.name == stage), None)
        if found is None:
            raise NotFound(f"workflow '{workflow_id}' has no stage '{stage}'", cluster=cluster)
        if found.job_id is None:
            raise NotFound(f"stage '{stage}' has not started ({found.state})", cluster=cluster)
        return found.job_id

    async def list_workflows(
        self, principal: Principal, asked: ListRequest
    ) -> ClusterPage[Workflow]:
        """Kept by Asgard, not by the clusters: never stale, and no cluster's error."""
        account = principal.require(Role.VIEWER)
        async with self.db.session() as session:
            found = await WorkflowStore(session).of_account(account.id)
        clusters = asked.clusters
        flows = [
            s.workflow
            for s in found
            if account.may_use(s.workflow.cluster)
            and (clusters is None or s.workflow.cluster in clusters)
        ]
        return paged(Listing(items=flows), asked)

    async def delete(self, principal: Principal, cluster: str, workflow_id: str) -> bool:
        """Hands the workflow to the runner, which stops the running stage and removes every
        stage's job and files, then the workflow; True once all of it is gone, False when
        the runner is still at it after ``DELETE_WAIT_S`` (a cluster that does not answer,
        a volume still in use): it goes on, and the workflow is hidden meanwhile."""
        account = principal.require(Role.OPERATOR)
        async with self.db.writing() as session:
            store = WorkflowStore(session)
            stored = await store.get(account.id, cluster, workflow_id)
            if stored is None or not account.may_use(cluster):
                raise NotFound(f"workflow '{workflow_id}' not found", cluster=cluster)
            if not await store.mark_deleting(stored.row_id):
                raise NotFound(f"workflow '{workflow_id}' not found", cluster=cluster)
        self.poke()
        self.db.notices.publish("workflows")  # the runner may be another process's
        deadline = time.monotonic() + DELETE_WAIT_S
        while time.monotonic() < deadline:
            async with self.db.session() as session:
                if await WorkflowStore(session).by_row(stored.row_id) is None:
                    return True
            await asyncio.sleep(DELETE_POLL_S)
        return False
