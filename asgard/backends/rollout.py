"""Changing an app where Asgard itself is the orchestrator: a single Docker Engine, a host
running processes (the ``local`` example kind). Written once here, for every such kind:

- placement (``unmet``): whether the one agent there is may run an app, by its owner and
  the app's constraints;
- patching (``patched``): the spec a patch asks for;
- the rollout (``deploy``): a change of the count alone adds or retires instances
  (``scale``); any other change replaces every instance, successor first (``roll``), so
  an app never runs fewer instances than it wants, and a change that fails half way is
  undone: its successors removed, the predecessors it had retired started again;
- one change of an app at a time (``AppLocks``), and a rollback refused while a change
  rolls rather than run after it with a spec chosen before it.

A kind says how one instance of its is started and ended (``Instances``); the rollout
keeps the list of an app's instances current as it goes, so a kind that reads that list
(to show tasks, to follow logs) sees each successor as soon as it runs.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from asgard.errors import Conflict
from asgard.models import Account, AppPatch, AppSpec
from asgard.models.app import split_constraint

__all__ = ["AppLocks", "Instances", "deploy", "launch", "patched", "roll", "scale", "unmet"]

I = TypeVar("I")  # noqa: E741 - one instance, whatever a kind's is


def unmet(
    attributes: Mapping[str, str], account: Account, constraints: Iterable[str], *, agent: str
) -> str | None:
    """Why the one agent there is (``agent`` names it: ``this engine``, ``this host``) may
    not run the app, or None: it must be an agent of the account's owner, if it has one,
    and its attributes must satisfy each of the app's constraints."""
    if account.owner is not None and attributes.get("owner") != account.owner:
        return f"{agent} is not an agent of owner '{account.owner}'"
    for constraint in constraints:
        attribute, op, value = split_constraint(constraint)
        if (attributes.get(attribute) == value) != (op == "=="):
            return f"{agent} does not satisfy the constraint {constraint}"
    return None


def patched(spec: AppSpec, patch: AppPatch) -> AppSpec:
    """The spec once the patch's fields replace its own (what was not sent is kept)."""
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    return AppSpec.model_validate({**spec.model_dump(), **changes})


def rescaled_only(current: AppSpec, wanted: AppSpec) -> bool:
    """Whether ``wanted`` differs from ``current`` by its count alone: the running
    instances then stay, and only the difference is started or retired."""
    return wanted.model_dump(exclude={"instances"}) == current.model_dump(exclude={"instances"})


class Instances(ABC, Generic[I]):
    """How a kind starts and ends one instance of an app: all a rollout needs of it."""

    @abstractmethod
    async def start(self, spec: AppSpec) -> I:
        """Start one instance of ``spec``; it runs when this returns, or this raises and
        leaves nothing behind."""

    @abstractmethod
    async def retire(self, instance: I) -> None:
        """Stop the instance and remove what it leaves."""

    async def discard(self, instance: I) -> None:
        """Remove a successor of a rollout that is being undone. As ``retire`` unless the
        kind can remove one faster (it need not stop gracefully: it never served alone)."""
        await self.retire(instance)

    async def steady(self, instance: I, spec: AppSpec) -> None:
        """Raise (an ``InvalidValue`` saying why) when a successor does not run steadily
        enough to replace its predecessor. Running at all is enough unless a kind says more."""
        return None


async def launch(instances: Instances[I], running: list[I], spec: AppSpec, count: int) -> None:
    """Start ``count`` instances of ``spec``, each added to ``running`` as it starts. If one
    fails, those started here are removed again and the failure raised."""
    started: list[I] = []
    try:
        for _ in range(count):
            started.append(await instances.start(spec))
            running.append(started[-1])
    except BaseException:
        for instance in started:
            running.remove(instance)
        await asyncio.gather(*(instances.discard(i) for i in started), return_exceptions=True)
        raise


async def scale(instances: Instances[I], running: list[I], spec: AppSpec) -> None:
    """Start or retire instances until ``spec.instances`` run, the newest retired first."""
    await launch(instances, running, spec, spec.instances - len(running))
    extra = running[spec.instances :]
    del running[spec.instances :]
    await asyncio.gather(*(instances.retire(i) for i in reversed(extra)))


async def roll(instances: Instances[I], running: list[I], old: AppSpec, new: AppSpec) -> None:
    """Replace each instance of ``old``, successor first; undo everything if one fails.

    A predecessor's retiring starts once its successor runs (steadily, if the kind says
    how) and is not waited for before the next successor starts: stopping takes up to a
    grace time (10 s on Docker for a process that ignores SIGTERM), which would otherwise
    add up per instance."""
    before = list(running)
    started: list[I] = []
    retiring: list[asyncio.Task[None]] = []

    def retire(instance: I) -> None:
        running.remove(instance)
        retiring.append(asyncio.create_task(instances.retire(instance)))

    try:
        for predecessor in before[: new.instances]:
            started.append(await instances.start(new))
            running.append(started[-1])
            await instances.steady(started[-1], new)
            retire(predecessor)
        for predecessor in before[new.instances :]:
            retire(predecessor)
        for _ in range(new.instances - len(before)):
            started.append(await instances.start(new))
            running.append(started[-1])
        await asyncio.gather(*retiring)
    except BaseException:
        await _undo(instances, running, old, started, retiring)
        raise


async def _undo(
    instances: Instances[I],
    running: list[I],
    old: AppSpec,
    started: list[I],
    retiring: list[asyncio.Task[None]],
) -> None:
    """Back to the instances before a rollout: its successors removed, and an instance of
    ``old`` started again for each predecessor it retired (one whose retiring failed may
    still run, and is left as it is)."""
    ended = await asyncio.gather(*retiring, return_exceptions=True)
    for successor in started:
        if successor in running:
            running.remove(successor)
    await asyncio.gather(*(instances.discard(s) for s in started), return_exceptions=True)
    for result in ended:
        if not isinstance(result, BaseException):  # that predecessor is gone
            running.append(await instances.start(old))


async def deploy(
    instances: Instances[I], running: list[I], current: AppSpec, wanted: AppSpec
) -> None:
    """Make ``running`` (instances of ``current``) instances of ``wanted``: scaled when the
    count alone changes, rolled otherwise."""
    if rescaled_only(current, wanted):
        await scale(instances, running, wanted)
    else:
        await roll(instances, running, current, wanted)


class AppLocks:
    """One change of an app at a time: a change waits for the one before it. A rollback
    does not: it is refused while a change rolls, since it would then deploy a spec chosen
    before that change ended, and there is no deployment of the cluster's own for it to
    supersede."""

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self._locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)

    def change(self, namespace: str, app_id: str) -> asyncio.Lock:
        """The lock a change of the app holds while it runs."""
        return self._locks[(namespace, app_id)]

    def busy(self, namespace: str, app_id: str) -> bool:
        """Whether a change of the app runs now."""
        return self._locks[(namespace, app_id)].locked()

    def rollback(self, namespace: str, app_id: str) -> asyncio.Lock:
        """The lock a rollback of the app holds; ``Conflict`` while a change holds it."""
        if self.busy(namespace, app_id):
            raise Conflict(
                f"app '{app_id}' is being deployed; roll back once that is done",
                cluster=self.cluster,
            )
        return self._locks[(namespace, app_id)]
