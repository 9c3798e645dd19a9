"""``asgard jobs run IMAGE [-- CMD...]``: a one-time job, with a folder as its ``/input``;
with ``--wait`` its logs as they come, its ``/output`` in a folder, and its exit code as
the command's own."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import re
import sys
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from asgard.cli.errors import UsageError
from asgard.cli.progress import transfer
from asgard.cli.remote import add_cluster, cluster_of, remote_command

if TYPE_CHECKING:
    from asgard.client import AsgardClient
    from asgard.models import Job

__all__ = ["exit_code_of", "register", "zip_folder"]

OUTPUT_GRACE_S: Final = 30.0
"""How long a finished job's output may take to be collected before it is fetched."""


def zip_folder(folder: Path) -> bytes:
    """Everything under ``folder``, by path relative to it (what the job finds at /input)."""
    if not folder.is_dir():
        raise UsageError(f"--input {folder}: not a folder")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def name_of(image: str) -> str:
    """A job name from its image, ``registry/team/tool:1.2`` -> ``tool``: a DNS label."""
    base = image.rsplit("/", 1)[-1].split("@")[0].split(":")[0].lower()
    label = re.sub(r"[^a-z0-9-]+", "-", base).strip("-")[:40].strip("-")
    return label or "job"


def _env(pairs: list[str] | None) -> dict[str, str]:
    env = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env {pair!r}: give it as KEY=VALUE")
        env[key] = value
    return env


def exit_code_of(job: Job) -> int:
    """The job's exit code; 1 for a job that failed or was cancelled without one."""
    if job.status.exit_code is not None:
        return job.status.exit_code
    return 0 if job.status.state == "succeeded" else 1


async def _print_logs(client: AsgardClient, job: Job, *, follow: bool, skip: int) -> int:
    """The job's lines after the first ``skip`` (a job's log is always read from its
    start); how many lines it has had in all."""
    seen = 0
    async for line in client.jobs.logs(job.cluster, job.id, follow=follow):
        seen += 1
        if seen > skip:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
    return max(seen, skip)


async def _stream_logs(client: AsgardClient, job: Job) -> None:
    """The job's lines until it ends, each once. A followed log can end before the job
    does (its container not started yet, or not there: 404), so it is followed again
    until the job has finished, and read once more then for the last lines."""
    from asgard.client import NotFound

    printed = 0
    while True:
        with contextlib.suppress(NotFound):
            printed = await _print_logs(client, job, follow=True, skip=printed)
        if (await client.jobs.get(job.cluster, job.id)).status.finished:
            with contextlib.suppress(NotFound):
                await _print_logs(client, job, follow=False, skip=printed)
            return
        await asyncio.sleep(0.5)


async def _download(client: AsgardClient, job: Job, folder: Path) -> None:
    from asgard.client import NotFound

    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    target = folder / f".{job.id}-output.zip"
    deadline = time.monotonic() + OUTPUT_GRACE_S
    with transfer(f"output of {job.id}") as progress:
        while True:
            try:
                await client.jobs.download_output(job.cluster, job.id, target, progress)
                break
            except NotFound:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
    with zipfile.ZipFile(target) as archive:
        archive.extractall(folder)
    target.unlink()


async def _run(client: AsgardClient, args: argparse.Namespace) -> int:
    cluster = await cluster_of(client, args.cluster)
    spec: dict[str, Any] = {
        "cluster": cluster,
        "name": args.name or name_of(args.image),
        "image": args.image,
        "env": _env(args.env),
        "retries": args.retries,
    }
    if args.cmd:
        spec["command"] = args.cmd
    if args.timeout:
        spec["timeout_s"] = args.timeout
    input_zip = zip_folder(args.input) if args.input else None
    if input_zip is None:
        job = await client.jobs.create(spec)
    else:
        with transfer(f"input from {args.input}") as progress:
            job = await client.jobs.create(spec, input_zip, progress)
    if not (args.wait or args.output):
        print(job.id)
        return 0
    print(f"job {job.id} created on {job.cluster}", file=sys.stderr)
    await _stream_logs(client, job)
    job = await client.jobs.wait(job.cluster, job.id, poll_s=0.5)
    print(
        f"job {job.id} {job.status.state}: {job.status.message or ''}".rstrip(": "), file=sys.stderr
    )
    if args.output:
        await _download(client, job, args.output)
    return exit_code_of(job)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser("jobs", help="one-time jobs").add_subparsers(
        dest="jobs_command", required=True, metavar="command"
    )
    run = group.add_parser(
        "run",
        usage="asgard jobs run IMAGE [options] [-- CMD...]",
        help="run a one-time job; with --wait, exit with its exit code",
        description="Without --wait the job's id is printed and the command returns. With "
        "--wait (or --output) its logs are printed as they come and the command exits "
        "with the job's exit code. What follows -- is the command (the image's own "
        "entrypoint when there is none).",
    )
    run.add_argument("image")
    add_cluster(run)
    run.add_argument("--name", help="the job's name (default: from the image)")
    run.add_argument("--input", type=Path, help="a folder, sent as a zip, found at /input")
    run.add_argument("--output", type=Path, help="a folder to put /output in (implies --wait)")
    run.add_argument("--wait", action="store_true", help="wait for the end, printing the logs")
    run.add_argument("--env", action="append", metavar="KEY=VALUE")
    run.add_argument("--timeout", type=float, help="stop the job after this many seconds")
    run.add_argument("--retries", type=int, default=0)
    run.set_defaults(handler=remote_command(_run), takes_command=True, cmd=[])
