"""The two ways of working a Docker Engine, behind one ``Protocol`` per role.

A Swarm manager runs apps as services and jobs as replicated-job services, and its
agents are the Swarm's nodes; a single engine runs apps and jobs as labelled
containers it manages itself, and is its own one agent. The backends of this kind
(``agents.py``, ``apps.py``, ``jobs.py``) are written against these protocols only,
and ``Variants.current`` picks the implementation by what the engine is (learnt once
by the client, see ``EngineMode``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from asgard.artifacts import ArtifactStore
from asgard.backends.contract import LogLines, LogStream, WorkspaceMount
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.engine import EngineReader
from asgard.backends.docker.engine_deploy import EngineDeployer
from asgard.backends.docker.job_engine import EngineJobs
from asgard.backends.docker.job_status import Outcome
from asgard.backends.docker.job_swarm import SwarmJobs
from asgard.backends.docker.specs import BASELINE, Hardening
from asgard.backends.docker.swarm import SwarmReader
from asgard.backends.docker.swarm_deploy import SwarmDeployer
from asgard.models import (
    Account,
    Agent,
    App,
    AppPatch,
    AppSpec,
    AppVersion,
    Job,
    JobSpec,
    JobStatus,
    Task,
)

__all__ = ["Deployer", "JobRunner", "Reader", "Variant", "Variants"]


class Reader(Protocol):
    """Reading agents, apps and their instances."""

    async def agents(self, account: Account) -> list[Agent]: ...

    async def agent(self, account: Account, agent_id: str) -> Agent: ...

    async def agent_apps(self, account: Account, agent_id: str) -> list[App]: ...

    async def apps(self, account: Account) -> list[App]: ...

    async def app(self, account: Account, app_id: str) -> App: ...

    async def tasks(self, account: Account, app_id: str) -> list[Task]: ...

    async def versions(self, account: Account, app_id: str) -> list[AppVersion]:
        """What the engine itself keeps of the app's specs, newest first."""
        ...

    async def running_containers(self, account: Account, app_id: str) -> tuple[list[str], int]:
        """The containers of the app's running instances this engine can sample, and how
        many instances run where it cannot (other nodes of a Swarm)."""
        ...

    async def logs(
        self, account: Account, app_id: str, *, tail: int, follow: bool
    ) -> LogStream: ...

    async def task_logs(
        self,
        account: Account,
        app_id: str,
        task_id: str,
        *,
        tail: int,
        since: datetime | None,
        follow: bool,
    ) -> LogLines: ...


class Deployer(Protocol):
    """Changing apps; nothing is left behind by a change that fails."""

    async def create(self, account: Account, spec: AppSpec) -> App: ...

    async def update(self, account: Account, app_id: str, patch: AppPatch) -> App: ...

    async def restart(self, account: Account, app_id: str) -> App: ...

    async def redeploy(self, account: Account, app_id: str, spec: AppSpec) -> App:
        """Deploy an earlier spec again, as an update would."""
        ...

    async def delete(self, account: Account, app_id: str) -> None: ...


class JobRunner(Protocol):
    """Running one-time jobs; namespaces rather than accounts, since the watchers and the
    cleaning work on every account's jobs."""

    async def create(
        self,
        account: Account,
        spec: JobSpec,
        input_zip: bytes | None,
        mount: WorkspaceMount | None = None,
    ) -> str: ...

    async def get(self, namespace: str, job_id: str) -> Job: ...

    async def status(self, namespace: str, job_id: str) -> JobStatus: ...

    async def list_jobs(self, namespace: str) -> list[Job]: ...

    async def every_job(self) -> list[tuple[str, str]]:
        """(namespace, job id) of every job on the engine, whoever's."""
        ...

    async def outcome(self, namespace: str, job_id: str) -> Outcome | None:
        """How Asgard ended the job (its timeout), when it did."""
        ...

    async def is_active(self, namespace: str, job_id: str) -> bool: ...

    async def stop(self, namespace: str, job_id: str) -> None: ...

    async def collect_output(self, namespace: str, job_id: str) -> str | None: ...

    async def delete(self, namespace: str, job_id: str) -> None: ...

    async def logs(self, namespace: str, job_id: str, *, follow: bool) -> LogStream: ...


@dataclass(frozen=True)
class Variant:
    reader: Reader
    deployer: Deployer
    jobs: JobRunner


class Variants:
    """The engine and the Swarm implementations of one cluster, made once."""

    def __init__(
        self, client: DockerClient, artifacts: ArtifactStore, hardening: Hardening = BASELINE
    ) -> None:
        self.client = client
        self.artifacts = artifacts
        engine, swarm = EngineReader(client), SwarmReader(client)
        self.engine = Variant(
            engine, EngineDeployer(client, engine, hardening), EngineJobs(client, artifacts)
        )
        self.swarm = Variant(
            swarm, SwarmDeployer(client, swarm, hardening), SwarmJobs(client, artifacts)
        )

    async def current(self) -> Variant:
        return self.swarm if (await self.client.mode()).swarm else self.engine
