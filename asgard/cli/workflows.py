"""``asgard workflows run -f FILE [--wait]``: stages of jobs from a file."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from asgard.cli.remote import add_cluster, cluster_of, remote_command
from asgard.cli.specs import read_spec

if TYPE_CHECKING:
    from asgard.client import AsgardClient
    from asgard.models import Workflow

__all__ = ["register"]

FINISHED = frozenset({"succeeded", "failed", "cancelled"})


def _report(workflow: Workflow, seen: dict[str, str]) -> None:
    """Each stage's state when it changes, on stderr."""
    for stage in workflow.stages:
        if seen.get(stage.name) != stage.state:
            seen[stage.name] = stage.state
            why = f" ({stage.message})" if stage.message and stage.state != "running" else ""
            print(f"stage {stage.name}: {stage.state}{why}", file=sys.stderr)


async def _wait(client: AsgardClient, workflow: Workflow, poll_s: float = 0.5) -> Workflow:
    seen: dict[str, str] = {}
    while True:
        _report(workflow, seen)
        if workflow.state in FINISHED:
            return workflow
        await asyncio.sleep(poll_s)
        workflow = await client.workflows.get(workflow.cluster, workflow.id)


async def _run(client: AsgardClient, args: argparse.Namespace) -> int:
    spec = read_spec(args.file, args.cluster)
    spec["cluster"] = await cluster_of(client, spec.get("cluster"))
    workflow = await client.workflows.create(spec)
    if not args.wait:
        print(workflow.id)
        return 0
    print(f"workflow {workflow.id} created on {workflow.cluster}", file=sys.stderr)
    workflow = await _wait(client, workflow)
    print(f"workflow {workflow.id} {workflow.state}", file=sys.stderr)
    print(workflow.id)
    return 0 if workflow.state == "succeeded" else 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser("workflows", help="multi-stage jobs").add_subparsers(
        dest="workflows_command", required=True, metavar="command"
    )
    run = group.add_parser(
        "run",
        help="run a workflow from a file; with --wait, exit 0 only if it succeeded",
    )
    run.add_argument(
        "-f", "--file", required=True, help="WorkflowSpec as TOML, YAML or JSON; - is stdin"
    )
    add_cluster(run)
    run.add_argument("--wait", action="store_true", help="wait for the end, saying each stage")
    run.set_defaults(handler=remote_command(_run))
