"""``asgard migrate-names``: rename what Asgard made on clusters under names that two
namespaces could share (``<namespace>-<name>``), once, where the server runs.

Only Chronos needs it. Docker objects say their namespace in a label, so those made
under the old names are found and managed as they are (and get the new name when they
are next redeployed); Kubernetes namespaces and Marathon groups never collided.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from asgard.cli.errors import UsageError

if TYPE_CHECKING:
    from asgard.backends.mesos.renames import Rename
    from asgard.db.engine import Database
    from asgard.settings import Settings

__all__ = ["migrate_names", "register"]


async def _namespaces(settings: Settings) -> set[str]:
    from asgard.cli.admin import with_db
    from asgard.services.accounts import AccountsService
    from asgard.services.principal import SYSTEM

    async def work(db: Database) -> set[str]:
        return {a.namespace for a in await AccountsService(db).every_account(SYSTEM)}

    return await with_db(settings, work)


async def migrate_names(
    settings: Settings, *, assigned: dict[str, str], apply: bool
) -> tuple[list[str], bool]:
    """One line per Chronos job to rename (or left alone, and why); whether all went."""
    from asgard.backends.mesos.client import MesosClient
    from asgard.backends.mesos.renames import rename_old_jobs
    from asgard.clusters import build_fleet, cluster_configs

    namespaces = await _namespaces(settings)
    fleet = await build_fleet(await cluster_configs(settings), settings.backend_context())
    lines: list[str] = []
    complete = True
    try:
        for name, cluster in fleet.clusters.items():
            client = cluster.client
            if not isinstance(client, MesosClient) or client.chronos.url is None:
                continue
            plan = await rename_old_jobs(client.chronos, namespaces, assigned=assigned, apply=apply)
            lines.extend(_said(name, r, apply) for r in plan)
            complete = complete and all(r.new is not None for r in plan)
    finally:
        await fleet.close()
    return lines or ["nothing to rename"], complete


def _said(cluster: str, rename: Rename, applied: bool) -> str:
    if rename.new is None:
        return f"{cluster}: {rename.old} left as it is: {rename.reason}"
    return f"{cluster}: {rename.old} -> {rename.new}{'' if applied else ' (dry run)'}"


def _assignments(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        job, sep, namespace = pair.partition("=")
        if not sep or not job or not namespace:
            raise UsageError(f"--assign takes JOB=NAMESPACE, not {pair!r}")
        found[job] = namespace
    return found


def _migrate_names(args: argparse.Namespace) -> int:
    from asgard.cli.admin import settings_of

    lines, complete = asyncio.run(
        migrate_names(settings_of(args), assigned=_assignments(args.assign), apply=not args.dry_run)
    )
    print("\n".join(lines))
    return 0 if complete else 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "migrate-names",
        help="rename Chronos jobs named <namespace>-<name> to <namespace>_<name> (once)",
    )
    command.add_argument("--config", type=Path, help="TOML file listing the clusters")
    command.add_argument("--dry-run", action="store_true", help="say what would be renamed")
    command.add_argument(
        "--assign",
        action="append",
        default=[],
        metavar="JOB=NAMESPACE",
        help="whose an old name is, when it fits several namespaces (team-b-x: team or team-b)",
    )
    command.set_defaults(handler=_migrate_names)
