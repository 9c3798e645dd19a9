"""``asgard get ... --watch``: the list, then kept current from ``/events``. At a terminal
the table is redrawn in place; into a pipe each change is one more line, so a script can
read them as they come."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from asgard.cli.output import dump, is_terminal, render_plain
from asgard.cli.tables import COLUMNS, table_of
from asgard.models import Agent, ClusterStatus, Job

if TYPE_CHECKING:
    from asgard.cli.get import Resource
    from asgard.client import AsgardClient
    from asgard.events import Event

__all__ = ["watch"]

Key = tuple[str, str]


def _key(item: Any) -> Key:
    """What ``/events`` names an item by: its cluster and id (a cluster: its name twice)."""
    if isinstance(item, ClusterStatus):
        return item.name, item.name
    return str(item.cluster), str(item.id)


def _wanted(item: Any, args: argparse.Namespace) -> bool:
    """The filters that ``/events`` does not apply itself: a job's state, an agent's
    attributes (the lists apply them; the events must be held to the same)."""
    if isinstance(item, Job) and args.state:
        return bool(item.status.state == args.state)
    if isinstance(item, Agent):
        for pair in args.attr or []:
            key, _, value = pair.partition("=")
            if item.attributes.get(key) != value:
                return False
    return True


def _emit(change: str, item: BaseModel, args: argparse.Namespace) -> None:
    """One change into a pipe: a JSON line, a YAML document, or a table row after its
    change."""
    if args.output == "json":
        print(json.dumps({"change": change, "object": item.model_dump(mode="json")}))
    elif args.output == "yaml":
        print("---\n" + dump({"change": change, "object": item.model_dump(mode="json")}, "yaml"))
    else:
        columns = COLUMNS[type(item)]
        row = columns.row(item)
        cells = row if args.output == "wide" else row[: columns.wide_from]
        print("  ".join([change.upper(), *cells]))
    sys.stdout.flush()


async def watch(
    client: AsgardClient, args: argparse.Namespace, resource: Resource, items: list[Any]
) -> int:
    from asgard.client import Notice

    current: dict[Key, Any] = {_key(i): i for i in items if _wanted(i, args)}
    live = is_terminal(sys.stdout) and args.output in ("table", "wide")
    if live:
        return await _redraw(client, args, resource, current)
    if args.output in ("table", "wide"):
        print(
            render_plain(
                table_of(resource.model, list(current.values())).narrowed(args.output == "wide")
            )
        )
    else:
        for item in current.values():
            _emit("existing", item, args)
    sys.stdout.flush()
    stream = client.events.stream(kind=[str(resource.event_kind)], cluster=_clusters(args))
    async for event in stream:
        if isinstance(event, Notice):
            print(f"asgard: {event.name}: {event.msg}", file=sys.stderr)
            continue
        change = _apply(current, resource, event, args)
        if change is not None:
            _emit(*change, args)
    return 0


def _clusters(args: argparse.Namespace) -> list[str] | None:
    return [c for c in args.cluster.split(",") if c] if args.cluster else None


def _apply(
    current: dict[Key, Any], resource: Resource, event: Event, args: argparse.Namespace
) -> tuple[str, Any] | None:
    """The event applied to the rows; what to say about it, or None when it is not one of
    the rows (filtered out, or not parseable as the resource)."""
    key = (event.cluster, event.id)
    if event.change == "deleted" or event.object is None:
        gone = current.pop(key, None)
        return None if gone is None else ("deleted", gone)
    try:
        item = resource.model.model_validate(event.object)
    except ValidationError:
        return None
    if not _wanted(item, args):
        gone = current.pop(key, None)
        return None if gone is None else ("deleted", gone)
    change = "modified" if key in current else "added"
    current[key] = item
    return change, item


async def _redraw(
    client: AsgardClient, args: argparse.Namespace, resource: Resource, current: dict[Key, Any]
) -> int:
    from rich.console import Console
    from rich.live import Live

    from asgard.cli.output import rich_table
    from asgard.client import Notice

    def draw() -> Any:
        table = table_of(resource.model, sorted(current.values(), key=_key))
        return rich_table(table.narrowed(args.output == "wide"))

    console = Console()
    stream = client.events.stream(kind=[str(resource.event_kind)], cluster=_clusters(args))
    with Live(draw(), console=console, auto_refresh=False) as screen:
        async for event in stream:
            if isinstance(event, Notice):
                console.print(f"[yellow]{event.name}[/]: {event.msg}")
                continue
            if _apply(current, resource, event, args) is not None:
                screen.update(draw(), refresh=True)
    return 0
