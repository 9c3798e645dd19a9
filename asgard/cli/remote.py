"""Running one command against a running Asgard: a client from the saved login, the
cluster a command means, and one event loop per command."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from asgard.cli.config import remote
from asgard.cli.errors import UsageError
from asgard.cli.output import FORMATS

if TYPE_CHECKING:
    from asgard.client import AsgardClient

__all__ = [
    "add_cluster",
    "add_output",
    "cluster_of",
    "connected",
    "remote_command",
    "time_arg",
]

T = TypeVar("T")
Work = Callable[["AsgardClient", argparse.Namespace], Awaitable[int]]


def add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", choices=FORMATS, default="table", help="how to show the answer"
    )


def add_cluster(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    parser.add_argument(
        "--cluster",
        default=os.environ.get("ASGARD_CLUSTER"),
        help=help
        or "the cluster (default: $ASGARD_CLUSTER, else the only cluster the account may use)",
    )


def time_arg(value: str) -> datetime:
    """An RFC 3339 time from the command line; one without a zone is taken as UTC (the
    server wants a zone, and a person typing one usually means UTC)."""
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time: {value!r}") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


async def cluster_of(client: AsgardClient, given: str | None) -> str:
    """The cluster named, or the only one there is; with several, the user must choose."""
    if given:
        return given
    names = [c.name for c in await client.clusters.statuses()]
    if len(names) == 1:
        return names[0]
    if not names:
        raise UsageError("the account may use no cluster")
    raise UsageError(f"several clusters ({', '.join(names)}): say which with --cluster")


async def connected(args: argparse.Namespace, work: Work) -> int:
    from asgard.client import AsgardClient

    found = remote(getattr(args, "account_id", None))
    async with AsgardClient(found.url, found.token, account_id=found.account_id) as client:
        return await work(client, args)


def remote_command(work: Work) -> Callable[[argparse.Namespace], int]:
    """A handler for argparse that runs ``work`` with a connected client."""

    def handler(args: argparse.Namespace) -> int:
        return asyncio.run(connected(args, work))

    return handler
