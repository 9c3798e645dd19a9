"""``asgard get agents|apps|jobs|workflows|scheduled-jobs|clusters``: one list, every page,
as a table or as data; ``--watch`` keeps it current from ``/events``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from asgard.cli.errors import UsageError
from asgard.cli.output import show
from asgard.cli.remote import add_output, remote_command
from asgard.cli.tables import table_of
from asgard.models import Agent, App, ClusterErrorInfo, ClusterStatus, Job, ScheduledJob, Workflow

if TYPE_CHECKING:
    from asgard.client import AsgardClient

__all__ = ["RESOURCES", "Resource", "register", "warn"]

Listed = tuple[list[Any], list[ClusterErrorInfo]]


def _clusters(args: argparse.Namespace) -> list[str] | None:
    return [c for c in args.cluster.split(",") if c] if args.cluster else None


def _attrs(args: argparse.Namespace) -> dict[str, str]:
    attrs = {}
    for pair in args.attr or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--attr {pair!r}: give it as KEY=VALUE")
        attrs[key] = value
    return attrs


async def _pages(first: Callable[[str | None], Awaitable[Any]], field: str) -> Listed:
    """Every page of a list, and the clusters that failed on any of them."""
    items: list[Any] = []
    errors: dict[str, ClusterErrorInfo] = {}
    cursor: str | None = None
    while True:
        page = await first(cursor)
        items.extend(getattr(page, field))
        errors.update({e.cluster: e for e in getattr(page, "errors", [])})
        cursor = page.next_cursor
        if not cursor:
            return items, list(errors.values())


async def _agents(client: AsgardClient, args: argparse.Namespace) -> Listed:
    return await _pages(
        lambda c: client.agents.page(
            cluster=_clusters(args), attrs=_attrs(args), cursor=c, stale=args.stale
        ),
        "agents",
    )


async def _apps(client: AsgardClient, args: argparse.Namespace) -> Listed:
    return await _pages(
        lambda c: client.apps.page(cluster=_clusters(args), cursor=c, stale=args.stale), "apps"
    )


async def _jobs(client: AsgardClient, args: argparse.Namespace) -> Listed:
    return await _pages(
        lambda c: client.jobs.page(
            cluster=_clusters(args), state=args.state, cursor=c, stale=args.stale
        ),
        "jobs",
    )


async def _workflows(client: AsgardClient, args: argparse.Namespace) -> Listed:
    return await _pages(
        lambda c: client.workflows.page(cluster=_clusters(args), cursor=c), "workflows"
    )


async def _scheduled(client: AsgardClient, args: argparse.Namespace) -> Listed:
    return await _pages(
        lambda c: client.scheduled_jobs.page(cluster=_clusters(args), cursor=c, stale=args.stale),
        "scheduled_jobs",
    )


async def _cluster_list(client: AsgardClient, args: argparse.Namespace) -> Listed:
    found = await client.clusters.statuses(probe=args.probe)
    wanted = _clusters(args)
    return [c for c in found if not wanted or c.name in wanted], []


@dataclass(frozen=True)
class Resource:
    model: type[BaseModel]
    fetch: Callable[[AsgardClient, argparse.Namespace], Awaitable[Listed]]
    event_kind: str | None
    """The kind of ``/events`` that changes it; None: it has none, so it cannot be watched."""


RESOURCES: dict[str, Resource] = {
    "agents": Resource(Agent, _agents, "agent"),
    "apps": Resource(App, _apps, "app"),
    "jobs": Resource(Job, _jobs, "job"),
    "workflows": Resource(Workflow, _workflows, "workflow"),
    "scheduled-jobs": Resource(ScheduledJob, _scheduled, None),
    "clusters": Resource(ClusterStatus, _cluster_list, "cluster"),
}


def warn(errors: Sequence[ClusterErrorInfo]) -> None:
    """A cluster that failed is said on stderr: the rows shown are the others'."""
    for error in errors:
        stale = f" (showing what was seen until {error.stale_since})" if error.stale_since else ""
        print(f"asgard: cluster {error.cluster}: {error.msg}{stale}", file=sys.stderr)


async def _get(client: AsgardClient, args: argparse.Namespace) -> int:
    resource = RESOURCES[args.resource]
    if args.watch and resource.event_kind is None:
        raise UsageError(
            f"{args.resource} send no events: --watch works for agents, apps, jobs, workflows "
            "and clusters"
        )
    items, errors = await resource.fetch(client, args)
    warn(errors)
    if args.watch:
        from asgard.cli.watch import watch

        return await watch(client, args, resource, items)
    show(table_of(resource.model, items), items, args.output)
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    get = commands.add_parser(
        "get",
        help="list agents, apps, jobs, workflows, scheduled jobs or clusters",
        description="Every page of the list, ordered by cluster then id. A cluster that "
        "fails is named on stderr and the others' rows are shown.",
    )
    get.add_argument("resource", choices=sorted(RESOURCES), help="what to list")
    add_output(get)
    get.add_argument("--cluster", help="only these clusters (comma-separated)")
    get.add_argument("--state", help="jobs: only those in this state (pending, running, ...)")
    get.add_argument(
        "--attr", action="append", metavar="KEY=VALUE", help="agents: only those with it"
    )
    get.add_argument(
        "--stale", action="store_true", help="what Asgard last saw of clusters that are down"
    )
    get.add_argument("--probe", action="store_true", help="clusters: ask each one now")
    get.add_argument(
        "-w",
        "--watch",
        action="store_true",
        help="keep going: redraw the table (at a terminal) or print a row per change",
    )
    get.set_defaults(handler=remote_command(_get))
