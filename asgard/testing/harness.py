"""What a backend's conformance harness can do to its cluster, behind Asgard's back.

A harness plays the cluster's operators (and, where a test cluster has no
controllers, its controllers): it seeds apps and labels agents with the cluster's
own tools, never through Asgard, so the kit checks that Asgard reads what is really
there. To run the kit against a kind, write one ``Harness`` subclass, make it the
``harness`` fixture (``asgard.testing.harness_fixture``), and import the kit's tests
into a test module (``from asgard.testing.kit import *``); ``docs/backends.rst`` shows
the whole of it with the example plugin.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import ClassVar, Concatenate, Literal, ParamSpec, TypeVar

import pytest

from asgard.backends.cluster import Cluster
from asgard.backends.contract import Backend
from asgard.backends.orchestrator import Listing, Orchestrator
from asgard.models import Account, Capabilities

__all__ = ["SERVE_FOREVER", "Harness", "Printed"]

T = TypeVar("T")
P = ParamSpec("P")
B = TypeVar("B", bound=Backend)

SERVE_FOREVER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
"""Arguments that keep an app running until it is told to stop (for images with ``sh``)."""

Printed = tuple[Literal["stdout", "stderr"], str]
"""A line a command prints, and on which stream."""


class Harness(ABC):
    name: ClassVar[str]
    """How the harness is named in test ids: ``test_x[docker-swarm]``."""
    kind: ClassVar[str]
    agent_type: ClassVar[str]
    """The ``type`` the kind gives its agents and apps (``DOCKER``)."""
    capabilities: ClassVar[Capabilities]
    """What the cluster the harness builds can do: checks that need what it cannot are not
    generated for it (``can``/``cannot`` marks), and the kit checks the cluster says so."""
    image: ClassVar[str]
    """An image the cluster can run that has ``sh``, ``sleep`` and ``cat``."""
    serve_forever: ClassVar[list[str]] = SERVE_FOREVER
    """Arguments to ``image`` that keep an app running."""
    schedule: ClassVar[str] = "0 3 * * *"
    """A schedule the cluster's own scheduler takes (``own_scheduler``): cron by default."""

    orchestrator: Orchestrator
    """An orchestrator holding the one cluster under test, started."""
    cluster: str
    """That cluster's name."""

    @classmethod
    @abstractmethod
    def running(cls, request: pytest.FixtureRequest) -> AbstractAsyncContextManager[Harness]:
        """Build the cluster (from the test session's fixtures, through ``request``) and a
        harness for it; stop both on exit."""

    async def call(
        self,
        account: Account,
        op: Callable[Concatenate[B, Account, P], Awaitable[T]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run one operation of the contract on the cluster under test."""
        return await self.orchestrator.call(account, self.cluster, op, *args, **kwargs)

    async def listing(
        self,
        account: Account,
        op: Callable[Concatenate[B, Account, P], Awaitable[Sequence[T]]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Listing[T]:
        return await self.orchestrator.fan_out(account, None, op, *args, **kwargs)

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
        ``/output``. Where jobs really run (Docker, processes) the command does it and this
        only waits; where nothing runs (an emulator, a fake) the harness plays the runtime,
        e.g. sets the Job's status and sends the output the way the job's own upload step
        would."""

    async def task_prints(
        self, namespace: str, app_id: str, task_id: str, lines: Sequence[Printed]
    ) -> None:
        """Make the task print ``lines`` now, as the command the kit gave it does
        (``asgard.testing.talk``). Where apps really run (Docker, processes) the command
        does it and this does nothing, as here; where nothing runs (an emulator, a fake)
        the harness plays the runtime: it writes the lines where the cluster keeps the
        task's log (a pod's log, a sandbox's stdout and stderr)."""
        return None

    async def job_prints(self, namespace: str, job_id: str, lines: Sequence[Printed]) -> None:
        """Make the job print ``lines``, as its command does: nothing where jobs really run,
        as here; where nothing runs, the harness writes them where the cluster keeps the
        job's log, and keeps them there once ``settle_job`` has ended it."""
        return None

    @abstractmethod
    async def leftovers(self, namespace: str, app_id: str) -> list[str]:
        """Whatever of this app is still on the cluster (objects, containers, processes)."""

    async def unsayable(self, namespace: str, app_id: str) -> None:
        """Optional: change the app on the cluster, behind Asgard's back, to a spec an
        ``AppSpec`` cannot say (a second container, a constraint Asgard does not know), so
        that the cluster keeps a version Asgard cannot roll back to. A harness that gives
        it gets the kit's check of that refusal (422); a kind that can keep nothing Asgard
        cannot say gives none."""
        raise NotImplementedError

    def misbehaving(self, url: str) -> AbstractAsyncContextManager[Cluster]:
        """Optional: a cluster of this kind, not started, whose every endpoint is ``url``
        (an HTTP server answering wrongly), closed on exit. A harness that gives it gets
        the checks of ``asgard.testing.answers``; one that does not, does not."""
        raise NotImplementedError
