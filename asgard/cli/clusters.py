"""``asgard clusters add|set|remove|show``: clusters registered at run time, over HTTP.

An entry is what a clusters file's ``[[clusters]]`` entry holds for its kind. Plain
settings may be given on the command line (``--set timeout_s=5``); secrets (a token, a
password) only in a file or on stdin (``-f entry.toml``, ``-f -``): a command line is
seen by every user of the machine (``ps``) and kept in shell histories.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from asgard.cli.errors import UsageError
from asgard.cli.output import dump
from asgard.cli.remote import add_output, remote_command
from asgard.cli.specs import read_spec

if TYPE_CHECKING:
    from asgard.client import AsgardClient
    from asgard.models import ClusterEntry

__all__ = ["register"]

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

SECRET_WORDS: Final = ("token", "password", "secret")
"""A setting whose name holds one of these is taken for a secret, whatever the kind."""


def _secret_names(kind: str | None) -> set[str]:
    """The secret fields of the kind, as installed here (none for a kind this machine lacks:
    the words above still catch the usual names)."""
    from asgard.backends.registry import installed_plugins, secret_fields

    plugins = installed_plugins()
    chosen = [plugins[kind]] if kind in plugins else list(plugins.values())
    return {name for plugin in chosen for name in secret_fields(plugin.config_model)}


def _is_secret(name: str, kind: str | None) -> bool:
    return name in _secret_names(kind) or any(w in name.lower() for w in SECRET_WORDS)


def parse_settings(pairs: list[str], kind: str | None) -> dict[str, Any]:
    """``key=value`` pairs; a value that reads as JSON (a number, true, null, a list) is
    that, any other is a string. A secret is refused: it belongs in a file or stdin."""
    found: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"not key=value: {pair!r}")
        if _is_secret(key, kind):
            raise UsageError(
                f"{key} is a secret: give it in a file or on stdin (-f FILE, -f -), never "
                "on the command line"
            )
        try:
            found[key] = json.loads(raw)
        except ValueError:
            found[key] = raw
    return found


def _from_file(name: str | None) -> dict[str, Any]:
    """The entry in a file (TOML, YAML or JSON; ``-`` is stdin): its fields, or a clusters
    file's one ``[[clusters]]`` entry."""
    if name is None:
        return {}
    data = read_spec(name)
    entries = data.get("clusters")
    if isinstance(entries, list):
        if len(entries) != 1 or not isinstance(entries[0], dict):
            raise UsageError(f"{name} must hold one [[clusters]] entry, not {len(entries)}")
        return dict(entries[0])
    return data


def _said(entry: ClusterEntry, what: str, args: argparse.Namespace) -> int:
    if args.output in ("json", "yaml"):
        print(dump(entry.model_dump(mode="json"), args.output))
        return 0
    status = entry.status
    state = f", {status.status}, version {status.version}" if status is not None else ""
    print(f"cluster {entry.name} ({entry.kind}) {what}{state}")
    return 0


async def _add(client: AsgardClient, args: argparse.Namespace) -> int:
    entry = _from_file(args.file)
    kind = args.kind or entry.get("kind")
    entry.update(parse_settings(args.set or [], kind if isinstance(kind, str) else None))
    for key, given in (("name", args.name), ("kind", args.kind)):
        if given is not None:
            entry[key] = given
        elif key not in entry:
            raise UsageError(f"the cluster's {key} is needed: --{key}, or in the file")
    return _said(await client.clusters.register(entry, check=not args.no_check), "added", args)


async def _set(client: AsgardClient, args: argparse.Namespace) -> int:
    patch = _from_file(args.file)
    patch.update(parse_settings(args.settings, None))
    if not patch:
        raise UsageError("nothing to change: give key=value pairs or -f FILE")
    return _said(await client.clusters.change(args.name, patch), "changed", args)


async def _remove(client: AsgardClient, args: argparse.Namespace) -> int:
    await client.clusters.remove(args.name)
    print(f"cluster {args.name} removed")
    return 0


async def _show(client: AsgardClient, args: argparse.Namespace) -> int:
    entry = await client.clusters.entry(args.name)
    print(dump(entry.model_dump(mode="json"), "yaml" if args.output == "table" else args.output))
    return 0


FILE_HELP: Final = (
    "the entry in a file, TOML, YAML or JSON ('-': stdin): the only way to give a secret "
    "(token, password)"
)


def register(clusters: Commands) -> None:
    add = clusters.add_parser(
        "add",
        help="register a cluster with a running Asgard (administrators); checked first",
        description="Register a cluster: the fields of a clusters file's entry for its kind. "
        "Secrets (token, passwords) only with -f FILE or -f - (stdin), never on the "
        "command line.",
    )
    add.add_argument("--name", help="the cluster's name (or in the file)")
    add.add_argument("--kind", help="docker, kubernetes, mesos... (or in the file)")
    add.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="a setting (repeatable); values read as JSON when they can be. Not for secrets",
    )
    add.add_argument("-f", "--file", help=FILE_HELP)
    add.add_argument(
        "--no-check",
        action="store_true",
        help="save it without checking that it answers and lets Asgard do what it needs",
    )
    add_output(add)
    add.set_defaults(handler=remote_command(_add))

    change = clusters.add_parser(
        "set",
        help="change a registered cluster's settings (administrators)",
        description="Change a registered cluster: KEY=VALUE replaces a setting, KEY=null "
        "puts it back to its default. Secrets only with -f FILE or -f -.",
    )
    change.add_argument("name", help="the cluster")
    change.add_argument("settings", nargs="*", metavar="KEY=VALUE", help="not for secrets")
    change.add_argument("-f", "--file", help=FILE_HELP)
    add_output(change)
    change.set_defaults(handler=remote_command(_set))

    remove = clusters.add_parser(
        "remove", help="stop serving a registered cluster (nothing on it is touched)"
    )
    remove.add_argument("name", help="the cluster")
    remove.set_defaults(handler=remote_command(_remove))

    show = clusters.add_parser("show", help="a cluster's entry, secrets shown as 'set'")
    show.add_argument("name", help="the cluster")
    add_output(show)
    show.set_defaults(handler=remote_command(_show))
