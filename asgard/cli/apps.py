"""``asgard apps deploy|scale|restart|rollback|versions|logs``.

An app is named by its id and its cluster: ``--cluster`` (or ``$ASGARD_CLUSTER``), and
when neither is given, the only cluster the account may use. With several clusters and
no ``--cluster`` the command is refused (exit 2) with their names."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, Final

from asgard.cli.errors import UsageError
from asgard.cli.output import Table, dump, show, when
from asgard.cli.remote import add_cluster, add_output, cluster_of, remote_command, time_arg
from asgard.cli.specs import read_spec

if TYPE_CHECKING:
    from asgard.client import AsgardClient
    from asgard.models import App

__all__ = ["register"]

PATCHABLE: Final = ("instances", "image", "cmd", "args", "env", "labels", "resources")
"""What PATCH takes; ports and constraints are fixed once an app exists."""


def said(app: App, what: str, args: argparse.Namespace) -> int:
    if args.output in ("json", "yaml"):
        print(dump(app.model_dump(mode="json"), args.output))
    else:
        running = f"{app.instances.running}/{app.instances.desired} running"
        print(f"app {app.id} {what} on {app.cluster} ({app.status}, {running})")
    return 0


async def _deploy(client: AsgardClient, args: argparse.Namespace) -> int:
    from asgard.client import NotFound

    spec = read_spec(args.file, args.cluster)
    if not isinstance(spec.get("id"), str):
        raise UsageError(f"{args.file} names no app: it needs an 'id'")
    cluster = spec["cluster"] = await cluster_of(client, spec.get("cluster"))
    try:
        existing = await client.apps.get(cluster, spec["id"])
    except NotFound:
        return said(await client.apps.create(spec), "created", args)
    fixed = [
        name
        for name in ("ports", "constraints")
        if name in spec and spec[name] != getattr(existing, name) and spec[name] != []
    ]
    if fixed:
        print(
            f"asgard: {' and '.join(fixed)} cannot change on an existing app; "
            "delete it and deploy again to change them",
            file=sys.stderr,
        )
    patch: dict[str, Any] = {name: spec[name] for name in PATCHABLE if name in spec}
    return said(await client.apps.update(cluster, spec["id"], patch), "updated", args)


async def _scale(client: AsgardClient, args: argparse.Namespace) -> int:
    if args.instances < 0:
        raise UsageError("the number of instances cannot be negative")
    cluster = await cluster_of(client, args.cluster)
    return said(await client.apps.scale(cluster, args.id, args.instances), "scaled", args)


async def _restart(client: AsgardClient, args: argparse.Namespace) -> int:
    cluster = await cluster_of(client, args.cluster)
    return said(await client.apps.restart(cluster, args.id), "restarted", args)


async def _rollback(client: AsgardClient, args: argparse.Namespace) -> int:
    cluster = await cluster_of(client, args.cluster)
    app = await client.apps.rollback(cluster, args.id, args.version)
    to = f"version {args.version}" if args.version else "the previous version"
    return said(app, f"rolled back to {to}", args)


async def _versions(client: AsgardClient, args: argparse.Namespace) -> int:
    cluster = await cluster_of(client, args.cluster)
    versions = await client.apps.versions(cluster, args.id)
    rows = [
        [
            str(v.id),
            when(v.created_at),
            v.by or "-",
            str(v.spec_field("image") or "-"),
            str(v.spec_field("instances")),
            " ".join(v.spec_field("args") or v.spec_field("cmd") or []) or "-",
            v.unsupported or "-",
        ]
        for v in versions
    ]
    columns = ("VERSION", "CREATED", "BY", "IMAGE", "INSTANCES", "ARGS", "CANNOT ROLL BACK")
    table = Table(columns, rows, wide_from=5)
    show(table, versions, args.output)
    return 0


async def _logs(client: AsgardClient, args: argparse.Namespace) -> int:
    cluster = await cluster_of(client, args.cluster)
    lines: Any
    if args.task:
        lines = client.apps.task_logs(
            cluster, args.id, args.task, tail=args.tail, follow=args.follow, since=args.since
        )
    else:
        lines = client.apps.logs(
            cluster,
            args.id,
            tail=args.tail,
            follow=args.follow,
            all_tasks=args.all_tasks or args.since is not None,
            since=args.since,
        )
    async for line in lines:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    return 0


def _one(group: Any, name: str, help: str, handler: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(name, help=help)
    add_cluster(parser)
    parser.set_defaults(handler=remote_command(handler))
    return parser


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser("apps", help="deploy and operate apps").add_subparsers(
        dest="apps_command", required=True, metavar="command"
    )
    deploy = _one(group, "deploy", "create an app from a file, or update it if it exists", _deploy)
    deploy.add_argument(
        "-f", "--file", required=True, help="AppSpec as TOML, YAML or JSON; - is stdin"
    )
    add_output(deploy)

    scale = _one(group, "scale", "set how many instances run", _scale)
    scale.add_argument("id", help="the app's id")
    scale.add_argument("instances", type=int, help="0 suspends the app and keeps it")
    add_output(scale)

    restart = _one(group, "restart", "replace every instance", _restart)
    restart.add_argument("id")
    add_output(restart)

    rollback = _one(group, "rollback", "deploy an earlier version again", _rollback)
    rollback.add_argument("id")
    rollback.add_argument("--version", help="the version (default: the one before the current)")
    add_output(rollback)

    versions = _one(group, "versions", "the app's deployed versions, newest first", _versions)
    versions.add_argument("id")
    add_output(versions)

    logs = _one(group, "logs", "the app's output", _logs)
    logs.add_argument("id")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.add_argument(
        "--all-tasks", action="store_true", help="every task's lines in time order, labelled"
    )
    logs.add_argument("--task", help="only this task's lines")
    logs.add_argument("--tail", type=int, default=100, help="lines from the end (default 100)")
    logs.add_argument(
        "--since",
        type=time_arg,
        help="only lines after this RFC 3339 time (UTC when it has no zone); implies "
        "--all-tasks unless --task is given",
    )
