"""What a backend's conformance harness can do to its cluster, behind Asgard's back.

A harness plays the cluster's operators (and, where a cluster has no
controllers, its controllers): it seeds apps and labels agents with the
cluster's own tools, never through Asgard, so the suite checks that Asgard
reads what is really there. A new backend joins the suite by adding one
harness to ``conftest.HARNESSES``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from asgard.backends.base import ClusterOrchestrator


class Harness(ABC):
    kind: str
    agent_type: str
    orchestrator: ClusterOrchestrator
    checks_images: bool = False
    """Whether the cluster refuses an unknown image at once (Docker) or only later (pulls)."""
    jobs_take_files: bool = True
    """Whether one-time jobs take an input zip and leave their output (not through Chronos)."""
    reports_exit_codes: bool = True
    """Whether the cluster says how a job's command exited (Chronos does not)."""

    @property
    def cluster(self) -> str:
        return self.orchestrator.name

    @abstractmethod
    async def seed_app(
        self, namespace: str, app_id: str, *, instances: int, cpus: float = 0.0, mem: float = 0.0
    ) -> None:
        """Run an app of the namespace natively, and wait until its instances run."""

    @abstractmethod
    async def set_owner(self, owner: str | None) -> str:
        """Give one agent this ``owner`` attribute (None removes it); its id."""

    async def converge(self) -> None:
        """Do what the cluster's controllers would, where the test cluster has none.

        Called while a test waits for the cluster to catch up with a change Asgard
        made (a Kubernetes emulator gets its pods here); real engines need nothing."""
        return None

    @abstractmethod
    async def settle_job(
        self, namespace: str, job_id: str, *, exit_code: int, output: dict[str, bytes]
    ) -> None:
        """Make the job end as its command would: with ``exit_code``, leaving ``output`` in
        ``/output``. Where jobs really run (Docker) the command does it and this only waits;
        where nothing runs (an emulator, a fake) the harness plays the runtime, e.g. sets the
        Job's status and sends the output the way the job's own upload step would."""

    @abstractmethod
    async def leftovers(self, namespace: str, app_id: str) -> list[str]:
        """Whatever of this app is still on the cluster (objects, containers, volumes)."""

    @abstractmethod
    async def close(self) -> None: ...
