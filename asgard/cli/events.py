"""``asgard events`` (changes as they happen) and ``asgard audit`` (the writes made)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from asgard.cli.output import Table, dump, show, when
from asgard.cli.remote import add_output, remote_command, time_arg

if TYPE_CHECKING:
    from asgard.client import AsgardClient

__all__ = ["register"]


def _list(value: str | None) -> list[str] | None:
    return [v for v in value.split(",") if v] if value else None


async def _events(client: AsgardClient, args: argparse.Namespace) -> int:
    from asgard.client import Notice

    stream = client.events.stream(
        kind=_list(args.kind), cluster=_list(args.cluster), last_event_id=args.last_event_id
    )
    seen = 0
    async for event in stream:
        if isinstance(event, Notice):
            print(f"asgard: {event.name}: {event.msg}", file=sys.stderr)
            continue
        if args.output in ("json", "yaml"):
            data = {"event_id": stream.last_event_id, **event.model_dump(mode="json")}
            print(json.dumps(data) if args.output == "json" else "---\n" + dump(data, "yaml"))
        else:
            print(f"{when(event.at)}  {event.kind:<8} {event.change:<8} {event.cluster}/{event.id}")
        sys.stdout.flush()
        seen += 1
        if args.count and seen >= args.count:
            break
    return 0


async def _audit(client: AsgardClient, args: argparse.Namespace) -> int:
    from asgard.client import AuditFilter

    where = AuditFilter(
        account_id=args.account,
        user=args.user,
        cluster=args.cluster,
        resource=args.resource,
        action=args.action,
        since=args.since,
        until=args.until,
    )
    entries = [entry async for entry in client.audit.all(where)]
    rows = [
        [
            when(e.at),
            str(e.user or "-"),
            str(e.account or "-"),
            e.cluster or "-",
            e.resource or "-",
            e.id or "-",
            e.action,
            "-" if e.status is None else str(e.status),
            e.outcome or "-",
            e.request_id or "-",
        ]
        for e in entries
    ]
    columns = (
        "AT",
        "USER",
        "ACCOUNT",
        "CLUSTER",
        "RESOURCE",
        "ID",
        "ACTION",
        "STATUS",
        "OUTCOME",
        "REQUEST",
    )
    show(Table(columns, rows, wide_from=9), entries, args.output)
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    events = commands.add_parser(
        "events",
        help="print changes to agents, apps, tasks, jobs and workflows as they happen",
        description="Runs until interrupted (or --count events). A dropped connection is "
        "resumed where it stopped (Last-Event-ID).",
    )
    events.add_argument("--kind", help="only these kinds (comma-separated)")
    events.add_argument("--cluster", help="only these clusters (comma-separated)")
    events.add_argument("--last-event-id", help="start after this event (from -o json)")
    events.add_argument("-n", "--count", type=int, help="stop after this many events")
    add_output(events)
    events.set_defaults(handler=remote_command(_events))

    audit = commands.add_parser("audit", help="the writes made: who, what, where, how it ended")
    audit.add_argument("--account", type=int, help="an account's id (administrators)")
    audit.add_argument("--user", type=int, help="only this user's (its id)")
    audit.add_argument("--cluster")
    audit.add_argument("--resource", help="app, job, workflow, ...")
    audit.add_argument("--action", help="create, update, delete, ...")
    audit.add_argument("--since", type=time_arg, help="RFC 3339")
    audit.add_argument("--until", type=time_arg, help="RFC 3339")
    add_output(audit)
    audit.set_defaults(handler=remote_command(_audit))
