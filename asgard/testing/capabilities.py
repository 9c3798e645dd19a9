"""What a cluster says it can do, and the refusal of everything it says it cannot.

Every capability a cluster lacks is refused: each operation that needs it answers
``NotSupported`` (501, naming the kind) whatever it is asked, and a listing of it is
empty without an error. The kit checks that refusal where a cluster lacks a capability,
instead of skipping the checks of the operation."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Any, get_type_hints

import pytest

from asgard.backends.cluster import CONTRACT
from asgard.backends.operations import declared, operation_of
from asgard.errors import NotSupported
from asgard.models import (
    AppPatch,
    AppSpec,
    AppVersion,
    JobSpec,
    Schedule,
    ScheduledJobSpec,
    StatsWindow,
    WorkflowVolume,
)
from asgard.testing.common import DEV, web
from asgard.testing.coverage import refuses
from asgard.testing.harness import Harness

__all__ = ["test_the_cluster_says_what_it_can_do", "test_what_the_cluster_lacks_is_refused"]

NEEDING = [(fn, info) for owner in CONTRACT.values() for fn, info in declared(owner) if info.needs]
"""Every operation that needs a capability."""


def argument(harness: Harness, annotation: object) -> object:
    """A value of the type an operation takes: what it is asked does not matter, since it
    is refused before anything is asked of the cluster."""
    values: dict[object, Callable[[], object]] = {
        str: lambda: "kit-refused",
        int: lambda: 10,
        bool: lambda: False,
        datetime | None: lambda: None,
        bytes | None: lambda: None,
        AppSpec: lambda: web(harness, instances=1),
        AppPatch: lambda: AppPatch(instances=1),
        AppVersion: lambda: AppVersion(id="kit-1", spec=web(harness, instances=1)),
        StatsWindow: lambda: StatsWindow.ONE_HOUR,
        JobSpec: lambda: JobSpec(
            cluster=harness.cluster, name="kit", image=harness.image, command=["true"]
        ),
        WorkflowVolume: WorkflowVolume,
        ScheduledJobSpec: lambda: ScheduledJobSpec(
            cluster=harness.cluster,
            name="kit",
            image=harness.image,
            command=["true"],
            schedule=Schedule(value=harness.schedule),
        ),
    }
    assert annotation in values, f"the kit has no value of {annotation} to refuse: add one"
    return values[annotation]()


def arguments(harness: Harness, op: Callable[..., Any]) -> tuple[list[object], dict[str, object]]:
    """Positional and keyword arguments for every parameter of ``op`` without a default."""
    hints = get_type_hints(op)
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for name, parameter in list(inspect.signature(op).parameters.items())[2:]:  # self, account
        if parameter.default is not inspect.Parameter.empty:
            continue
        value = argument(harness, hints[name])
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[name] = value
        else:
            args.append(value)
    return args, kwargs


async def test_the_cluster_says_what_it_can_do(harness: Harness) -> None:
    assert harness.orchestrator.kind(DEV, harness.cluster) == harness.kind
    assert harness.orchestrator.capabilities(DEV, harness.cluster) == harness.capabilities
    assert harness.capabilities.implied() == harness.capabilities, (
        "what the cluster lacks takes what follows from it (no jobs, no job logs)"
    )
    [status] = await harness.orchestrator.statuses(DEV)
    assert status.status == "ok", status.error
    assert status.name == harness.cluster
    assert status.version
    assert status.capabilities == harness.capabilities


@refuses(*(fn for fn, _ in NEEDING))
@pytest.mark.parametrize(
    "op",
    [pytest.param(fn, id=info.name, marks=pytest.mark.cannot(*info.needs)) for fn, info in NEEDING],
)
async def test_what_the_cluster_lacks_is_refused(harness: Harness, op: Callable[..., Any]) -> None:
    """Generated for each operation that needs what the harness's cluster lacks."""
    info = operation_of(op)
    assert harness.capabilities.lacking(*info.needs)
    args, kwargs = arguments(harness, op)
    with pytest.raises(NotSupported) as refused:
        await harness.call(DEV, op, *args, **kwargs)
    assert refused.value.msg.endswith(f"is not supported on {harness.kind} clusters")
    if info.many:
        listing = await harness.listing(DEV, op)
        assert (listing.items, listing.errors) == ([], []), "a refused listing lists nothing"
